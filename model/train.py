"""Train sc2-mini: the small StarCoder2-architecture FIM model shipped in model/.

Why this exists: StarCoder2 weights cannot be downloaded everywhere, yet the
project must complete real code offline, in tests and in benches.  This script
trains, on CPython's standard library found on this machine (PSF licence, no
other code), a byte-level BPE tokenizer with StarCoder2's special tokens and a
few-million-parameter ``Starcoder2ForCausalLM`` in StarCoder2's repo-level
``<file_sep>`` format with the fill-in-the-middle objective.  The result in
``model/sc2-mini/`` loads with plain ``AutoModelForCausalLM`` /
``AutoTokenizer.from_pretrained``, exactly like ``bigcode/starcoder2-3b``.

Steps (see model/README.md for the exact commands used):

    python model/train.py --tokenizer-only      # tokenizer -> model/sc2-mini
    python model/train.py --minutes 100         # train, checkpoint, export
    python model/train.py --minutes 100 --resume

Everything random is seeded (``--seed``): file order, FIM spans, init.  Data
is built in shards of samples, each from its own seed, cached in model/work/.
Checkpoints (model/checkpoints/, git-ignored) also export the current weights
to model/sc2-mini/, so a usable model exists whenever the run is stopped.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import math
import random
import re
import shutil
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sc2_lsp.bench.holdout import STDLIB_HOLDOUT

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
CHECKPOINTS = HERE / "checkpoints"
EXPORT = HERE / "sc2-mini"
LOSS_CSV = HERE / "loss.csv"

# StarCoder2's special tokens take the first ids, in StarCoder2's order.
SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<fim_prefix>",
    "<fim_middle>",
    "<fim_suffix>",
    "<fim_pad>",
    "<repo_name>",
    "<file_sep>",
)
EOT, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX, FIM_PAD, REPO_NAME, FILE_SEP = range(7)
REPO = "cpython"

# Directories that are tests, generated code, data tables or other projects.
EXCLUDED_DIRS = {
    "test", "tests", "idlelib", "encodings", "site-packages", "pydoc_data",
    "lib-dynload", "__pycache__", "__phello__", "ensurepip",
}
# Single modules that are mostly data tables or not code a user writes.
EXCLUDED_FILES = {"stringprep.py", "html/entities.py", "this.py", "keyword.py", "token.py"}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Source:
    """One training file: its stdlib-relative path and its text."""

    path: str
    text: str


def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def is_training_file(rel: Path) -> bool:
    """Whether a stdlib file may be trained on (see the exclusions above)."""
    parts = rel.parts
    if any(p in EXCLUDED_DIRS or p.startswith("config-") for p in parts[:-1]):
        return False
    name = rel.as_posix()
    return not (
        name in STDLIB_HOLDOUT
        or name in EXCLUDED_FILES
        or rel.name.startswith(("_sysconfigdata", "test_"))
    )


def training_sources() -> list[Source]:
    """All training files, sorted by path so every run sees the same list."""
    root = stdlib_root()
    sources = []
    for file in sorted(root.rglob("*.py")):
        rel = file.relative_to(root)
        if is_training_file(rel):
            text = file.read_text(encoding="utf-8", errors="replace")
            if text.strip():
                sources.append(Source(rel.as_posix(), text))
    return sources


def holdout_sources() -> list[Source]:
    root = stdlib_root()
    return [Source(p, (root / p).read_text(encoding="utf-8")) for p in STDLIB_HOLDOUT]


# ---------------------------------------------------------------------- tokenizer


def train_tokenizer(sources: list[Source], vocab_size: int, out: Path) -> None:
    """Byte-level BPE like StarCoder2's: digits split one by one, no prefix space.

    Byte-level pre-tokenization makes decode(encode(x)) == x for any text, so
    completions can be spliced into the editor buffer verbatim.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator((s.text for s in sources), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=SPECIAL_TOKENS[EOT],
        eos_token=SPECIAL_TOKENS[EOT],
        unk_token=SPECIAL_TOKENS[EOT],
        pad_token=SPECIAL_TOKENS[EOT],
        additional_special_tokens=list(SPECIAL_TOKENS[1:]),
        clean_up_tokenization_spaces=False,
        model_max_length=16384,
    )
    fast.save_pretrained(out)
    write_compat_files(out)


def write_compat_files(out: Path) -> None:
    """Name the class and special tokens the way transformers 4.x also reads them."""
    config_path = out / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    # Written by save_pretrained, not settings.
    for runtime_only in ("is_local", "local_files_only"):
        config.pop(runtime_only, None)
    config["additional_special_tokens"] = list(SPECIAL_TOKENS[1:])
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    names = dict.fromkeys(("bos_token", "eos_token", "unk_token", "pad_token"), SPECIAL_TOKENS[EOT])
    names["additional_special_tokens"] = list(SPECIAL_TOKENS[1:])
    (out / "special_tokens_map.json").write_text(json.dumps(names, indent=2) + "\n")


# ------------------------------------------------------------------- FIM samples


def line_bounds(text: str, pos: int) -> tuple[int, int]:
    """Start of the line holding ``pos`` and the index of its "\\n" (or len)."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, (len(text) if end < 0 else end)


def statement_line_starts(text: str) -> list[int]:
    """Offsets of the lines where a statement starts (docstrings left out).

    The ``stdlib-sl`` bench masks such lines, so most one-line FIM spans are
    drawn from them rather than from comments and docstring prose.
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    lines = {
        node.lineno - 1
        for node in ast.walk(tree)
        if isinstance(node, ast.stmt) and not is_docstring(node)
    }
    return [starts[i] for i in sorted(lines) if i < len(starts)]


def is_docstring(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def indent_end(text: str, start: int, end: int) -> int:
    """Index of the first non-blank character of the line [start, end)."""
    i = start
    while i < end and text[i] in " \t":
        i += 1
    return i


class SampleBuilder:
    """Turns stdlib files into token sequences of at most ``seq_len``.

    Half of the samples are FIM (PSM), half left-to-right; half of each carry
    the repo-level header with context files from the same package.  FIM
    middles are chosen the way an editor user asks for code: the rest of one
    line (mostly a statement's) from its first non-blank character (the prefix then ends with the
    line's indentation, tokenized on its own exactly as at a real cursor),
    the rest of a line from mid-line, a block of 2-8 whole lines, or a random
    character span; a third of them start earlier, where token healing cuts
    (see ``healed_start``).
    """

    MAX_MIDDLE = 160
    MAX_HEAL_CHARS = 32  # the engine backs off to one token for longer pre-tokens
    MAX_HEAL_LOOKBACK = 128

    def __init__(self, sources: list[Source], tokenizer, seq_len: int):
        self.sources = sources
        self.tok = tokenizer
        self.seq_len = seq_len
        self.weights = np.cumsum([len(s.text) for s in sources])
        self.by_dir: dict[str, list[int]] = {}
        for i, s in enumerate(sources):
            self.by_dir.setdefault(s.path.rpartition("/")[0], []).append(i)
        self.repo_ids = self.encode(REPO)
        self.statements = [statement_line_starts(s.text) for s in sources]

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text, add_special_tokens=False).ids

    def head(self, text: str, budget: int) -> list[int]:
        """The first ``budget`` tokens of ``text`` (tokenizing only what is needed)."""
        return self.encode(text[: budget * 6])[:budget] if budget > 0 else []

    def tail(self, text: str, budget: int) -> list[int]:
        """The last ``budget`` tokens of ``text``."""
        if budget <= 0:
            return []
        ids = self.encode(text[-budget * 6:])
        return ids[-budget:]

    def pick_source(self, rng: random.Random) -> int:
        """A file index, chosen in proportion to its length (uniform over code)."""
        return int(np.searchsorted(self.weights, rng.random() * self.weights[-1], side="right"))

    def sample(self, rng: random.Random) -> list[int]:
        index = self.pick_source(rng)
        header = self.repo_header(index, rng) if rng.random() < 0.5 else None
        if rng.random() < 0.5:
            return self.fim_sample(index, header, rng)
        return self.l2r_sample(index, header, rng)

    def repo_header(self, index: int, rng: random.Random) -> list[int]:
        """``<repo_name>cpython`` plus heads of 0-3 files from the same package."""
        ids = [REPO_NAME, *self.repo_ids]
        budget = int(self.seq_len * rng.uniform(0.0, 0.45))
        folder = self.sources[index].path.rpartition("/")[0]
        siblings = [i for i in self.by_dir[folder] if i != index]
        rng.shuffle(siblings)
        for i in siblings[:3]:
            if budget < 32:
                break
            src = self.sources[i]
            chunk = [FILE_SEP, *self.head(f"{src.path}\n{src.text}", budget - 1)]
            ids += chunk
            budget -= len(chunk)
        return ids

    def fim_span(self, index: int, rng: random.Random) -> tuple[int, int]:
        """A middle span; a third of them start where token healing would cut."""
        text = self.sources[index].text
        start, end = self.editor_span(text, self.statements[index], rng)
        if rng.random() < 0.35:
            start = self.healed_start(text, start)
        return start, end

    def healed_start(self, text: str, cursor: int) -> int:
        """Start of the last pre-token before ``cursor``, where the engine's token
        healing cuts the prompt (then re-types the cut text as the first generated
        tokens): at a line's indentation, that is the end of the previous line."""
        lo = max(0, cursor - self.MAX_HEAL_LOOKBACK)
        pieces = self.tok.pre_tokenizer.pre_tokenize_str(text[lo:cursor])
        start = lo + pieces[-1][1][0] if pieces else cursor
        return start if cursor - start <= self.MAX_HEAL_CHARS else cursor

    def editor_span(self, text: str, statements: list[int], rng: random.Random) -> tuple[int, int]:
        """[start, end) of the middle, mostly aligned to what editors request."""
        kind = rng.random()
        if kind < 0.3 and statements:  # rest of a statement's line, from its first non-blank
            pos = rng.choice(statements)
        else:
            pos = rng.randrange(len(text))
        start, end = line_bounds(text, pos)
        first = indent_end(text, start, end)
        if kind < 0.45 and first < end:  # rest of any line, from its first non-blank
            return first, end
        if kind < 0.60 and pos < end:  # rest of a line from mid-line
            return max(pos, first), end
        if kind < 0.80 and first < end:  # 2-8 whole lines
            last = end
            for _ in range(rng.randint(1, 7)):
                nxt = text.find("\n", last + 1)
                if nxt < 0:
                    break
                last = nxt
            return first, last
        length = min(int(rng.expovariate(1 / 60)) + 1, len(text) - pos)
        return pos, pos + length

    def fim_sample(self, index: int, header: list[int] | None, rng: random.Random) -> list[int]:
        src = self.sources[index]
        start, end = self.fim_span(index, rng)
        middle = self.encode(src.text[start:end])
        if len(middle) > self.MAX_MIDDLE:
            middle = middle[: self.MAX_MIDDLE]
            end = start + len(self.tok.decode(middle))
        lead = ([*header, FILE_SEP, FIM_PREFIX, *self.encode(f"{src.path}\n")] if header
                else [FIM_PREFIX])
        room = self.seq_len - len(lead) - len(middle) - 3
        share = 0.0 if rng.random() < 0.1 else rng.uniform(0.1, 0.5)
        suffix = self.head(src.text[end:], int(room * share))
        prefix = self.tail(src.text[:start], room - len(suffix))
        return [*lead, *prefix, FIM_SUFFIX, *suffix, FIM_MIDDLE, *middle, EOT]

    def l2r_sample(self, index: int, header: list[int] | None, rng: random.Random) -> list[int]:
        """A file from its start (with its ``<file_sep>path``) or a window of it."""
        src = self.sources[index]
        lead = header or []
        room = self.seq_len - len(lead)
        if rng.random() < 0.3:
            body = [FILE_SEP, *self.head(f"{src.path}\n{src.text}", room), EOT]
        else:
            start, _ = line_bounds(src.text, rng.randrange(len(src.text)))
            body = self.head(src.text[start:], room)
        return (lead + body)[: self.seq_len]


class ShardedData:
    """Batches for step ``s``: samples [s*B, (s+1)*B) of a deterministic stream.

    Sample ``i`` lives in shard ``i // shard_size``, built from its own seed and
    cached on disk, so a resumed run sees exactly the batches it would have.
    """

    def __init__(self, builder: SampleBuilder, seed: int, shard_size: int):
        self.builder = builder
        self.seed = seed
        self.shard_size = shard_size
        self.cached: tuple[int, np.ndarray, np.ndarray] | None = None

    def shard(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.cached and self.cached[0] == k:
            return self.cached[1], self.cached[2]
        path = WORK / f"shard-s{self.seed}-L{self.builder.seq_len}-n{self.shard_size}-{k:05d}.npz"
        if not path.exists():
            self.build(k, path)
        data = np.load(path)
        self.cached = (k, data["ids"], data["lengths"])
        return data["ids"], data["lengths"]

    def build(self, k: int, path: Path) -> None:
        rng = random.Random(self.seed * 1_000_003 + k)
        seq_len = self.builder.seq_len
        ids = np.full((self.shard_size, seq_len), EOT, dtype=np.uint16)
        lengths = np.zeros(self.shard_size, dtype=np.int32)
        for row in range(self.shard_size):
            sample = self.builder.sample(rng)
            ids[row, : len(sample)] = sample
            lengths[row] = len(sample)
        WORK.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, ids=ids, lengths=lengths)
        tmp.rename(path)

    def batch(self, step: int, batch_size: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        """input_ids, labels (padding = -100) and the number of real tokens."""
        first = step * batch_size
        ids, lengths = self.shard(first // self.shard_size)
        rows = slice(first % self.shard_size, first % self.shard_size + batch_size)
        x = torch.from_numpy(ids[rows].astype(np.int64))
        n = torch.from_numpy(lengths[rows].astype(np.int64))
        labels = x.masked_fill(torch.arange(x.shape[1])[None, :] >= n[:, None], -100)
        return x, labels, int(n.sum())


def validation_set(builder: SampleBuilder, count: int, seed: int
                   ) -> list[tuple[list[int], list[int], list[int]]]:
    """Line-completion FIM cases from the holdout files: (prefix, suffix, middle).

    Cut like the ``stdlib-sl`` bench: the prefix ends after a line's
    indentation, the middle is the rest of the line, the suffix starts at "\\n".
    """
    rng = random.Random(seed)
    sources = holdout_sources()
    cases = []
    while len(cases) < count:
        text = rng.choice(sources).text
        start, end = line_bounds(text, rng.randrange(len(text)))
        first = indent_end(text, start, end)
        if first == end:
            continue
        middle = builder.encode(text[first:end])[: builder.MAX_MIDDLE]
        room = builder.seq_len - len(middle) - 4
        suffix = builder.head(text[end:], room // 4)
        cases.append((builder.tail(text[:first], room - len(suffix)), suffix, middle))
    return cases


@torch.no_grad()
def middle_loss(model, cases, with_suffix: bool) -> float:
    """Mean loss on the middle tokens, with or without the suffix in the prompt."""
    model.eval()
    total, count = 0.0, 0
    for prefix, suffix, middle in cases:
        prompt = [FIM_PREFIX, *prefix, FIM_SUFFIX, *(suffix if with_suffix else []), FIM_MIDDLE]
        ids = torch.tensor([prompt + middle + [EOT]])
        labels = ids.clone()
        labels[0, : len(prompt)] = -100
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = model(input_ids=ids, labels=labels).loss
        total += float(loss) * (len(middle) + 1)
        count += len(middle) + 1
    model.train()
    return total / count


# ------------------------------------------------------------------------ model


def build_model(args, vocab_size: int):
    from transformers import Starcoder2Config, Starcoder2ForCausalLM

    config = Starcoder2Config(
        vocab_size=vocab_size,
        hidden_size=args.hidden,
        intermediate_size=args.hidden * 4,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        num_key_value_heads=args.kv_heads,
        max_position_embeddings=16384,
        sliding_window=4096,
        use_bias=True,
        hidden_act="gelu_pytorch_tanh",
        norm_epsilon=1e-5,
        tie_word_embeddings=True,
        bos_token_id=EOT,
        eos_token_id=EOT,
        pad_token_id=EOT,
        residual_dropout=0.0,
        embedding_dropout=0.0,
        attention_dropout=0.0,
    )
    config.sc2_trained_context = args.seq_len  # sc2-lsp caps its prompts at this
    # ... and opens the middle this many lines above the cursor's (see the model card)
    config.sc2_middle_lines = 3
    torch.manual_seed(args.seed)
    return Starcoder2ForCausalLM(config)


def make_optimizer(model, lr: float):
    """AdamW; no weight decay on biases, norms and embeddings."""
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embed" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "embed" not in n)]
    groups = [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95), eps=1e-8)


def learning_rate(args, step: int, progress: float) -> float:
    """Linear warmup, then cosine decay to 10% over the run's progress in [0, 1]."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    return args.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * min(progress, 1.0))))


def export(model, tokenizer) -> None:
    """Write the current weights + tokenizer to model/sc2-mini atomically."""
    tmp = HERE / "sc2-mini.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    write_compat_files(tmp)
    old = HERE / "sc2-mini.old"
    shutil.rmtree(old, ignore_errors=True)
    if EXPORT.exists():
        EXPORT.rename(old)
    tmp.rename(EXPORT)
    shutil.rmtree(old, ignore_errors=True)


def save_checkpoint(model, optimizer, state: dict) -> None:
    CHECKPOINTS.mkdir(parents=True, exist_ok=True)
    tmp = CHECKPOINTS / "last.pt.tmp"
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "state": state}, tmp)
    tmp.rename(CHECKPOINTS / "last.pt")


def train(args) -> None:
    from transformers import AutoTokenizer

    torch.set_num_threads(args.threads)
    tokenizer = AutoTokenizer.from_pretrained(EXPORT)
    builder = SampleBuilder(training_sources(), tokenizer.backend_tokenizer, args.seq_len)
    data = ShardedData(builder, args.seed, args.shard_size)
    val = validation_set(builder, args.val_cases, args.seed)
    model = build_model(args, len(tokenizer))
    optimizer = make_optimizer(model, args.lr)
    state = {"step": 0, "tokens": 0, "seconds": 0.0}
    if args.resume and (CHECKPOINTS / "last.pt").exists():
        ckpt = torch.load(CHECKPOINTS / "last.pt", weights_only=True)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        state = ckpt["state"]
    elif LOSS_CSV.exists():
        LOSS_CSV.unlink()
    params = sum(p.numel() for p in model.parameters())
    print(f"params {params:,}  files {len(builder.sources)}  resume at step {state['step']}",
          flush=True)
    budget = args.minutes * 60
    log = CsvLog(LOSS_CSV)
    log.truncate(state["step"])
    last_save = time.monotonic()
    model.train()
    while state["seconds"] < budget and state["step"] < args.max_steps:
        t0 = time.monotonic()
        x, labels, ntok = data.batch(state["step"], args.batch)
        lr = learning_rate(args, state["step"], state["seconds"] / budget)
        for group in optimizer.param_groups:
            group["lr"] = lr
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = model(input_ids=x, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        dt = time.monotonic() - t0
        state["step"] += 1
        state["tokens"] += ntok
        state["seconds"] += dt
        row = {"step": state["step"], "tokens": state["tokens"],
               "minutes": round(state["seconds"] / 60, 2),
               "lr": f"{lr:.2e}", "loss": round(loss.item(), 4), "tok_s": round(ntok / dt)}
        checkpoint_due = time.monotonic() - last_save > args.checkpoint_minutes * 60
        if checkpoint_due or state["seconds"] >= budget or state["step"] >= args.max_steps:
            row["val_fim"] = round(middle_loss(model, val, with_suffix=True), 4)
            row["val_prefix_only"] = round(middle_loss(model, val, with_suffix=False), 4)
            save_checkpoint(model, optimizer, state)
            export(model, tokenizer)
            last_save = time.monotonic()
            print(f"checkpoint + export at step {state['step']}", flush=True)
        if state["step"] % args.log_every == 0 or "val_fim" in row:
            log.write(row)
            print(row, flush=True)


class CsvLog:
    """Appends training rows to the loss CSV (one header, resumable)."""

    FIELDS = ("step", "tokens", "minutes", "lr", "loss", "tok_s", "val_fim", "val_prefix_only")

    def __init__(self, path: Path):
        self.path = path
        if not path.exists():
            with path.open("w", newline="") as f:
                csv.DictWriter(f, self.FIELDS).writeheader()

    def truncate(self, step: int) -> None:
        """Drop rows logged after the checkpoint a resumed run restarts from."""
        with self.path.open(newline="") as f:
            rows = [r for r in csv.DictReader(f) if int(r["step"]) <= step]
        with self.path.open("w", newline="") as f:
            writer = csv.DictWriter(f, self.FIELDS)
            writer.writeheader()
            writer.writerows(rows)

    def write(self, row: dict) -> None:
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, self.FIELDS).writerow(row)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tokenizer-only", action="store_true",
                   help="train and save the tokenizer, then stop")
    p.add_argument("--vocab-size", type=int, default=8192)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--kv-heads", type=int, default=2)
    p.add_argument("--seq-len", type=int, default=512)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--minutes", type=float, default=100,
                   help="wall-time budget; the cosine schedule spans it")
    p.add_argument("--max-steps", type=int, default=10**9)
    p.add_argument("--shard-size", type=int, default=2048)
    p.add_argument("--checkpoint-minutes", type=float, default=8)
    p.add_argument("--val-cases", type=int, default=96)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--threads", type=int, default=1,
                   help="1 wastes least CPU when the machine is shared; 2 is faster on an idle one")
    p.add_argument("--resume", action="store_true")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    if args.tokenizer_only:
        train_tokenizer(training_sources(), args.vocab_size, EXPORT)
        return
    train(args)


if __name__ == "__main__":
    main()

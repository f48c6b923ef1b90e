"""Quick self-check of model/sc2-mini on held-out single-line completions.

Not the project's quality bench (``sc2-lsp bench quality --tasks stdlib-sl``):
a dependency-free probe for the trainer, to see during and after training
whether exact match is moving and whether the suffix helps.  Tasks are cut
like ``stdlib-sl``: the prefix ends after the indentation of a non-blank line
of a held-out module, the gold middle is the rest of that line, the suffix
starts with its "\\n".  Prompts are file-level FIM, trimmed to the context the
model was trained on.

    python model/selfcheck.py --tasks 200
"""

import argparse
import random
import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from train import EOT, FILE_SEP, FIM_MIDDLE, FIM_PAD, FIM_PREFIX, FIM_SUFFIX, holdout_sources, indent_end, line_bounds  # noqa: E402

STOP_IDS = [EOT, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX, FIM_PAD, FILE_SEP]


def tasks(count: int, seed: int) -> list[tuple[str, str, str]]:
    """(prefix, suffix, gold) line tasks drawn uniformly over held-out lines."""
    rng = random.Random(seed)
    lines = []
    for src in holdout_sources():
        text, pos = src.text, 0
        while pos < len(text):
            start, end = line_bounds(text, pos)
            first = indent_end(text, start, end)
            if first < end:
                lines.append((text[:first], text[end:], text[first:end]))
            pos = end + 1
    return rng.sample(lines, count)


def complete(model, tok, prefix: str, suffix: str | None, budget: int) -> str:
    """Greedy first line of the completion; ``suffix=None`` means prefix-only."""
    suffix_ids = tok.encode(suffix[:2000], add_special_tokens=False)[: budget // 4] if suffix is not None else []
    prefix_ids = tok.encode(prefix[-8000:], add_special_tokens=False)[-(budget - len(suffix_ids)):]
    ids = [FIM_PREFIX, *prefix_ids, FIM_SUFFIX, *suffix_ids, FIM_MIDDLE]
    out = model.generate(torch.tensor([ids]), max_new_tokens=40, do_sample=False,
                         eos_token_id=STOP_IDS, pad_token_id=EOT, stop_strings=["\n"], tokenizer=tok)
    new = [t for t in out[0, len(ids):].tolist() if t not in STOP_IDS]
    return tok.decode(new).split("\n", 1)[0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(HERE / "sc2-mini"))
    p.add_argument("--tasks", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget", type=int, default=440, help="prompt tokens (the model trained on 512)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    tok = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model).eval()
    hits = {"fim": 0, "prefix-only": 0}
    cases = tasks(args.tasks, args.seed)
    for i, (prefix, suffix, gold) in enumerate(cases):
        for name, suf in (("fim", suffix), ("prefix-only", None)):
            hits[name] += complete(model, tok, prefix, suf, args.budget).strip() == gold.strip()
        if i < 5:
            print(f"gold {gold.strip()!r}  fim {complete(model, tok, prefix, suffix, args.budget).strip()!r}")
    for name, n in hits.items():
        print(f"{name}: exact match {n}/{len(cases)} = {n / len(cases):.1%}")


if __name__ == "__main__":
    main()

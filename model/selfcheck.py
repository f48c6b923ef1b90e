"""Quick self-check of model/sc2-mini on held-out single-line completions.

Not the project's quality bench (``sc2-lsp bench quality --tasks stdlib-sl``):
a bare probe for the trainer, to see during and after training whether exact
match is moving and whether the suffix helps.  It draws from the very
``stdlib-sl`` tasks (a statement line of a held-out module masked after its
indentation) but sends a plain file-level FIM prompt trimmed to the context
the model was trained on: no retrieval, no token healing, no post-processing.

    python model/selfcheck.py --tasks 100
"""

import argparse
import random
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from sc2_lsp.bench.tasks import load_tasks

HERE = Path(__file__).resolve().parent
EOT, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX, FIM_PAD, REPO_NAME, FILE_SEP = range(7)
STOP_IDS = [EOT, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX, FIM_PAD, FILE_SEP]


def tasks(count: int, seed: int) -> list[tuple[str, str, str]]:
    """(prefix, suffix, gold) of ``count`` stdlib-sl tasks picked with ``seed``."""
    chosen = random.Random(seed).sample(load_tasks("stdlib-sl"), count)
    return [(t.prefix, t.suffix, t.middle) for t in chosen]


def complete(model, tok, prefix: str, suffix: str | None, budget: int) -> str:
    """Greedy first line of the completion; ``suffix=None`` means prefix-only."""
    suffix_ids = (tok.encode(suffix[:2000], add_special_tokens=False)[: budget // 4]
                  if suffix is not None else [])
    prefix_ids = tok.encode(prefix[-8000:], add_special_tokens=False)[-(budget - len(suffix_ids)):]
    ids = [FIM_PREFIX, *prefix_ids, FIM_SUFFIX, *suffix_ids, FIM_MIDDLE]
    out = model.generate(torch.tensor([ids]), max_new_tokens=40, do_sample=False,
                         eos_token_id=STOP_IDS, pad_token_id=EOT, stop_strings=["\n"],
                         tokenizer=tok)
    new = [t for t in out[0, len(ids):].tolist() if t not in STOP_IDS]
    return tok.decode(new).split("\n", 1)[0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(HERE / "sc2-mini"))
    p.add_argument("--tasks", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget", type=int, default=440,
                   help="prompt tokens (the model trained on 512)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    tok = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model).eval()
    hits = {"fim": 0, "prefix-only": 0}
    cases = tasks(args.tasks, args.seed)
    for i, (prefix, suffix, gold) in enumerate(cases):
        for name, suf in (("fim", suffix), ("prefix-only", None)):
            got = complete(model, tok, prefix, suf, args.budget)
            hits[name] += got.strip() == gold.strip()
            if i < 5:
                print(f"{name:12} gold {gold.strip()!r}  got {got.strip()!r}")
    for name, n in hits.items():
        print(f"{name}: exact match {n}/{len(cases)} = {n / len(cases):.1%}")


if __name__ == "__main__":
    main()

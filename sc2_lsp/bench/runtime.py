"""Runtime bench: what one prefill and one decode step cost, per model and
quantization, and how much KV reuse saves (docs/architecture.md, benches).

cold_prefill_ms: the whole prompt into an empty cache. reuse_prefill_ms: the
same prompt already cached plus 8 new tokens. Both through the engine's own
decode loop, so what is measured is what a keystroke costs. greedy_agreement: the share
of `none`'s 32 greedy tokens a quantized model reproduces before its first different one
(meaningful for trained weights; random ones only give speed). load_avg: the machine's
1-minute load while measuring, since timings on a shared machine are only comparable
with it.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import statistics
import sys
import sysconfig
from pathlib import Path

from ..engine import GenerationRequest, LocalEngine
from ..engine.kvcache import common_prefix_length
from ..flags import settings_from_args
from .report import markdown_table, progress, write_outputs

COLUMNS = ["model", "quant", "dtype", "prompt_tokens", "cold_prefill_ms", "reuse_prefill_ms",
           "reuse_speedup", "prefill_tok_s", "decode_tok_s", "decode_step_ms", "footprint_mb",
           "greedy_agreement", "peak_rss_mb", "load_avg"]
APPENDED = 8
DECODE_TOKENS = 32
QUANT_LIST = True  # --quant none,int4,int8-torch,nf4 compares quantizations in one run
REFERENCE = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prompt-tokens", default="512,1024,2048",
                        help="comma-separated prompt lengths")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")


def run(args: argparse.Namespace) -> int:
    """Every quantization loaded at once and measured in turns, so a busy machine slows
    them alike and their ratios hold; `none` first, the reference for greedy agreement."""
    quants = sorted(dict.fromkeys(args.quants), key=lambda q: q != REFERENCE)
    lengths = [int(n) for n in args.prompt_tokens.split(",")]
    model = settings_from_args(args).model_spec()
    engines = [LocalEngine.load(dataclasses.replace(model, quant=quant), _loading(quant))
               for quant in quants]
    corpus = _code_tokens(engines[0], max(lengths) + APPENDED)
    rows = []
    for n in progress(lengths, desc=f"runtime {engines[0].loaded.name} {','.join(quants)}"):
        samples = [[] for _ in engines]
        for _ in range(args.repeat):
            for engine, taken in zip(engines, samples, strict=True):
                taken.append(_sample(engine, corpus, n))
        reference = samples[0][0]["tokens"] if quants[0] == REFERENCE else None
        rows += [_row(engine, n, taken, reference)
                 for engine, taken in zip(engines, samples, strict=True)]
    data = {"rows": rows}
    md = "# Runtime bench\n\n" + markdown_table(rows, COLUMNS)
    write_outputs(args.out, "runtime", data, md)
    print(md)
    return 0


def _loading(quant: str):
    """Load progress on stderr: quantizing a large model takes a while."""
    def report(pct: int, message: str) -> None:
        print(f"[{quant}] {pct:3d}% {message}", file=sys.stderr, flush=True)
    return report


def _sample(engine: LocalEngine, corpus: list[int], n: int) -> dict:
    """One cold prefill, one +8 reuse prefill, one plain greedy decode of 32 tokens."""
    engine.pool.clear()
    cold = _prefill_ms(engine, corpus[:n])
    reuse = _prefill_ms(engine, corpus[:n + APPENDED])
    engine.pool.clear()
    engine.generate(GenerationRequest(corpus[:n], max_new_tokens=1))
    gen = engine.generate(GenerationRequest(corpus[:n], max_new_tokens=DECODE_TOKENS,
                                            speculate=False))
    decode = gen.stats["generated_tokens"] / max(gen.stats["decode_ms"], 1e-6) * 1e3
    return {"cold": cold, "reuse": reuse, "decode": decode, "tokens": gen.token_ids,
            "load": os.getloadavg()[0]}


def _row(engine: LocalEngine, n: int, samples: list[dict], reference: list[int] | None) -> dict:
    loaded = engine.loaded
    cold_ms = statistics.median(s["cold"] for s in samples)
    reuse_ms = statistics.median(s["reuse"] for s in samples)
    decode = statistics.median(s["decode"] for s in samples)
    return {
        "model": loaded.name, "quant": loaded.quant,
        "dtype": str(loaded.dtype).removeprefix("torch."), "prompt_tokens": n,
        "cold_prefill_ms": round(cold_ms, 2), "reuse_prefill_ms": round(reuse_ms, 2),
        "reuse_speedup": round(cold_ms / max(reuse_ms, 1e-6), 1),
        "prefill_tok_s": round(n / cold_ms * 1e3, 1),
        "decode_tok_s": round(decode, 2), "decode_step_ms": round(1e3 / max(decode, 1e-6), 2),
        "footprint_mb": round(loaded.footprint_mb, 2),
        "greedy_agreement": _agreement(samples[0]["tokens"], reference),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_avg": round(statistics.median(s["load"] for s in samples), 2),
    }


def _agreement(tokens: list[int], reference: list[int] | None) -> float | None:
    """The share of the reference's greedy tokens this model produced before diverging
    (after a first different token, the two continue different texts)."""
    if reference is None:
        return None
    return round(common_prefix_length(tokens, reference) / max(len(reference), 1), 3)


def _prefill_ms(engine: LocalEngine, prompt: list[int]) -> float:
    return engine.generate(GenerationRequest(prompt, max_new_tokens=1)).stats["prefill_ms"]


def _code_tokens(engine: LocalEngine, n: int) -> list[int]:
    """Real code as the prompt: standard-library source, as many tokens as needed."""
    tokens: list[int] = []
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        tokens += engine.encode(path.read_text(encoding="utf-8", errors="replace"))
        if len(tokens) >= n:
            return tokens[:n]
    raise RuntimeError("not enough standard-library source for the prompt")

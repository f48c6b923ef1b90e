"""Runtime bench: what one prefill and one decode step cost, per model and
quantization, and how much KV reuse saves (DESIGN.md §3, runtime shape).

cold_prefill_ms: the whole prompt into an empty cache. reuse_prefill_ms: the
same prompt already cached plus 8 new tokens. Both through the engine's own
decode loop, so what is measured is what a keystroke costs.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import statistics
import sysconfig
from pathlib import Path

from ..cli import settings_from_args
from ..engine import GenerationRequest, LocalEngine
from .report import markdown_table, progress, write_outputs

COLUMNS = ["model", "quant", "dtype", "prompt_tokens", "cold_prefill_ms", "reuse_prefill_ms",
           "reuse_speedup", "prefill_tok_s", "decode_tok_s", "footprint_mb", "peak_rss_mb"]
APPENDED = 8
DECODE_TOKENS = 32
QUANT_LIST = True  # --quant none,int8,nf4 compares quantizations in one run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prompt-tokens", default="512,1024,2048",
                        help="comma-separated prompt lengths")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")


def run(args: argparse.Namespace) -> int:
    lengths = [int(n) for n in args.prompt_tokens.split(",")]
    model = settings_from_args(args).model_spec()
    rows = []
    for quant in args.quants:
        engine = LocalEngine.load(dataclasses.replace(model, quant=quant))
        corpus = _code_tokens(engine, max(lengths) + APPENDED)
        for n in progress(lengths, desc=f"runtime {engine.loaded.name} {quant}"):
            rows.append(_measure(engine, corpus, n, args.repeat))
        del engine
    data = {"rows": rows}
    md = "# Runtime bench\n\n" + markdown_table(rows, COLUMNS)
    write_outputs(args.out, "runtime", data, md)
    print(md)
    return 0


def _measure(engine: LocalEngine, corpus: list[int], n: int, repeat: int) -> dict:
    cold, reuse, decode = [], [], []
    for _ in range(repeat):
        engine.pool.clear()
        cold.append(_prefill_ms(engine, corpus[:n]))
        reuse.append(_prefill_ms(engine, corpus[:n + APPENDED]))
        engine.pool.clear()
        engine.generate(GenerationRequest(corpus[:n], max_new_tokens=1))
        gen = engine.generate(GenerationRequest(corpus[:n], max_new_tokens=DECODE_TOKENS,
                                                speculate=False))
        decode.append(gen.stats["generated_tokens"] / max(gen.stats["decode_ms"], 1e-6) * 1e3)
    loaded = engine.loaded
    cold_ms, reuse_ms = statistics.median(cold), statistics.median(reuse)
    return {
        "model": loaded.name, "quant": loaded.quant,
        "dtype": str(loaded.dtype).removeprefix("torch."), "prompt_tokens": n,
        "cold_prefill_ms": round(cold_ms, 2), "reuse_prefill_ms": round(reuse_ms, 2),
        "reuse_speedup": round(cold_ms / max(reuse_ms, 1e-6), 1),
        "prefill_tok_s": round(n / cold_ms * 1e3, 1),
        "decode_tok_s": round(statistics.median(decode), 2),
        "footprint_mb": round(loaded.footprint_mb, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


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

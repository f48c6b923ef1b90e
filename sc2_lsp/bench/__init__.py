"""`sc2-lsp bench quality|latency|runtime|context`: each bench is a module with
`add_arguments(parser)` and `run(args) -> int`, writing DIR/<bench>.json and .md."""

from __future__ import annotations

import argparse
import importlib
import importlib.util

BENCHES = {
    "quality": "completion quality on FIM task sets (exact match, edit similarity, pass@1)",
    "latency": "typing replay through the real server over stdio, against baselines",
    "runtime": "cold vs reused prefill, decode speed, memory, per model and quantization",
    "soak": "a long typing replay: answered and failed requests, latency, RSS over keys",
    "context": "the prompt of every task as the server builds it, and context recall",
}


def add_bench_parser(parser: argparse.ArgumentParser) -> None:
    from ..cli import add_model_options

    sub = parser.add_subparsers(dest="bench", required=True)
    for name, help_text in BENCHES.items():
        if importlib.util.find_spec(f"{__name__}.{name}") is None:
            continue
        module = importlib.import_module(f"{__name__}.{name}")
        bench = sub.add_parser(name, help=help_text, description=help_text)
        bench.add_argument("--out", type=str, required=True, help="output directory")
        add_model_options(bench, quant_list=getattr(module, "QUANT_LIST", False))
        module.add_arguments(bench)
        bench.set_defaults(run=module.run)

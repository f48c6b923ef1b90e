"""`sc2-lsp serve | complete | bench` (DESIGN.md §3, CLI).

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

from .config import CHOICES, parse_settings

log = logging.getLogger("sc2_lsp")


def add_model_options(parser: argparse.ArgumentParser, quant_list: bool = False) -> None:
    """The model options every subcommand shares (`quant_list`: --quant takes a list)."""
    group = parser.add_argument_group("model")
    group.add_argument("--model", default=None,
                       help="local folder, hub id, or random:starcoder2-3b|7b|15b|tiny "
                            "(default: $SC2_MODEL, else the embedded model)")
    if quant_list:
        group.add_argument("--quant", default="none", help="comma-separated: none,int8,nf4")
    else:
        group.add_argument("--quant", choices=CHOICES["quant"], default="none")
    group.add_argument("--dtype", choices=CHOICES["dtype"], default="auto")
    group.add_argument("--device", choices=CHOICES["device"], default="auto")
    group.add_argument("--allow-download", action="store_true",
                       help="let a hub id be downloaded (offline by default)")
    group.add_argument("--threads", type=int, default=0,
                       help="CPU threads for torch (0: one for small models, else all cores)")
    group.add_argument("--engine", choices=CHOICES["engine"], default="local",
                       help="local: the model in this process; openai: an OpenAI-compatible "
                            "server (vLLM) at --endpoint, serving --model")
    group.add_argument("--endpoint", default=None,
                       help="the server's base URL, e.g. http://127.0.0.1:8000/v1 "
                            "(API key: $SC2_API_KEY)")
    group.add_argument("--tokenizer", default=None,
                       help="with --engine openai: the model's tokenizer, a local folder or "
                            "hub id (default: --model)")


def add_pipeline_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("completion")
    group.add_argument("--context-tokens", type=int, default=2048)
    group.add_argument("--max-new-tokens", type=int, default=64)
    group.add_argument("--multiline", choices=CHOICES["multiline"], default="auto")
    group.add_argument("--prompt-format", choices=CHOICES["prompt_format"], default="repo")
    group.add_argument("--no-context", action="store_true", help="no cross-file snippets")
    group.add_argument("--no-postprocess", action="store_true")
    group.add_argument("--no-token-healing", action="store_true")
    group.add_argument("--deadline-ms", type=int, default=600_000)


def settings_from_args(args: argparse.Namespace):
    """Settings from the flags that were defined on this subcommand."""
    names = {"model": "model", "quant": "quant", "dtype": "dtype", "device": "device",
             "allow_download": "allowDownload", "threads": "threads", "engine": "engine",
             "endpoint": "endpoint", "tokenizer": "tokenizer",
             "context_tokens": "contextTokens",
             "max_new_tokens": "maxNewTokens", "multiline": "multiline",
             "prompt_format": "promptFormat", "deadline_ms": "deadlineMs"}
    options = {key: getattr(args, attr) for attr, key in names.items()
               if getattr(args, attr, None) is not None}
    for flag, key in (("no_context", "context"), ("no_postprocess", "postprocess"),
                      ("no_token_healing", "tokenHealing")):
        if hasattr(args, flag):
            options[key] = not getattr(args, flag)
    settings, problem = parse_settings(options)
    if problem:
        raise UsageError(problem)
    return settings


class UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sc2-lsp", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", choices=CHOICES["log_level"], default="info")
    parser.add_argument("--log-file", type=Path, default=None, help="log here, not to stderr")
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="run the language server on stdio (the default)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP (for debugging)")
    add_model_options(serve)

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
    add_pipeline_options(complete)

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
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", **target)
    # pygls logs every JSON-RPC message at INFO: only worth it when debugging.
    if args.log_level != "debug":
        logging.getLogger("pygls").setLevel(logging.WARNING)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def serve(args: argparse.Namespace) -> int:
    from .server import create_server, leave

    settings = settings_from_args(args) if args.command == "serve" else None
    server = create_server(settings)
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

    settings = settings_from_args(args)
    path = args.file.resolve()
    if not path.is_file():
        raise UsageError(f"no such file: {args.file}")
    text = path.read_bytes().decode("utf-8", errors="replace")
    store = DocumentStore()
    doc = store.open(path.as_uri(), text)
    offset = doc.offset_at(args.line, args.character, args.encoding)
    if offset is None:
        raise UsageError(f"position {args.line}:{args.character} is outside {args.file}")
    engine = open_engine(settings)
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

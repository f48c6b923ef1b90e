"""`python -m sc2_lsp.demo`: the product end to end, in a terminal.

Starts the real server (default model: the embedded one) over stdio, opens a
sample file in a small workspace, types a few characters one at a time, and
prints each suggestion with its latency and where it came from.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import textwrap
from pathlib import Path

from .bench.lsp_client import EditorSession, server_command

UTIL = textwrap.dedent('''\
    """Helpers for reading simple 'Name: value' headers."""


    def parse_header(line: str) -> tuple[str, str]:
        """Split a 'Name: value' line into its stripped name and value."""
        name, _, value = line.partition(":")
        return name.strip(), value.strip()
    ''')
APP = textwrap.dedent('''\
    from util import parse_header


    def read_headers(lines):
        headers = {}
        for line in lines:
            if not line.strip():
                break
    ''')
TYPED = "        name, value = parse_header(line)\n        headers[name] = value\n"


async def run_demo(options: dict, keystrokes: int) -> int:
    with tempfile.TemporaryDirectory(prefix="sc2-demo-") as tmp:
        workspace = Path(tmp)
        (workspace / "util.py").write_text(UTIL)
        app = workspace / "app.py"
        app.write_text(APP)
        editor = EditorSession()
        await editor.start(workspace, options, server_command(workspace / "server.log"))
        print("loading model ...", flush=True)
        status = await editor.wait_ready()
        for kind, pct, msg in editor.progress:
            print(f"  $/progress {kind:6} {'' if pct is None else f'{pct:3d}%'} {msg or ''}")
        if status["state"] != "ready":
            print(f"model failed to load: {status['error']}", file=sys.stderr)
            await editor.stop()
            return 1
        print(f"model: {status['model']} on {status['device']} ({status['dtype']}, "
              f"{status['memory_mb']} MB)\n")
        uri = editor.open(app, APP)
        await type_and_complete(editor, uri, APP, TYPED[:keystrokes])
        counters = (await editor.status())["counters"]
        print(f"\n{counters['requests']} requests: {counters['model_calls']} model calls, "
              f"{counters['cache_hits']} cache hits, {counters['typing_through']} typing-through;"
              f" mean {counters['mean_ms']} ms, p95 {counters['p95_ms']} ms")
        await editor.stop()
    return 0


async def type_and_complete(editor: EditorSession, uri: str, text: str, typed: str) -> None:
    line, col = text.count("\n"), 0
    print(f"{'typed':>42} | {'ms':>7} | {'source':<14} | {'prefill':>7} | {'reused':>6} | "
          "suggestion")
    so_far = ""
    for char in typed:
        so_far = (so_far + char).rsplit("\n", 1)[-1]
        editor.edit(uri, (line, col), (line, col), char)
        line, col = (line + 1, 0) if char == "\n" else (line, col + 1)
        items, ms = await editor.inline(uri, line, col)
        stats = (await editor.status())["last"]
        shown = items[0].insert_text if items else ""
        print(f"{_visible(so_far or char)[-42:]:>42} | {ms:7.1f} | "
              f"{stats.get('source', '-'):<14} | "
              f"{stats.get('prefilled_tokens', 0):7} | {stats.get('reused_tokens', 0):6} | "
              f"{_visible(shown)[:60]}")


def _visible(text: str) -> str:
    return text.replace("\n", "\\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sc2_lsp.demo", description=__doc__)
    parser.add_argument("--model", default=None, help="default: the embedded model")
    parser.add_argument("--keystrokes", type=int, default=len(TYPED))
    args = parser.parse_args(argv)
    options = {"model": args.model} if args.model else {}
    return asyncio.run(run_demo(options, args.keystrokes))


if __name__ == "__main__":
    sys.exit(main())

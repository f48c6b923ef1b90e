"""Soak bench: a long typing replay through `sc2-lsp serve` over stdio, watching for what
only shows after thousands of keystrokes: requests left unanswered or failed, latency
creeping up, memory that keeps growing.

The text typed is the package's own source, file after file (each file a document that is
opened, typed into up to ``--doc-chars`` characters, and closed), a completion request after
every keystroke, nothing accepted: suggestion quality is not the point, so any model will
do (``--model random:tiny`` is the fastest). Every ``--every`` keys a sample is taken:
answered and failed requests so far, p50/p99 of the window, the server's RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path

import psutil
from pygls.exceptions import JsonRpcException

from ..engine.loading import resolve_model_name
from ..flags import given_options
from .lsp_client import EditorSession, server_command
from .metrics import percentile
from .options import BENCH_DEADLINE_MS, add_settings_option
from .replay import Buffer
from .report import markdown_table, progress, write_outputs

SAMPLE_COLUMNS = ["keys", "answered", "failed", "p50_ms", "p99_ms", "rss_mb"]
REQUEST_TIMEOUT_S = 120.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keys", type=int, default=10_000, help="keystrokes to type")
    parser.add_argument("--every", type=int, default=500, help="keys between samples")
    parser.add_argument("--warmup-keys", type=int, default=1000,
                        help="RSS growth is reported from this many keys on")
    parser.add_argument("--doc-chars", type=int, default=3000,
                        help="characters typed into one document before the next is opened")
    add_settings_option(parser)


def run(args: argparse.Namespace) -> int:
    if args.keys < 1 or args.every < 1:
        raise ValueError("--keys and --every must be positive")
    logging.getLogger("pygls").setLevel(logging.WARNING)  # the client logs every message
    data = asyncio.run(soak(args))
    data["config"] = {"model": resolve_model_name(args.model), "keys": args.keys,
                      "every": args.every, "warmup_keys": args.warmup_keys,
                      "doc_chars": args.doc_chars, "settings": args.settings}
    out = write_outputs(args.out, "soak", data, render(data))
    plot_rss(data, out / "soak_rss.png")
    print(render(data))
    return 0


def typing_text() -> list[tuple[str, str]]:
    """(name, text) of the package's own Python files: real code, always at hand."""
    root = Path(__file__).resolve().parents[1]
    files = [(str(p.relative_to(root)), p.read_text(encoding="utf-8"))
             for p in sorted(root.rglob("*.py"))]
    return [(name, text) for name, text in files if text.strip()]


async def soak(args: argparse.Namespace) -> dict:
    editor = EditorSession()
    with tempfile.TemporaryDirectory(prefix="sc2-soak-") as tmp:
        workspace = Path(tmp)
        options = {**given_options(args), "deadlineMs": BENCH_DEADLINE_MS, **args.settings}
        await editor.start(workspace, options, server_command(workspace / "server.log"))
        try:
            status = await editor.wait_ready()
            if status["state"] != "ready":
                raise RuntimeError(f"the server could not load its model: {status['error']}")
            server = psutil.Process(editor.client._server.pid)
            return await _type(editor, server, workspace, args)
        finally:
            await editor.stop()


async def _type(editor: EditorSession, server: psutil.Process, workspace: Path,
                args: argparse.Namespace) -> dict:
    files = typing_text()
    samples = [_sample(0, 0, 0, [], server)]
    latencies: list[float] = []
    window: list[float] = []
    answered = failed = 0
    uri, buffer, source, file_index = None, Buffer("", 0), "", -1
    bar = progress(range(args.keys), desc="soak keys")
    for key in bar:
        if uri is None or buffer.cursor >= min(len(source), args.doc_chars):
            if uri is not None:
                editor.close(uri)
            file_index = (file_index + 1) % len(files)
            name, source = files[file_index]
            buffer = Buffer("", 0)
            uri = editor.open(workspace / f"{key}-{Path(name).name}", "")
        position = buffer.position()
        char = source[buffer.cursor]
        editor.edit(uri, position, position, char)
        buffer.insert(char)
        ok, latency = await _request(editor, uri, buffer.position())
        answered, failed = answered + ok, failed + (not ok)
        if ok:
            latencies.append(latency)
            window.append(latency)
        if (key + 1) % args.every == 0 or key + 1 == args.keys:
            samples.append(_sample(key + 1, answered, failed, window, server))
            bar.set_postfix(rss_mb=samples[-1]["rss_mb"], failed=failed)
            window = []
    return summarise(samples, latencies, args.warmup_keys)


async def _request(editor: EditorSession, uri: str, position: tuple[int, int]
                   ) -> tuple[bool, float]:
    """(answered, latency in ms): an error answer or no answer in time is a failure."""
    t0 = time.perf_counter()
    try:
        await asyncio.wait_for(editor.inline(uri, *position), REQUEST_TIMEOUT_S)
    except (TimeoutError, JsonRpcException):  # an error answer, or none in time
        return False, (time.perf_counter() - t0) * 1e3
    return True, (time.perf_counter() - t0) * 1e3


def _sample(keys: int, answered: int, failed: int, window: list[float],
            server: psutil.Process) -> dict:
    return {"keys": keys, "answered": answered, "failed": failed,
            "p50_ms": percentile(window, 50), "p99_ms": percentile(window, 99),
            "rss_mb": round(server.memory_info().rss / 2**20, 2)}


def summarise(samples: list[dict], latencies: list[float], warmup_keys: int) -> dict:
    last = samples[-1]
    after = [s for s in samples if s["keys"] >= warmup_keys] or [last]
    rss = [s["rss_mb"] for s in after]
    return {"keys": last["keys"], "answered": last["answered"], "failed": last["failed"],
            "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
            "rss_start_mb": samples[0]["rss_mb"], "rss_end_mb": last["rss_mb"],
            "rss_growth_after_warmup_mb": round(rss[-1] - rss[0], 2),
            "rss_max_after_warmup_mb": max(rss), "warmup_sample_keys": after[0]["keys"],
            "samples": samples}


def render(data: dict) -> str:
    head = ("# Soak bench: a long typing replay through the server\n\n"
            f"{data['keys']} keys: {data['answered']} answered, {data['failed']} failed; "
            f"p50 {data['p50_ms']} ms, p99 {data['p99_ms']} ms; RSS {data['rss_start_mb']} MB "
            f"before typing, {data['rss_end_mb']} MB at the end, "
            f"{data['rss_growth_after_warmup_mb']:+} MB from key "
            f"{data['warmup_sample_keys']} on.\n\n")
    return head + markdown_table(data["samples"], SAMPLE_COLUMNS)


def plot_rss(data: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    samples = data["samples"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot([s["keys"] for s in samples], [s["rss_mb"] for s in samples], marker="o")
    ax.set_xlabel("keys typed")
    ax.set_ylabel("server RSS (MB)")
    ax.set_title(f"Server memory over a {data['keys']}-key soak")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


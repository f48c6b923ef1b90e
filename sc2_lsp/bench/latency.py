"""Latency bench: real typing replayed through `sc2-lsp serve` over stdio
(docs/architecture.md, benches).

Variants in one run, on the same typing script, taking turns keystroke by keystroke:
``full`` (the server as shipped), ``no-kv-reuse`` (the server with ``kvReuse: false``) and
``naive`` (in-process ``model.generate`` on a file-level prompt of the same budget, every
keystroke). With ``--engine openai`` these go through the endpoint (``no-kv-reuse``: a fresh
cache salt per request, so no prefix-cache hits) and ``local-full`` is the local engine's
``full`` for comparison. ``--clients 1,2,4`` then replays that many typists at once, each
through its own server, against the one endpoint (`team.py`). Token counts are the
machine-independent evidence; times are compared as ratios within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from ..engine import open_engine
from ..engine.loading import resolve_model_name
from ..flags import given_options
from .lsp_client import EditorSession, server_command
from .metrics import percentile
from .naive import NaiveCompleter
from .options import BENCH_DEADLINE_MS, add_settings_option, bench_settings
from .replay import NaiveEditor, ServerEditor, replay_together
from .report import markdown_table, progress, write_outputs
from .sessions import TypingSession, from_files, from_tasks
from .team import COLUMNS as TEAM_COLUMNS
from .team import replay_clients, team_row

SERVER_VARIANTS = {"full": True, "no-kv-reuse": False}  # name -> kvReuse
COLUMNS = ["variant", "requests", "model_calls", "p50_ms", "p90_ms", "p99_ms",
           "p50_model_ms", "mean_prefilled_tokens", "mean_reused_tokens", "cache_hit_rate",
           "typing_through_rate", "chars_saved_rate", "in_time_rate"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--files", help="glob of Python files whose function bodies are typed")
    source.add_argument("--tasks", type=Path, help="task file: each middle is typed")
    parser.add_argument("--sessions", type=int, default=3, help="function bodies to type")
    parser.add_argument("--typing-ms", type=float, default=120.0,
                        help="pause between keystrokes; a suggestion slower than it is late")
    parser.add_argument("--max-requests", type=int, default=150,
                        help="keystrokes per session at most (keeps the run short)")
    parser.add_argument("--real-time", action="store_true",
                        help="really pause between keystrokes (else the pauses are simulated)")
    parser.add_argument("--clients", type=_counts, default=None,
                        help="comma-separated typist counts, e.g. 1,2,4: for each, that many "
                             "typists at once, each through its own server, on one engine")
    add_settings_option(parser)


def run(args: argparse.Namespace) -> int:
    logging.getLogger("pygls").setLevel(logging.WARNING)  # the client logs every message
    sessions = (from_files(args.files, args.sessions) if args.files
                else from_tasks(args.tasks, args.sessions))
    records = asyncio.run(replay_all(args, sessions))
    team = asyncio.run(replay_team(args, sessions)) if args.clients else {}
    data = report(records, team)
    settings = bench_settings(args)
    data["config"] = {"model": resolve_model_name(args.model), "engine": settings.engine,
                      "endpoint": settings.endpoint, "clients": args.clients,
                      "typing_ms": args.typing_ms, "max_requests": args.max_requests,
                      "settings": args.settings}
    data["sessions"] = [{"name": s.name, "path": str(s.path), "body_chars": len(s.body)}
                        for s in sessions]
    out = write_outputs(args.out, "latency", data, render(data))
    plot_cdf(records, out / "latency_cdf.png")
    print(render(data))
    return 0


async def replay_all(args: argparse.Namespace, sessions: list[TypingSession]
                     ) -> dict[str, list[dict]]:
    """Every variant at once (two servers and the in-process naive model), taking turns."""
    settings = bench_settings(args)
    workspace = Path(os.path.commonpath([s.workspace for s in sessions]))
    servers: dict[str, EditorSession] = {}
    with tempfile.TemporaryDirectory(prefix="sc2-latency-") as tmp:
        try:
            for name, options in _server_variants(args).items():
                servers[name] = EditorSession()
                await servers[name].start(workspace, options,
                                          server_command(Path(tmp) / f"{name}.log"))
                await _ready(servers[name])
            editors = {name: ServerEditor(editor) for name, editor in servers.items()}
            engine = open_engine(settings.model_spec(), kv_reuse=False)
            editors["naive"] = NaiveEditor(NaiveCompleter(engine, settings))
            return await _play(editors, sessions, args)
        finally:
            for editor in servers.values():
                await editor.stop()


async def _ready(editor: EditorSession) -> None:
    status = await editor.wait_ready()
    if status["state"] != "ready":
        raise RuntimeError(f"the server could not load its model: {status['error']}")


async def _play(editors: dict, sessions: list[TypingSession], args) -> dict[str, list[dict]]:
    records: dict[str, list[dict]] = {name: [] for name in editors}
    for session in progress(sessions, desc="latency sessions"):
        played = await replay_together(editors, session, max_requests=args.max_requests,
                                       typing_ms=args.typing_ms, real_time=args.real_time)
        for name, rs in played.items():
            records[name] += rs
    return records


async def replay_team(args: argparse.Namespace, sessions: list[TypingSession]
                      ) -> dict[int, list[dict]]:
    """For each typist count: that many servers (the `full` settings) typing at once."""
    workspace = Path(os.path.commonpath([s.workspace for s in sessions]))
    team: dict[int, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="sc2-team-") as tmp:
        for n in progress(args.clients, desc="typists at once"):
            team[n] = await replay_clients(
                n, sessions, _options(args, True), workspace, Path(tmp),
                max_requests=args.max_requests, typing_ms=args.typing_ms,
                real_time=args.real_time)
    return team


def _server_variants(args: argparse.Namespace) -> dict[str, dict]:
    """Initialization options by variant; a remote engine is compared with the local one."""
    variants = {name: _options(args, kv_reuse) for name, kv_reuse in SERVER_VARIANTS.items()}
    settings = bench_settings(args)
    if settings.engine == "openai":
        variants["local-full"] = {**_options(args, True), "engine": "local", "endpoint": None,
                                  "model": settings.tokenizer or settings.model,
                                  "tokenizer": None}
    return variants


def _options(args: argparse.Namespace, kv_reuse: bool) -> dict:
    return {**given_options(args), "deadlineMs": BENCH_DEADLINE_MS, **args.settings,
            "kvReuse": kv_reuse}


def _ratio_order(name: str) -> tuple[int, str]:
    """The baselines first (naive, no-kv-reuse), then the other engine's variant."""
    return ({"naive": 0, "no-kv-reuse": 1}.get(name, 2), name)


def _counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("expected typist counts like 1,2,4")
    return counts


# ----------------------------------------------------------------------------- summary
def summarise(records: list[dict]) -> dict:
    latencies = [r["latency_ms"] for r in records]
    model = [r["latency_ms"] for r in records if r["source"] == "model"]
    keyed = sum(r["keystroke_chars"] for r in records)
    saved = sum(r["accepted_chars"] for r in records)
    return {
        "requests": len(records), "model_calls": len(model),
        "p50_ms": percentile(latencies, 50), "p90_ms": percentile(latencies, 90),
        "p99_ms": percentile(latencies, 99), "p50_model_ms": percentile(model, 50),
        "mean_prompt_tokens": _mean(records, "prompt_tokens"),
        "mean_prefilled_tokens": _mean(records, "prefilled_tokens"),
        "mean_reused_tokens": _mean(records, "reused_tokens"),
        "mean_generated_tokens": _mean(records, "generated_tokens"),
        "cache_hit_rate": _share(records, "cache"),
        "typing_through_rate": _share(records, "typing-through"),
        "no_completion_rate": _share(records, "none"),
        "chars_saved_rate": round(saved / (keyed + saved), 4) if keyed + saved else 0.0,
        "in_time_rate": round(sum(r["in_time"] for r in records) / len(records), 4),
    }


def report(records: dict[str, list[dict]], team: dict[int, list[dict]] | None = None) -> dict:
    variants = {name: summarise(rs) for name, rs in records.items() if rs}
    ratios = {f"{name}/full": {key: _ratio(variants[name][key], variants["full"][key])
                               for key in ("p50_ms", "mean_prefilled_tokens")}
              for name in sorted(set(variants) - {"full"}, key=_ratio_order)}
    data = {"variants": variants, "ratios": ratios,
            "records": [{"variant": name, **r} for name, rs in records.items() for r in rs]}
    if team:
        data["clients"] = {str(n): team_row(summarise(rs), rs) for n, rs in team.items()}
        data["records"] += [{"variant": f"clients={n}", **r}
                            for n, rs in team.items() for r in rs]
    return data


def render(data: dict) -> str:
    rows = [{"variant": name, **summary} for name, summary in data["variants"].items()]
    ratio_rows = [{"ratio": name, **values} for name, values in data["ratios"].items()]
    text = ("# Latency bench: typing replay through the server\n\n"
            + markdown_table(rows, COLUMNS) + "\n## Ratios\n\n"
            + markdown_table(ratio_rows, ["ratio", "p50_ms", "mean_prefilled_tokens"]))
    if "clients" in data:
        team_rows = [{"clients": n, **row} for n, row in data["clients"].items()]
        text += ("\n## Typists at once, one engine\n\n"
                 + markdown_table(team_rows, TEAM_COLUMNS))
    return text


def plot_cdf(records: dict[str, list[dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, rs in records.items():
        values = np.sort([max(r["latency_ms"], 1e-3) for r in rs])
        ax.step(values, np.arange(1, len(values) + 1) / len(values), where="post",
                label=f"{name} (n={len(values)})")
    ax.set_xscale("log")
    ax.set_xlabel("latency per keystroke request (ms, log scale)")
    ax.set_ylabel("share of requests")
    ax.set_title("Keystroke latency CDF")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _mean(records: list[dict], key: str) -> float | None:
    values = [r[key] for r in records if r[key] is not None]
    return round(float(np.mean(values)), 2) if values else None


def _share(records: list[dict], source: str) -> float:
    return round(sum(r["source"] == source for r in records) / len(records), 4)


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None

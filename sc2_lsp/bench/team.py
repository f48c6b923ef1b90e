"""Team scale: N typists at once, each through its own `sc2-lsp serve`, all on the same
engine (one endpoint), for each N asked for. What one typist sees when others type too:
latency percentiles, the tokens the server prefilled and took from its prefix cache, and
the requests that failed."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from .lsp_client import EditorSession, server_command
from .replay import Replay, ServerEditor
from .sessions import TypingSession

COLUMNS = ["clients", "requests", "model_calls", "errors", "p50_ms", "p90_ms", "p99_ms",
           "mean_prompt_tokens", "mean_prefilled_tokens", "mean_reused_tokens",
           "reused_share"]


async def replay_clients(n: int, sessions: list[TypingSession], options: dict, workspace: Path,
                         log_dir: Path, **replay_options) -> list[dict]:
    """Records of n typists typing at once; typist i starts at session i (mod the count),
    so they type different functions at the same moment where there are enough. Each
    types into its own path (`typist-N-i/...`, in the prompt's file header), as colleagues
    edit their own files: a prompt shares no cached prefix with another typist's beyond
    the workspace's snippets, nor with an earlier run."""
    editors = [EditorSession() for _ in range(n)]
    try:
        for i, editor in enumerate(editors):
            await editor.start(workspace, options, server_command(log_dir / f"c{n}-{i}.log"))
        for editor in editors:
            status = await editor.wait_ready()
            if status["state"] != "ready":
                raise RuntimeError(f"a client's server is not ready: {status['error']}")
        typed = await asyncio.gather(*(
            _type_all(ServerEditor(editor), _own(sessions, n, i), replay_options)
            for i, editor in enumerate(editors)))
    finally:
        for editor in editors:
            await editor.stop()
    return [{"clients": n, "client": i, **r} for i, rs in enumerate(typed) for r in rs]


def _own(sessions: list[TypingSession], n: int, i: int) -> list[TypingSession]:
    """Typist i's sessions: rotated to start at the i-th, each under its own path."""
    start = i % len(sessions)
    return [dataclasses.replace(s, path=s.workspace / f"typist-{n}-{i}"
                                / s.path.relative_to(s.workspace))
            for s in sessions[start:] + sessions[:start]]


async def _type_all(editor: ServerEditor, sessions: list[TypingSession],
                    options: dict) -> list[dict]:
    records: list[dict] = []
    for session in sessions:
        replay = Replay(editor, session, **options)
        await editor.begin(session)
        while not replay.done:
            await replay.step()
        await editor.end()
        records += replay.records
    return records


def team_row(summary: dict, records: list[dict]) -> dict:
    """A bench summary with what team scale adds: errors, and the share of prompt tokens
    the server took from its cache (over the answers that say)."""
    known = [r for r in records if r["source"] == "model" and r["reused_tokens"] is not None]
    prompt = sum(r["prompt_tokens"] for r in known)
    return {**summary, "errors": sum(r.get("stop_reason") == "error" for r in records),
            "reused_share": round(sum(r["reused_tokens"] for r in known) / prompt, 4)
            if prompt else None}

"""Typing replay: one session typed into editors, a suggestion asked for per keystroke.

``ServerEditor`` is the product as an editor sees it: `sc2-lsp serve` over stdio,
incremental didChange, inlineCompletion, then `sc2/status` for the request's stats.
``NaiveEditor`` is the in-process naive baseline. The editors take turns keystroke by
keystroke, so a change in the (shared) machine's load hits every variant alike. A suggestion
is accepted when it is exactly what the user types next (as one edit, reported with
`sc2/didAcceptCompletion`); acceptance does not depend on timing, so the replay and its
token counts are the same on any machine.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from ..documents import text_units
from .lsp_client import EditorSession
from .naive import NaiveCompleter
from .sessions import TypingSession

TOKEN_KEYS = ("prompt_tokens", "reused_tokens", "prefilled_tokens", "generated_tokens")


@dataclass
class Suggestion:
    text: str
    replaces: bool  # it replaces text after the cursor (not a plain insertion)
    latency_ms: float
    stats: dict


class Buffer:
    """The document as the editor holds it, and the cursor (a str offset)."""

    def __init__(self, text: str, cursor: int):
        self.text, self.cursor = text, cursor

    def position(self) -> tuple[int, int]:
        """LSP (line, UTF-16 character) of the cursor."""
        line_start = self.text.rfind("\n", 0, self.cursor) + 1
        return (self.text.count("\n", 0, self.cursor),
                text_units(self.text[line_start:self.cursor], "utf-16"))

    def insert(self, text: str) -> None:
        self.text = self.text[:self.cursor] + text + self.text[self.cursor:]
        self.cursor += len(text)


class ServerEditor:
    def __init__(self, editor: EditorSession):
        self.editor = editor
        self.buffer = Buffer("", 0)
        self.uri = ""

    async def begin(self, session: TypingSession) -> None:
        self.buffer = Buffer(session.head + session.tail, len(session.head))
        self.uri = self.editor.open(session.path, self.buffer.text)

    async def type(self, text: str) -> None:
        position = self.buffer.position()
        self.editor.edit(self.uri, position, position, text)
        self.buffer.insert(text)

    async def suggest(self) -> Suggestion:
        items, latency = await self.editor.inline(self.uri, *self.buffer.position())
        stats = (await self.editor.status()).get("last") or {}
        if not items:
            return Suggestion("", False, latency, stats)
        item = items[0]
        text = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
        replaces = item.range is not None and item.range.start != item.range.end
        if text:
            self.editor.notify("sc2/didShowCompletion", {})
        return Suggestion(text, replaces, latency, stats)

    async def accept(self, text: str) -> None:
        await self.type(text)
        self.editor.notify("sc2/didAcceptCompletion", {"acceptedLength": len(text)})

    async def end(self) -> None:
        self.editor.close(self.uri)


class NaiveEditor:
    def __init__(self, naive: NaiveCompleter):
        self.naive = naive
        self.buffer = Buffer("", 0)

    async def begin(self, session: TypingSession) -> None:
        self.buffer = Buffer(session.head + session.tail, len(session.head))

    async def type(self, text: str) -> None:
        self.buffer.insert(text)

    async def suggest(self) -> Suggestion:
        t0 = time.perf_counter()
        b = self.buffer
        text, stats = self.naive.complete(b.text[:b.cursor], b.text[b.cursor:])
        return Suggestion(text, False, (time.perf_counter() - t0) * 1e3, stats)

    async def accept(self, text: str) -> None:
        await self.type(text)

    async def end(self) -> None:
        pass


class Replay:
    """One editor typing one session back, a keystroke (and its request) per `step`, so
    that several editors can take turns and share whatever load the machine has."""

    def __init__(self, editor: ServerEditor | NaiveEditor, session: TypingSession, *,
                 max_requests: int, typing_ms: float, real_time: bool = False):
        self.editor, self.session = editor, session
        self.max_requests, self.typing_ms, self.real_time = max_requests, typing_ms, real_time
        self.records: list[dict] = []
        self.typed = 0

    @property
    def done(self) -> bool:
        return self.typed >= len(self.session.body) or len(self.records) >= self.max_requests

    async def step(self) -> None:
        body = self.session.body
        key = self.session.keystroke(self.typed)
        await self.editor.type(key)
        self.typed += len(key)
        suggestion = await self.editor.suggest()
        text = suggestion.text
        accepted = (bool(text.strip()) and not suggestion.replaces
                    and body.startswith(text, self.typed))
        self.records.append(_record(self.session, len(self.records), key, suggestion, accepted,
                                    self.typing_ms))
        if accepted:
            await self.editor.accept(text)
            self.typed += len(text)
        if self.real_time:
            await asyncio.sleep(max(0.0, self.typing_ms - suggestion.latency_ms) / 1e3)


async def replay_together(editors: dict[str, ServerEditor | NaiveEditor],
                          session: TypingSession, **options) -> dict[str, list[dict]]:
    """Type the session into every editor, one keystroke each in turn; records by editor."""
    replays = {name: Replay(editor, session, **options) for name, editor in editors.items()}
    for editor in editors.values():
        await editor.begin(session)
    while not all(r.done for r in replays.values()):
        for r in replays.values():
            if not r.done:
                await r.step()
    for editor in editors.values():
        await editor.end()
    return {name: r.records for name, r in replays.items()}


def _record(session: TypingSession, index: int, key: str, suggestion: Suggestion,
            accepted: bool, typing_ms: float) -> dict:
    return {"session": session.name, "request": index, "keystroke_chars": len(key),
            "latency_ms": round(suggestion.latency_ms, 3),
            "pipeline_ms": suggestion.stats.get("total_ms"),  # inside the server (or naive)
            "in_time": suggestion.latency_ms <= typing_ms,
            "suggested_chars": len(suggestion.text), "accepted": accepted,
            "accepted_chars": len(suggestion.text) if accepted else 0,
            "source": suggestion.stats.get("source"), "mode": suggestion.stats.get("mode"),
            "stop_reason": suggestion.stats.get("stop_reason"),
            **{k: suggestion.stats.get(k, 0) for k in TOKEN_KEYS}}  # no model call: 0

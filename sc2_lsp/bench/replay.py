"""Typing replay: one session typed into an editor, a suggestion asked for per keystroke.

Two editors play the same script. ``ServerEditor`` is the product as an editor sees it:
`sc2-lsp serve` over stdio, incremental didChange, inlineCompletion, then `sc2/status`
for the request's stats. ``NaiveEditor`` is the in-process naive baseline. A suggestion
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


async def replay(editor: ServerEditor | NaiveEditor, session: TypingSession, *,
                 max_requests: int, typing_ms: float, real_time: bool = False) -> list[dict]:
    """Type the session's body back; one record per keystroke (and its request)."""
    await editor.begin(session)
    records, typed = [], 0
    while typed < len(session.body) and len(records) < max_requests:
        key = session.keystroke(typed)
        await editor.type(key)
        typed += len(key)
        suggestion = await editor.suggest()
        text = suggestion.text
        accepted = (bool(text.strip()) and not suggestion.replaces
                    and session.body.startswith(text, typed))
        records.append(_record(session, len(records), key, suggestion, accepted, typing_ms))
        if accepted:
            await editor.accept(text)
            typed += len(text)
        if real_time:
            await asyncio.sleep(max(0.0, typing_ms - suggestion.latency_ms) / 1e3)
    await editor.end()
    return records


def _record(session: TypingSession, index: int, key: str, suggestion: Suggestion,
            accepted: bool, typing_ms: float) -> dict:
    return {"session": session.name, "request": index, "keystroke_chars": len(key),
            "latency_ms": round(suggestion.latency_ms, 3),
            "in_time": suggestion.latency_ms <= typing_ms,
            "suggested_chars": len(suggestion.text), "accepted": accepted,
            "accepted_chars": len(suggestion.text) if accepted else 0,
            "source": suggestion.stats.get("source"), "mode": suggestion.stats.get("mode"),
            **{k: suggestion.stats.get(k, 0) for k in TOKEN_KEYS}}  # no model call: 0

"""Seeded property test: random editing sessions through the real server over stdio, in
all three position encodings, with the characters that break naive line splitting or
position arithmetic (form feed, NEL, U+2028, CRLF halves, astral characters, lone
surrogates) and the sloppy positions clients send (past a line's end, past the document's
end, inside a character, reversed ranges). After every step the server's document
(`sc2/debugDocument`) must equal an independent reference model of the client's.

Sessions are batched: one server per encoding for the module, a new document per session.
"""

from __future__ import annotations

import itertools
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.rawlsp import RawClient

ENCODINGS = ("utf-16", "utf-8", "utf-32")
PIECES = ["a", "bc", " ", "é", "漢字", "😀", "\r", "\n", "\r\n", "\f", "\v", "\x85",
          "\u2028", "\u2029", "\ud83d", "\ude00", "\t", "x = 1", "\x00"]
_BREAK = re.compile(r"\r\n|\r|\n")
_ids = itertools.count()


# ------------------------------------------------------------ the reference model
def wire(text: str) -> str:
    """The text as the server receives it (JSON joins an escaped surrogate pair)."""
    return json.loads(json.dumps(text))


def line_spans(text: str) -> list[tuple[int, int]]:
    """(start, end of content) of every line, LSP's line breaks only."""
    spans, start = [], 0
    for match in _BREAK.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    return [*spans, (start, len(text))]


def width(char: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(char.encode("utf-8", "surrogatepass"))
    return 2 if encoding == "utf-16" and ord(char) > 0xFFFF else 1


def offset(text: str, line: int, character: int, encoding: str) -> int:
    """Past the end of a line: its end; past the last line: the end; inside a character:
    its start."""
    spans = line_spans(text)
    if line >= len(spans):
        return len(text)
    start, end = spans[line]
    units = 0
    for index in range(start, end):
        units += width(text[index], encoding)
        if units > character:
            return index
    return end


def line_units(text: str, line: int, encoding: str) -> int:
    spans = line_spans(text)
    if line >= len(spans):
        return 0
    start, end = spans[line]
    return sum(width(c, encoding) for c in text[start:end])


# -------------------------------------------------------------------- strategies
texts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


@st.composite
def positions(draw, text: str, encoding: str) -> dict:
    lines = len(line_spans(text))
    line = draw(st.integers(0, lines + 1))
    limit = line_units(text, line, encoding) + 3
    return {"line": line, "character": draw(st.integers(0, limit))}


@st.composite
def changes(draw, text: str, encoding: str) -> tuple[dict, str]:
    """One content change and the reference text after it."""
    new = draw(texts)
    if draw(st.integers(0, 19)) == 0:  # now and then the whole document
        return {"text": new}, wire(new)
    start, end = draw(positions(text, encoding)), draw(positions(text, encoding))
    a = offset(text, start["line"], start["character"], encoding)
    b = offset(text, end["line"], end["character"], encoding)
    a, b = min(a, b), max(a, b)
    return {"range": {"start": start, "end": end}, "text": new}, text[:a] + wire(new) + text[b:]


@st.composite
def sessions(draw) -> tuple[str, str, list[list[dict]], list[str]]:
    encoding = draw(st.sampled_from(ENCODINGS))
    text = wire(draw(texts))
    initial, steps, expected = text, [], []
    for _ in range(draw(st.integers(1, 8))):
        batch = []
        for _ in range(draw(st.integers(1, 3))):  # several changes in one notification
            change, text = draw(changes(text, encoding))
            batch.append(change)
        steps.append(batch)
        expected.append(text)
    return encoding, initial, steps, expected


# -------------------------------------------------------------------------- test
@pytest.fixture(scope="module")
def servers():
    clients = {}
    try:
        for encoding in ENCODINGS:
            clients[encoding] = client = RawClient()
            result = client.initialize(encoding)["result"]
            assert result["capabilities"]["positionEncoding"] == encoding
        yield clients
    finally:
        for client in clients.values():
            client.close()


@settings(max_examples=300, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(session=sessions())
def test_the_servers_document_is_always_the_clients(servers, session):
    encoding, initial, steps, expected = session
    client = servers[encoding]
    uri = f"file:///fuzz/{next(_ids)}.txt"
    client.send({"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": initial}}})
    for version, (batch, text) in enumerate(zip(steps, expected, strict=True), start=2):
        client.send({"method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version}, "contentChanges": batch}})
        document = client.document(uri)
        assert (document["text"], document["length"]) == (wire(text), len(text))
        assert document["lineCount"] == len(line_spans(text))
    position = batch[-1].get("range", {}).get("end", {"line": 0, "character": 0})
    answer = client.request(f"complete-{uri}", "textDocument/inlineCompletion", params={
        "textDocument": {"uri": uri}, "position": position,
        "context": {"triggerKind": 2}})
    assert answer["result"] == {"items": []}  # no model is loaded: empty, never an error
    client.send({"method": "textDocument/didClose", "params": {"textDocument": {"uri": uri}}})

"""The framing reader and JSON-RPC checks on their own: bytes in any chunking give the
same messages, and every bad frame is reported and skipped."""

from __future__ import annotations

import pytest

from sc2_lsp.jsonrpc import FramingError, MessageReader, RpcError, check_envelope, parse

BODY = b'{"jsonrpc": "2.0", "id": 1, "method": "m"}'
GOOD = b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY
STREAM = b"".join([
    GOOD,
    b"content-length: %d\n\n" % len(BODY) + BODY,
    b"Content-Length: 9\r\n\r\n" + BODY,  # short: a truncated body, the rest is garbage
    GOOD,
    b"Content-Length: 900\r\n\r\n" + BODY,  # long: the next header ends it
    GOOD,
    b"Content-Length: 1e3\r\n\r\n" + BODY,
    GOOD,
    b"Content-Length: 99999999999\r\n\r\n" + BODY,
    GOOD,
])
EXPECTED = [BODY, BODY, BODY[:9], "before a header", BODY, "into a body", BODY,
            "not a number", "before a header", BODY, "exceeds", "before a header", BODY]


def summary(items) -> list:
    return [item if isinstance(item, bytes) else next(
        key for key in ("before a header", "into a body", "not a number", "exceeds")
        if key in item.reason) for item in items]


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, len(STREAM)])
def test_any_chunking_gives_the_same_messages_and_errors(chunk):
    reader = MessageReader()
    items = [item for i in range(0, len(STREAM), chunk)
             for item in reader.feed(STREAM[i:i + chunk])]
    assert summary(items) == EXPECTED
    assert reader.pending == 0


def test_garbage_without_a_header_is_dropped_within_bounds():
    reader = MessageReader()
    errors = [i for _ in range(40) for i in reader.feed(b"y" * 100_000)]
    assert [type(e) for e in errors] == [FramingError]  # reported once per run of garbage
    assert reader.pending <= 100_000
    assert list(reader.feed(b"\r\n\r\n" + GOOD))[-1] == BODY


def test_envelope_checks():
    assert check_envelope(parse(BODY))["method"] == "m"
    assert check_envelope({"jsonrpc": "2.0", "id": 3, "result": None}) == {
        "jsonrpc": "2.0", "id": 3, "result": None}
    with pytest.raises(RpcError) as error:
        check_envelope({"jsonrpc": "2.0", "id": 4})
    assert (error.value.code, error.value.id) == (-32600, 4)
    with pytest.raises(RpcError) as error:
        parse(b'{"a": Infinity}')
    assert error.value.code == -32700

"""The wire below LSP, free of pygls: base-protocol framing that survives a bad frame,
and the JSON-RPC 2.0 checks that decide whether a message is one at all.

A client that gets one frame wrong (a Content-Length too small, too large or not a
number, a header name in lower case, LF-only line ends, no Content-Length) must cost
itself that one message, not the connection. The reader below resynchronises on the next
``Content-Length`` header, which is safe because valid JSON can never hold one followed by
a raw line break: JSON strings cannot contain raw line breaks, and outside strings
``Content-Length`` is no JSON token.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

MAX_BODY_BYTES = 64 * 1024 * 1024
"""A larger Content-Length is refused: its body is skipped, never held in memory."""

MAX_HEADER_BYTES = 64 * 1024
"""Bytes searched for the end of a header block before they are dropped as garbage."""

PARSE_ERROR, INVALID_REQUEST = -32700, -32600
SERVER_NOT_INITIALIZED = -32002

_HEADER_END = re.compile(rb"\r?\n\r?\n")
# greedy: on a line that starts with the tail of a lost message, the last header wins
_LENGTH_LINE = re.compile(rb"^.*content-length[ \t]*:[ \t]*(.*?)[ \t]*$", re.IGNORECASE)
_OTHER_HEADER = re.compile(rb"^[A-Za-z0-9-]+[ \t]*:")
_EMBEDDED_HEADER = re.compile(rb"content-length[ \t]*:[ \t]*\d+[ \t]*\r?\n", re.IGNORECASE)


@dataclass(frozen=True)
class FramingError:
    """Bytes that were skipped, and why (for the log)."""

    reason: str


class MessageReader:
    """Sans-IO reader of the LSP base protocol: ``feed`` it bytes as they arrive and get
    back message bodies and framing errors, in stream order."""

    def __init__(self, max_body: int = MAX_BODY_BYTES) -> None:
        self.max_body = max_body
        self._buffer = bytearray()
        self._length: int | None = None  # of the body being read, once its header is in
        self._scanned = 0  # bytes of that body already searched for an embedded header
        self._dropping = False  # garbage without a header end is being dropped

    @property
    def pending(self) -> int:
        """Bytes received but not yet returned (a partial message at end of stream)."""
        return len(self._buffer)

    def feed(self, data: bytes) -> Iterator[bytes | FramingError]:
        self._buffer += data
        while True:
            item = self._body() if self._length is not None else self._header()
            if item is None:
                return
            if not isinstance(item, bool):
                yield item

    def _header(self) -> FramingError | bool | None:
        """Parse one header block: True when a body is due next, a FramingError when the
        block was unusable, None when more bytes are needed."""
        buffer = self._buffer
        end = _HEADER_END.search(buffer)
        if end is None:
            return self._drop_overflow()
        block = bytes(buffer[:end.start()])
        del buffer[:end.end()]
        self._dropping = False
        lines = [line.rstrip(b"\r") for line in block.split(b"\n")]
        found = [(i, m) for i, line in enumerate(lines) if (m := _LENGTH_LINE.match(line))]
        if not found:
            return FramingError(f"no Content-Length header: {len(block)} bytes skipped")
        index, match = found[-1]
        value = match.group(1)
        if not value.isdigit():
            return FramingError(f"Content-Length {value[:40]!r} is not a number: "
                                f"the message is skipped")
        if int(value) > self.max_body:
            return FramingError(f"Content-Length {int(value)} exceeds {self.max_body} "
                                f"bytes: the message is skipped")
        self._length, self._scanned = int(value), 0
        garbage = lines[index].lower().rfind(b"content-length") + sum(
            len(line) + 1 for line in lines[:index] if not _OTHER_HEADER.match(line))
        if garbage:
            return FramingError(f"{garbage} bytes before a header skipped")
        return True

    def _body(self) -> bytes | FramingError | None:
        buffer, length = self._buffer, self._length
        header = _EMBEDDED_HEADER.search(buffer, max(0, self._scanned - 64), length + 64)
        if header is not None and header.start() < length:
            del buffer[:header.start()]
            self._length = None
            return FramingError(f"a header arrived {header.start()} bytes into a body of "
                                f"{length}: the Content-Length was wrong, the message is "
                                f"skipped")
        if len(buffer) < length:
            self._scanned = len(buffer)
            return None
        body = bytes(buffer[:length])
        del buffer[:length]
        self._length = None
        return body

    def _drop_overflow(self) -> FramingError | None:
        """Garbage with no header end in sight: keep only a tail that may start a header."""
        if len(self._buffer) <= MAX_HEADER_BYTES:
            return None
        dropped = len(self._buffer) - 1024
        del self._buffer[:dropped]
        if self._dropping:
            return None
        self._dropping = True
        return FramingError(f"{dropped} bytes without a message header dropped")


@dataclass
class RpcError(Exception):
    """A message that must be answered with an error, not handled."""

    code: int
    message: str
    id: int | str | None = None
    answer: bool = True  # False for notifications LSP says to drop


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def parse(body: bytes) -> object:
    """The JSON value of a body; RpcError(-32700) when it is none."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RpcError(PARSE_ERROR, f"Parse error: {exc}") from exc


def valid_id(value: object) -> bool:
    """LSP ids are integers or strings (JSON-RPC's null and fractions are not allowed)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def check_envelope(data: object) -> dict:
    """The message as a dict when it is JSON-RPC 2.0; RpcError(-32600) otherwise."""
    if isinstance(data, list):
        raise RpcError(INVALID_REQUEST, "Invalid Request: batches are not part of LSP")
    if not isinstance(data, dict):
        raise RpcError(INVALID_REQUEST, "Invalid Request: a message is a JSON object")
    msg_id = data.get("id")
    answer_id = msg_id if valid_id(msg_id) else None
    if data.get("jsonrpc") != "2.0":
        raise RpcError(INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"', answer_id)
    if "id" in data and not valid_id(msg_id) and "method" in data:
        raise RpcError(INVALID_REQUEST, "Invalid Request: an id is an integer or a string")
    if "method" in data:
        if not isinstance(data["method"], str):
            raise RpcError(INVALID_REQUEST, "Invalid Request: method must be a string",
                           answer_id)
        if "params" in data and not isinstance(data["params"], (dict, list)):
            raise RpcError(INVALID_REQUEST, "Invalid Request: params must be an object or "
                                            "an array", answer_id)
        return data
    if "id" in data and ("result" in data or "error" in data):
        return data  # a response to one of our requests
    raise RpcError(INVALID_REQUEST, "Invalid Request: neither a request, a notification "
                                    "nor a response", answer_id)

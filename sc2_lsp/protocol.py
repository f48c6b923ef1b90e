"""The server's side of the wire: pygls's protocol with the gaps an editor can fall into
closed, and a read loop that outlives a bad frame.

* Framing: ``jsonrpc.MessageReader`` replaces pygls's reader, which waits forever after one
  wrong Content-Length. Each body is parsed whole, then structured at the top level only
  (pygls's ``object_hook`` structured every nested object that looked like a message).
* Answers the specs ask for: -32700 for a body that isn't JSON, -32600 for one that isn't
  JSON-RPC 2.0, -32002 before ``initialize``, InvalidRequest after ``shutdown`` or for a
  second ``initialize``; a request whose params don't fit still gets an answer.
* Text document sync: pygls keeps its own copy of every document (split with
  ``str.splitlines``, which breaks lines LSP doesn't) and clamps the change ranges in place
  before handlers see them. Here the sync notifications go to the server's handlers
  untouched, and the server's document store is the only copy.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method

from .jsonrpc import (
    INVALID_REQUEST,
    SERVER_NOT_INITIALIZED,
    FramingError,
    MessageReader,
    RpcError,
    check_envelope,
    parse,
)

log = logging.getLogger(__name__)
READ_CHUNK = 64 * 1024


class Sc2Protocol(LanguageServerProtocol):
    def __init__(self, server, converter):
        super().__init__(server, converter)
        self._initialize_seen = False

    # -------------------------------------------------------------------- receiving
    def receive(self, body: bytes) -> None:
        """One framed body: checked, answered with an error or handed to pygls."""
        try:
            data = check_envelope(parse(body))
            self._check_lifecycle(data)
        except RpcError as error:
            log.warning("message refused (%d): %s", error.code, error.message)
            if error.answer:
                self._send_error(error.id, error.code, error.message)
            return
        try:
            message = self.structure_message(data)
        except JsonRpcException as exc:  # requests were answered in structure_message
            log.warning("%s: %s", data.get("method"), exc.message)
            return
        self._initialize_seen |= data.get("method") == types.INITIALIZE
        self.handle_message(message)

    def _check_lifecycle(self, data: dict) -> None:
        """LSP's order: nothing before `initialize` (notifications dropped, requests
        -32002), `initialize` once, nothing after `shutdown` but `exit`."""
        method = data.get("method")
        if method is None or method == types.EXIT:
            return
        is_request = "id" in data
        if not self._initialize_seen:
            if method == types.INITIALIZE and is_request:
                return
            raise RpcError(SERVER_NOT_INITIALIZED, f"{method}: the server is not initialized",
                           data.get("id"), is_request)
        if method == types.INITIALIZE:
            raise RpcError(INVALID_REQUEST, "initialize: the server is already initialized",
                           data.get("id"), is_request)
        if self._shutdown:
            raise RpcError(INVALID_REQUEST, f"{method}: the server is shut down",
                           data.get("id"), is_request)

    def _send_error(self, msg_id, code: int, message: str) -> None:
        # lsprotocol's message type drops a null id; JSON-RPC wants it written out
        self._send_data({"jsonrpc": "2.0", "id": msg_id,
                         "error": {"code": code, "message": message}})

    def structure_message(self, data):
        """Two gaps of pygls closed: JSON-RPC lets a request leave `params` out (pygls
        needs them for custom methods), and a request whose params don't fit its method
        must still get an answer (pygls only logs it, and the editor would wait forever)."""
        is_request = "method" in data and "id" in data
        if str(data.get("method", "")).startswith("sc2/"):
            data.setdefault("params", None)
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if is_request:
                self._send_response(data["id"], error=types.ResponseError(
                    exc.code, f"{data['method']}: {exc.message}"))
            raise

    # ------------------------------------------------------------ text document sync
    # Plain functions, not generators like pygls's: pygls files every generator handler's
    # future under a fresh id that no notification ever removes, a leak per keystroke.
    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        self._to_handler(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self._to_handler(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self._to_handler(types.TEXT_DOCUMENT_DID_CLOSE, params)

    def _to_handler(self, method: str, params) -> None:
        """The server's own handler, with the params as they came (no workspace copy)."""
        if (handler := self.fm.features.get(method)) is not None:
            handler(params)

    @property
    def pending_futures(self) -> int:
        """Requests in flight (what a leak of finished ones would make grow)."""
        return len(self._request_futures)


async def read_messages(read: Callable[[], Awaitable[bytes]], protocol: Sc2Protocol,
                        stop: threading.Event) -> None:
    """Feed what arrives to the framing reader until the stream ends."""
    reader = MessageReader()
    while not stop.is_set():
        data = await read()
        if not data:
            break
        for item in reader.feed(data):
            if isinstance(item, FramingError):
                log.warning("framing error: %s", item.reason)
                continue
            try:
                protocol.receive(item)
            except Exception:  # one message's failure must never end the loop
                log.exception("message could not be handled")
    if reader.pending:
        log.warning("stream closed inside a message (%d bytes unread)", reader.pending)


def _read_some(stream: BinaryIO) -> bytes:
    """What is available, at least one byte (b"" at end of stream)."""
    try:
        return stream.read1(READ_CHUNK) if hasattr(stream, "read1") else stream.read(READ_CHUNK)
    except (OSError, ValueError):  # a closed or broken stream ends the session
        return b""


class WireServer(LanguageServer):
    """A LanguageServer speaking through `Sc2Protocol` and `read_messages`."""

    def __init__(self, name: str, version: str, **kwargs):
        super().__init__(name, version, protocol_cls=Sc2Protocol, **kwargs)

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        self._stop_event = stop = threading.Event()
        stream = stdin or sys.stdin.buffer
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))

        async def main() -> None:
            loop = asyncio.get_running_loop()
            await read_messages(lambda: loop.run_in_executor(self.thread_pool, _read_some,
                                                             stream), self.protocol, stop)

        try:
            asyncio.run(main())
        except BrokenPipeError:
            log.error("the client closed the connection")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def start_tcp(self, host: str, port: int) -> None:
        self._stop_event = stop = threading.Event()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
            self.protocol.set_writer(writer)
            await read_messages(lambda: reader.read(READ_CHUNK), self.protocol, stop)
            self.shutdown()

        async def main() -> None:
            self._server = await asyncio.start_server(connection, host, port)
            async with self._server:
                await self._server.serve_forever()

        try:
            asyncio.run(main())
        except asyncio.CancelledError:
            log.debug("the TCP server was cancelled")

"""A scripted editor: starts `sc2-lsp serve` over stdio and types into it.

The demo and the latency bench use it, so what they measure is what an editor
sees: JSON-RPC, incremental didChange, the event loop and the worker thread.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

INLINE_CAPABILITIES = types.ClientCapabilities(
    general=types.GeneralClientCapabilities(
        position_encodings=[types.PositionEncodingKind.Utf16]),
    window=types.WindowClientCapabilities(work_done_progress=True),
    text_document=types.TextDocumentClientCapabilities(
        inline_completion=types.InlineCompletionClientCapabilities(),
        synchronization=types.TextDocumentSyncClientCapabilities()),
)


def server_command(log_file: Path | None = None) -> list[str]:
    """This interpreter's sc2-lsp, logging to a file (a full stderr pipe would block it)."""
    log = ["--log-file", str(log_file)] if log_file else ["--log-level", "error"]
    return [sys.executable, "-m", "sc2_lsp", *log, "serve"]


class EditorSession:
    """One server process, its open documents, and the progress it reported."""

    def __init__(self) -> None:
        self.client = LanguageClient("sc2-scripted-editor", "1")
        self.progress: list[tuple[str, int | None, str | None]] = []
        self.messages: list[str] = []
        self.log: list[str] = []  # window/logMessage: what the server would put in an output pane
        self._versions: dict[str, int] = {}

        @self.client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def _create(params):
            return None

        @self.client.feature(types.PROGRESS)
        def _progress(params):
            v = params.value
            kind = v.get("kind") if isinstance(v, dict) else getattr(v, "kind", None)
            get = (v.get if isinstance(v, dict) else lambda k: getattr(v, k, None))
            self.progress.append((kind, get("percentage"), get("message")))

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)
        def _message(params):
            self.messages.append(params.message)

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def _log(params):
            self.log.append(params.message)

    async def start(self, workspace: Path, options: dict | None = None,
                    command: list[str] | None = None) -> None:
        cmd = command or server_command()
        await self.client.start_io(cmd[0], *cmd[1:])
        await self.client.initialize_async(types.InitializeParams(
            capabilities=INLINE_CAPABILITIES, root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(workspace.as_uri(), workspace.name)],
            initialization_options=options or {}))
        self.client.initialized(types.InitializedParams())

    async def status(self) -> dict:
        result = await self.client.protocol.send_request_async("sc2/status", {})
        return as_plain(result)

    async def wait_ready(self, timeout_s: float = 600.0) -> dict:
        """Poll `sc2/status` until the model is loaded (or failed)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = await self.status()
            if status["state"] in ("ready", "error"):
                return status
            await asyncio.sleep(0.1)
        raise TimeoutError("the server did not finish loading its model")

    def open(self, path: Path, text: str, language_id: str = "python") -> str:
        uri = path.resolve().as_uri()
        self._versions[uri] = 1
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=1,
                                                 text=text)))
        return uri

    def close(self, uri: str) -> None:
        self._versions.pop(uri, None)
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(
            types.TextDocumentIdentifier(uri)))

    def edit(self, uri: str, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        """An incremental change, as editors send on every keystroke."""
        self._versions[uri] += 1
        change = types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(*start), types.Position(*end)), text=text)
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=self._versions[uri], uri=uri),
            [change]))

    async def inline(self, uri: str, line: int, character: int
                     ) -> tuple[list[types.InlineCompletionItem], float]:
        """The inline completion items at a position, and the wall time they took (ms)."""
        t0 = time.perf_counter()
        result = await self.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri),
                position=types.Position(line, character),
                context=types.InlineCompletionContext(
                    types.InlineCompletionTriggerKind.Automatic)))
        elapsed = (time.perf_counter() - t0) * 1e3
        items = result.items if isinstance(result, types.InlineCompletionList) else result or []
        return list(items), elapsed

    def notify(self, method: str, params: dict) -> None:
        self.client.protocol.notify(method, params)

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), 30)
            self.client.exit(None)
        finally:
            await asyncio.wait_for(self.client.stop(), 30)


def as_plain(value):
    """pygls hands custom results over as namespace objects; make them dicts."""
    if hasattr(value, "_asdict"):
        return {k: as_plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [as_plain(v) for v in value]
    if hasattr(value, "__dict__"):
        return {k: as_plain(v) for k, v in vars(value).items()}
    return value

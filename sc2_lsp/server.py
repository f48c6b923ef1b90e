"""LSP handlers only: get the document, call the session, translate to lsprotocol.

The model runs on the session's worker thread; every handler here returns to
the event loop quickly, so `didChange`, `sc2/status`, `$/cancelRequest` and
`shutdown` are answered while a generation runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from concurrent.futures import Future
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types

from . import __version__
from .completion import Completion
from .completion_items import completion_item, insert_replace_supported, typed_word
from .config import Settings, from_editor
from .documents import text_units
from .protocol import WireServer
from .session import Session

log = logging.getLogger("sc2_lsp")
DEBUG_ENV = "SC2_LSP_DEBUG"
"""Set to 1 to serve `sc2/debugDocument` (tests only: it sends whole documents back)."""
ENCODINGS = {types.PositionEncodingKind.Utf8: "utf-8", types.PositionEncodingKind.Utf16: "utf-16",
             types.PositionEncodingKind.Utf32: "utf-32"}


class Sc2Server(WireServer):
    def __init__(self, settings: Settings | None = None):
        super().__init__("sc2-lsp", __version__,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.session = Session(settings)
        self.pending_message: str | None = None
        self.load_tasks: set[asyncio.Task] = set()

    @property
    def encoding(self) -> str:
        return ENCODINGS.get(self.workspace.position_encoding, "utf-16")

    def notify_user(self, message: str, kind=types.MessageType.Warning) -> None:
        log.warning(message)
        self.window_show_message(types.ShowMessageParams(kind, message))


class ClientLogHandler(logging.Handler):
    """Forwards the server's own log records to the editor as `window/logMessage`
    (from any thread: records are handed to the event loop)."""

    KINDS = ((logging.ERROR, types.MessageType.Error), (logging.WARNING, types.MessageType.Warning),
             (logging.INFO, types.MessageType.Info), (logging.NOTSET, types.MessageType.Log))

    def __init__(self, server: Sc2Server, loop: asyncio.AbstractEventLoop):
        super().__init__()
        self.server, self.loop = server, loop
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        kind = next(k for level, k in self.KINDS if record.levelno >= level)
        params = types.LogMessageParams(kind, self.format(record))
        self.loop.call_soon_threadsafe(self.server.window_log_message, params)


def apply_log_level(settings: Settings) -> None:
    log.setLevel(settings.log_level.upper())


def create_server(settings: Settings | None = None) -> Sc2Server:
    server = Sc2Server(settings)
    for handler in HANDLERS:
        handler(server)
    return server


# ---------------------------------------------------------------------- lifecycle
def register_lifecycle(server: Sc2Server) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: Sc2Server, params: types.InitializeParams) -> None:
        ls.session.workspace = _workspace_root(params)
        settings, ls.pending_message = from_editor(ls.session.base,
                                                   params.initialization_options, ls.session.cli)
        if settings is not None:
            ls.session.base = ls.session.settings = settings

    @server.feature(types.INITIALIZED)
    def initialized(ls: Sc2Server, params: types.InitializedParams) -> None:
        log.addHandler(ClientLogHandler(ls, asyncio.get_running_loop()))
        apply_log_level(ls.session.settings)
        if ls.pending_message:
            ls.notify_user(ls.pending_message)
        if ls.session.apply_settings(ls.session.settings):
            start_load(ls)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: Sc2Server, params) -> None:
        ls.session.shutdown()

    @server.feature(types.EXIT)
    def exit_(ls: Sc2Server, params) -> None:
        leave(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: Sc2Server,
                                 params: types.DidChangeConfigurationParams) -> None:
        """Synchronous, so that messages after this one see the new settings."""
        settings, problem = from_editor(ls.session.base, params.settings, ls.session.cli)
        if problem:
            ls.notify_user(problem)
        if settings is None:
            return
        apply_log_level(settings)
        if ls.session.apply_settings(settings):
            start_load(ls)


def leave(ls: Sc2Server) -> None:
    """Exit the process now (0 after `shutdown`, else 1, as LSP says): a clean
    interpreter exit would wait for the thread blocked reading stdin, and editors
    kill servers that linger."""
    logging.shutdown()
    os._exit(0 if ls.session.shut_down else 1)


def start_load(ls: Sc2Server) -> None:
    """Start loading now, before the next message is read, so that message already
    sees the load under way; `$/progress` follows as soon as the client allows."""
    progress = LoadProgress(ls)
    task = asyncio.ensure_future(progress.follow(ls.session.load(progress.report)))
    ls.load_tasks.add(task)  # referenced until done: not collected
    task.add_done_callback(ls.load_tasks.discard)


class LoadProgress:
    """`$/progress` for one load, which starts before the client has accepted the
    token: reports that come earlier are held and sent right after Begin."""

    def __init__(self, ls: Sc2Server):
        self.ls, self.loop = ls, asyncio.get_running_loop()
        self.token: str | None = None
        self.held: list[types.WorkDoneProgressReport] | None = []  # None once begun

    def report(self, percent: int, message: str) -> None:
        """From the worker thread."""
        value = types.WorkDoneProgressReport(message=message, percentage=percent)
        self.loop.call_soon_threadsafe(self._report, value)

    def _report(self, value: types.WorkDoneProgressReport) -> None:
        if self.held is not None:
            self.held.append(value)
        elif self.token is not None:
            self.ls.work_done_progress.report(self.token, value)

    async def follow(self, load: Future) -> None:
        """Progress until the load ends; a failure is shown, the server lives on."""
        self.token = await _create_progress(self.ls)
        if self.token is not None:
            self.ls.work_done_progress.begin(self.token, types.WorkDoneProgressBegin(
                title="sc2-lsp: loading model", percentage=0, cancellable=False))
        held, self.held = self.held, None
        for value in held:
            self._report(value)
        try:
            await asyncio.wrap_future(load)
            done = f"{self.ls.session.status()['model']} ready"
        except Exception as exc:  # any load failure is the user's to read, never a crash
            done = f"model load failed: {exc}"
            self.ls.notify_user(f"sc2-lsp: {done}", types.MessageType.Error)
        log.info(done)
        if self.token is not None:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=done))


async def _create_progress(ls: Sc2Server) -> str | None:
    caps = ls.client_capabilities.window
    if caps is None or not caps.work_done_progress:
        return None
    token = f"sc2-load-{uuid.uuid4().hex[:8]}"
    try:
        await ls.work_done_progress.create_async(token)
    except Exception:  # a client that refuses the token just gets no progress bar
        return None
    return token


# ----------------------------------------------------------------------- documents
def register_documents(server: Sc2Server) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: Sc2Server, params: types.DidOpenTextDocumentParams) -> None:
        d = params.text_document
        ls.session.store.open(d.uri, d.text, d.language_id, d.version)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: Sc2Server, params: types.DidChangeTextDocumentParams) -> None:
        doc = ls.session.store.get(params.text_document.uri)
        if doc is None:
            return
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                r = change.range
                doc.apply_change((r.start.line, r.start.character),
                                 (r.end.line, r.end.character), change.text, ls.encoding,
                                 params.text_document.version)
            else:
                doc.apply_change(None, None, change.text, ls.encoding,
                                 params.text_document.version)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: Sc2Server, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.session.store.close(uri)
        if ls.session.pipeline is not None:
            ls.session.pipeline.forget(uri)


# ---------------------------------------------------------------------- completion
# Non-empty on purpose: ALE takes `completionProvider: {}` for "no completion". The
# characters are where code continues; after them there is no word for clients to filter.
COMPLETION_OPTIONS = types.CompletionOptions(trigger_characters=[".", "(", "[", "{", ","],
                                             resolve_provider=False)


def register_completion(server: Sc2Server) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(ls: Sc2Server, params: types.InlineCompletionParams
                                ) -> types.InlineCompletionList:
        position = _cursor(ls, params.text_document.uri, params.position)
        completion = await complete(ls, params.text_document.uri, position)
        if completion is None or not completion.text:
            return types.InlineCompletionList(items=[])
        item = types.InlineCompletionItem(insert_text=completion.text,
                                          range=_range(position, completion, ls))
        return types.InlineCompletionList(items=[item])

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, COMPLETION_OPTIONS)
    async def completion(ls: Sc2Server, params: types.CompletionParams
                         ) -> types.CompletionList:
        empty = types.CompletionList(is_incomplete=True, items=[])
        if not ls.session.settings.fallback_completion:
            return empty
        uri = params.text_document.uri
        position = _cursor(ls, uri, params.position)
        # Read before the model runs: the document may change meanwhile.
        word = typed_word(ls.session.store.get(uri), position, ls.encoding)
        result = await complete(ls, uri, position)
        if result is None or not result.text:
            return empty
        item = completion_item(word, result, position, ls.encoding,
                               insert_replace_supported(ls.client_capabilities))
        return types.CompletionList(is_incomplete=True, items=[item])


async def complete(ls: Sc2Server, uri: str, position: types.Position) -> Completion | None:
    """Latest wins per document: this request cancels the one before it."""
    session = ls.session
    doc = session.store.get(uri)
    if doc is None or session.state != "ready":
        return None
    offset = doc.offset_at(position.line, position.character, ls.encoding)
    cancel = session.begin(uri)
    try:
        step = session.prepare(uri, offset)
        if step is None or isinstance(step, Completion):
            result = step
        else:
            result = await asyncio.wrap_future(session.run(step, cancel))
    except asyncio.CancelledError:  # $/cancelRequest: stop the generation between steps
        cancel.set()
        session.counters.cancelled += 1
        raise
    finally:
        session.end(uri, cancel)
    if result is not None:
        session.finished(result)
        log.debug("completion %s: %r", result.stats, result.text)
        if cancel.is_set():
            return None
    return result


def _cursor(ls: Sc2Server, uri: str, position: types.Position) -> types.Position:
    """The request's position by the documents' one rule (past a line's end: its end,
    inside a character: its start), so the range sent back starts where the text goes."""
    doc = ls.session.store.get(uri)
    if doc is None:
        return position
    return types.Position(*doc.clamp(position.line, position.character, ls.encoding))


def _range(position: types.Position, completion: Completion, ls: Sc2Server) -> types.Range:
    """From the cursor to past the replaced closers (all on the cursor's line)."""
    end = position.character + text_units(completion.replaced, ls.encoding)
    return types.Range(position, types.Position(position.line, end))


# ------------------------------------------------------------------------- custom
def register_custom(server: Sc2Server) -> None:
    @server.feature("sc2/status")
    def status(ls: Sc2Server, params) -> dict:
        return ls.session.status()

    if os.environ.get(DEBUG_ENV) == "1":
        @server.feature("sc2/debugDocument")
        def debug_document(ls: Sc2Server, params) -> dict | None:
            """The server's copy of a document, for tests that compare it with the client's."""
            doc = ls.session.store.get(getattr(params, "uri", None))
            if doc is None:
                return None
            return {"text": doc.text, "length": len(doc.text), "version": doc.version,
                    "lineCount": doc.line_count, "pendingRequests": ls.protocol.pending_futures}

    @server.feature("sc2/didShowCompletion")
    def did_show(ls: Sc2Server, params) -> None:
        ls.session.counters.shown += 1

    @server.feature("sc2/didAcceptCompletion")
    def did_accept(ls: Sc2Server, params) -> None:
        counters = ls.session.counters
        counters.accepted += 1
        length = getattr(params, "acceptedLength", None) if params is not None else None
        if isinstance(length, int) and length > 0:
            counters.accepted_chars += length


HANDLERS = (register_lifecycle, register_documents, register_completion, register_custom)


def _workspace_root(params: types.InitializeParams) -> Path | None:
    uri = (params.workspace_folders[0].uri if params.workspace_folders else params.root_uri)
    if uri is None and params.root_path:
        return Path(params.root_path)
    if uri is None or not uri.startswith("file:"):
        return None
    return Path(unquote(urlparse(uri).path))

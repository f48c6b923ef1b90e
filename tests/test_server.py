"""The real server over stdio (pytest-lsp), with real models, as an editor uses it.

Inline completion is tested with VS Code's and Neovim's recorded capabilities
plus inline-completion support; the `textDocument/completion` fallback with the
recorded capabilities as they are (they predate inline completion).
"""

from __future__ import annotations

import asyncio
import functools
import sys

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from sc2_lsp.bench.lsp_client import as_plain
from sc2_lsp.completion import CompletionPipeline
from sc2_lsp.config import Settings
from sc2_lsp.documents import DocumentStore
from sc2_lsp.engine import LocalEngine

SERVER = [sys.executable, "-m", "sc2_lsp", "--log-level", "warning", "serve"]
# One server per client kind for the whole module: tests use their own documents
# and compare counters before and after, so they don't depend on each other.
pytestmark = pytest.mark.asyncio(loop_scope="module")
CLIENTS = ["visual-studio-code", "neovim@v0.10.0"]
SOURCE = ("import os\n\n\ndef read_lines(path):\n    with open(path) as handle:\n"
          "        return handle.read().splitlines()\n\n\ndef count_words(text):\n    ")
URI = "file:///work/sample/words.py"
# Tests check behaviour, not speed: no deadline may cut a generation on a busy machine.
# The log level beats the command line's `warning`: tests read the server's info lines.
OPTIONS = {"deadlineMs": 600_000, "logLevel": "info"}


def with_inline(spec: str, encodings: list[str] | None = None) -> types.ClientCapabilities:
    caps = client_capabilities(spec)
    caps.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    if encodings is not None:
        caps.general = caps.general or types.GeneralClientCapabilities()
        caps.general.position_encodings = encodings
    return caps


async def start(client: LanguageClient, caps, options: dict | None = None):
    result = await client.initialize_session(types.InitializeParams(
        capabilities=caps, initialization_options={**OPTIONS, **(options or {})}))
    await wait_ready(client)
    return result


async def status(client: LanguageClient) -> dict:
    return as_plain(await client.protocol.send_request_async("sc2/status", {}))


async def wait_ready(client: LanguageClient) -> dict:
    for _ in range(600):
        state = await status(client)
        if state["state"] in ("ready", "error"):
            return state
        await asyncio.sleep(0.1)
    raise TimeoutError("model did not load")


async def eventually(condition, tries: int = 100) -> bool:
    for _ in range(tries):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


def open_doc(client: LanguageClient, text: str, uri: str = URI, language: str = "python"):
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)))


def end_of(text: str) -> types.Position:
    lines = text.split("\n")
    return types.Position(len(lines) - 1, len(lines[-1].encode("utf-16-le")) // 2)


async def inline(client: LanguageClient, position: types.Position, uri: str = URI):
    return await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri), position=position,
        context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic)))


def in_process(text: str, offset: int, language: str = "python", **settings) -> str:
    """What the same pipeline answers in-process, for the same buffer."""
    store = DocumentStore()
    doc = store.open(URI, text, language)
    settings = Settings(deadline_ms=OPTIONS["deadlineMs"], **settings)
    return CompletionPipeline(_engine(settings.model_spec()), settings, store).complete(
        doc, offset).text


@functools.cache
def _engine(spec) -> LocalEngine:
    """One engine per model for the whole module: loading is the slow part, and a fresh
    pipeline (its own store and cache) keeps each answer independent of the last."""
    return LocalEngine.load(spec)


# The random tiny model, unfiltered, always has something to say: the mechanics
# (cache, typing-through, counters) are tested independently of model quality.
RAW_MODEL = {"model": "random:tiny", "postprocess": False}
RAW_SETTINGS = {"model": "random:tiny", "postprocess": False}  # the same, as Settings fields
# The `$/progress` of loading random:tiny, exactly: Begin, a Report per stage, End.
TINY_LOAD_PROGRESS = [
    types.WorkDoneProgressBegin(title="sc2-lsp: loading model", percentage=0, cancellable=False),
    types.WorkDoneProgressReport(message="loading random:tiny", percentage=5),
    types.WorkDoneProgressReport(message="initialising random weights", percentage=15),
    types.WorkDoneProgressReport(message="random:tiny ready on cpu", percentage=100),
    types.WorkDoneProgressEnd(message="random:tiny ready"),
]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=CLIENTS,
                    scope="module")
async def client(lsp_client: LanguageClient, request):
    lsp_client.init_result = await start(lsp_client, with_inline(request.param), RAW_MODEL)
    yield
    await lsp_client.shutdown_session()


async def test_capabilities_progress_and_ready_state(client: LanguageClient):
    caps = client.init_result.capabilities
    assert caps.inline_completion_provider is not None and caps.completion_provider is not None
    assert caps.text_document_sync.change == types.TextDocumentSyncKind.Incremental
    assert caps.position_encoding == types.PositionEncodingKind.Utf16
    state = await status(client)
    assert state["state"] == "ready" and state["model"] == "random:tiny"
    assert state["settings"]["postprocess"] is False  # flat initializationOptions apply
    (reports,) = client.progress_reports.values()  # one token: the model's load
    assert reports == TINY_LOAD_PROGRESS
    assert any("random:tiny ready" in m.message for m in client.log_messages)


async def test_inline_completion_comes_from_the_model(client: LanguageClient):
    open_doc(client, SOURCE)
    before = (await status(client))["counters"]["model_calls"]
    result = await inline(client, end_of(SOURCE))
    assert len(result.items) == 1
    item = result.items[0]
    expected = in_process(SOURCE, len(SOURCE), **RAW_SETTINGS)
    assert item.insert_text and item.insert_text == expected
    assert item.range.start == end_of(SOURCE)
    state = await status(client)
    last = state["last"]
    assert state["counters"]["model_calls"] == before + 1
    assert last["source"] == "model" and last["generated_tokens"] > 0
    assert last["prefilled_tokens"] == last["prompt_tokens"] - last["reused_tokens"]


async def test_typing_the_suggestion_is_answered_from_cache(client: LanguageClient):
    uri = "file:///work/sample/typing.py"
    open_doc(client, SOURCE, uri)
    first = (await inline(client, end_of(SOURCE), uri)).items[0].insert_text
    before = (await status(client))["counters"]
    assert len(first) >= 2
    pos = end_of(SOURCE)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        [types.TextDocumentContentChangePartial(range=types.Range(pos, pos), text=first[0])]))
    after = await inline(client, types.Position(pos.line, pos.character + 1), uri)
    assert after.items[0].insert_text == first[1:]
    state = await status(client)
    assert state["last"]["source"] == "typing-through"
    assert state["counters"]["typing_through"] == before["typing_through"] + 1
    assert state["counters"]["model_calls"] == before["model_calls"]


async def test_acceptance_counters(client: LanguageClient):
    keys = ("shown", "accepted", "accepted_chars")
    before = (await status(client))["counters"]
    client.protocol.notify("sc2/didShowCompletion", {"uri": URI, "text": "x"})
    client.protocol.notify("sc2/didAcceptCompletion", {"uri": URI, "acceptedLength": 7})
    after = (await status(client))["counters"]
    assert [after[k] - before[k] for k in keys] == [1, 1, 7]


@pytest.mark.parametrize("text, position, uri", [
    (SOURCE, types.Position(0, 0), "file:///never/opened.py"),
    ("\x00\x01binary\x00" * 1000, types.Position(0, 5), "file:///t/binary.py"),
])
async def test_bad_input_gives_an_empty_answer_and_a_live_server(
        client: LanguageClient, text, position, uri):
    if "never" not in uri:
        open_doc(client, text, uri)
    result = await inline(client, position, uri)
    assert len(result.items) == 0
    assert (await status(client))["state"] == "ready"


async def test_sloppy_positions_complete_where_the_text_goes(client: LanguageClient):
    """Past the document's end means its end, past a line's end the line's end: the
    answer and its range are those of the clamped position."""
    uri = "file:///t/past_end.py"
    open_doc(client, SOURCE, uri)
    at_end = await inline(client, end_of(SOURCE), uri)
    assert at_end.items
    for sloppy in (types.Position(400, 3), types.Position(end_of(SOURCE).line, 90)):
        past = await inline(client, sloppy, uri)
        assert [(i.insert_text, i.range) for i in past.items] == [
            (i.insert_text, i.range) for i in at_end.items]
        assert past.items[0].range.start == end_of(SOURCE)


async def test_lone_surrogates_are_completed_around(client: LanguageClient):
    """Text that isn't valid Unicode (a lone surrogate, which UTF-16 clients can hold)
    reaches the model as U+FFFD and never fails the request."""
    uri = "file:///t/surrogate.py"
    text = SOURCE.replace("import os", 'import os\nMARK = "\ud83d"  # half an emoji \ud83d')
    open_doc(client, text, uri)
    result = await inline(client, end_of(text), uri)
    assert result.items and all(item.insert_text for item in result.items)
    after_mark = await inline(client, types.Position(1, 9), uri)  # right after the surrogate
    assert isinstance(after_mark, types.InlineCompletionList)
    assert (await status(client))["state"] == "ready"


async def test_unknown_language_and_huge_document(client: LanguageClient):
    notes = "some words here\nand more "
    open_doc(client, notes, "file:///t/notes.xyz", "klingon")
    result = await inline(client, types.Position(1, 9), "file:///t/notes.xyz")
    expected = in_process(notes, len(notes), "klingon", **RAW_SETTINGS)  # completed as plain text
    assert expected and [item.insert_text for item in result.items] == [expected]
    huge = ("x = 1\n" * 900_000)[:5_000_000]
    open_doc(client, huge, "file:///t/huge.py")
    result = await inline(client, end_of(huge), "file:///t/huge.py")
    assert len(result.items) == 0
    assert (await status(client))["state"] == "ready"


# --------------------------------------------------------------- fallback completion
@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=CLIENTS,
                    loop_scope="module")
async def plain_client(lsp_client: LanguageClient, request):
    await start(lsp_client, client_capabilities(request.param))
    yield
    await lsp_client.shutdown_session()


async def test_completion_fallback_gives_the_same_text(plain_client: LanguageClient):
    open_doc(plain_client, SOURCE)
    result = await plain_client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(URI), end_of(SOURCE)))
    expected = in_process(SOURCE, len(SOURCE))
    assert [i.text_edit.new_text for i in result.items] == ([expected] if expected else [])


# ------------------------------------------------------------------------ encodings
UNICODE = 'label = "😀 中文 é" + str(\n'


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), loop_scope="module")
async def any_client(lsp_client: LanguageClient):
    """A client that initializes in the test itself, with the capabilities it chooses."""
    yield
    await lsp_client.shutdown_session()


@pytest.mark.parametrize("offered, units", [
    (["utf-16"], lambda s: len(s.encode("utf-16-le")) // 2),
    (["utf-8", "utf-16"], lambda s: len(s.encode("utf-8"))),
    (["utf-32"], len),
])
async def test_positions_follow_the_negotiated_encoding(any_client: LanguageClient, offered,
                                                        units):
    result = await start(any_client, with_inline("neovim@v0.10.0", offered))
    assert result.capabilities.position_encoding == offered[0]
    line = 'label = "😀 中文 é" + str('
    text = UNICODE + SOURCE
    open_doc(any_client, text)
    position = types.Position(0, units(line))
    answer = await inline(any_client, position)
    expected = in_process(text, len(line))
    assert [i.insert_text for i in answer.items] == ([expected] if expected else [])
    for item in answer.items:
        assert item.range.start == position


# ------------------------------------------------------------------------- settings
async def test_invalid_settings_give_one_message_and_defaults(any_client: LanguageClient):
    await start(any_client, with_inline("visual-studio-code"),
                {"multiline": "sometimes", "maxNewTokens": -3, "enable": True})
    (message,) = [m.message for m in any_client.messages]
    assert "multiline" in message and "maxNewTokens" in message and "enable" not in message
    assert (await status(any_client))["state"] == "ready"


async def test_a_failed_load_is_shown_and_the_server_keeps_answering(
        any_client: LanguageClient, tmp_path):
    await start(any_client, with_inline("visual-studio-code"))
    missing = str(tmp_path / "no-model")
    any_client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"sc2": {"model": missing}}))
    state = await wait_ready(any_client)
    assert state["state"] == "error" and missing in state["error"]
    # The state turns to error on the worker thread; the message follows from the loop.
    assert await eventually(lambda: any(m.type == types.MessageType.Error and missing in
                                        m.message for m in any_client.messages))
    open_doc(any_client, SOURCE)
    assert len((await inline(any_client, end_of(SOURCE))).items) == 0
    any_client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"sc2": {}}))
    assert (await wait_ready(any_client))["state"] == "ready"


# Started with a model and a bound on the command line, as `sc2-lsp serve --model M`.
CLI_SERVER = [*SERVER, "--model", "random:tiny", "--max-new-tokens", "7"]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=CLI_SERVER), loop_scope="module")
async def cli_client(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


def configure(client: LanguageClient, settings) -> None:
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings))


async def test_settings_stay_put_across_layers_and_pushes(cli_client: LanguageClient):
    """defaults < command line < initializationOptions (here nested; every other test
    sends them flat) < didChangeConfiguration, which never starts a needless load."""
    await cli_client.initialize_session(types.InitializeParams(
        capabilities=with_inline("visual-studio-code"),
        initialization_options={"sc2": {"contextTokens": 1024, "deadlineMs": 600_000}}))
    configure(cli_client, {})  # what eglot sends right after opening a file
    assert (await status(cli_client))["state"] == "loading"  # during the first load
    assert (await wait_ready(cli_client))["state"] == "ready"
    (reports,) = cli_client.progress_reports.values()  # one load, one progress
    assert reports == TINY_LOAD_PROGRESS

    async def effective() -> tuple:
        state = await status(cli_client)
        settings = state["settings"]
        return state["model"], settings["maxNewTokens"], settings["contextTokens"]

    assert await effective() == ("random:tiny", 7, 1024)
    configure(cli_client, {"sc2": {"maxNewTokens": 9}})
    assert await effective() == ("random:tiny", 9, 1024)
    configure(cli_client, [1, 2])
    assert await effective() == ("random:tiny", 9, 1024)
    configure(cli_client, {"maxNewTokens": 600, "contextTokens": 512})
    assert await effective() == ("random:tiny", 7, 512)
    # What VS Code sends once the user clears its keys: back to the command line's values.
    configure(cli_client, {"sc2": {"model": None, "maxNewTokens": None, "contextTokens": None}})
    assert await effective() == ("random:tiny", 7, 2048)
    assert [m.message for m in cli_client.messages] == [
        "sc2 settings must be an object, got [1, 2]; settings unchanged",
        "Invalid sc2 settings: 'maxNewTokens': 600 is outside 1..512 (keeping 7)"]
    assert len(cli_client.progress_reports) == 1 and (await status(cli_client))["state"] == "ready"

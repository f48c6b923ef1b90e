"""The real server over stdio (pytest-lsp), with real models, as an editor uses it.

Inline completion is tested with VS Code's and Neovim's recorded capabilities
plus inline-completion support; the `textDocument/completion` fallback with the
recorded capabilities as they are (they predate inline completion).
"""

from __future__ import annotations

import asyncio
import sys

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from sc2_lsp.completion import CompletionPipeline
from sc2_lsp.config import Settings
from sc2_lsp.documents import DocumentStore
from sc2_lsp.engine import Engine, ModelSpec

SERVER = [sys.executable, "-m", "sc2_lsp", "--log-level", "warning", "serve"]
CLIENTS = ["visual-studio-code", "neovim@v0.10.0"]
SOURCE = ("import os\n\n\ndef read_lines(path):\n    with open(path) as handle:\n"
          "        return handle.read().splitlines()\n\n\ndef count_words(text):\n    ")
URI = "file:///work/sample/words.py"


def with_inline(spec: str, encodings: list[str] | None = None) -> types.ClientCapabilities:
    caps = client_capabilities(spec)
    caps.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    if encodings is not None:
        caps.general = caps.general or types.GeneralClientCapabilities()
        caps.general.position_encodings = encodings
    return caps


async def start(client: LanguageClient, caps, options: dict | None = None):
    result = await client.initialize_session(types.InitializeParams(
        capabilities=caps, initialization_options=options or {}))
    await wait_ready(client)
    return result


async def status(client: LanguageClient) -> dict:
    return as_dict(await client.protocol.send_request_async("sc2/status", {}))


def as_dict(value):
    if hasattr(value, "__dict__"):
        return {k: as_dict(v) for k, v in vars(value).items()}
    return value


async def wait_ready(client: LanguageClient) -> dict:
    for _ in range(600):
        state = await status(client)
        if state["state"] in ("ready", "error"):
            return state
        await asyncio.sleep(0.1)
    raise TimeoutError("model did not load")


def open_doc(client: LanguageClient, text: str, uri: str = URI, language: str = "python"):
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri, language, 1, text)))


def end_of(text: str) -> types.Position:
    lines = text.split("\n")
    return types.Position(len(lines) - 1, len(lines[-1].encode("utf-16-le")) // 2)


async def inline(client: LanguageClient, position: types.Position, uri: str = URI):
    return await client.text_document_inline_completion_async(types.InlineCompletionParams(
        types.TextDocumentIdentifier(uri), position,
        types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic)))


def in_process(text: str, offset: int, **settings) -> str:
    """What the same pipeline answers in-process, for the same buffer."""
    store = DocumentStore()
    doc = store.open(URI, text, "python")
    engine = Engine.load(ModelSpec())
    return CompletionPipeline(engine, Settings(**settings), store).complete(doc, offset).text


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=CLIENTS)
async def client(lsp_client: LanguageClient, request):
    lsp_client.init_result = await start(lsp_client, with_inline(request.param))
    yield
    await lsp_client.shutdown_session()


async def test_capabilities_progress_and_ready_state(client: LanguageClient):
    caps = client.init_result.capabilities
    assert caps.inline_completion_provider is not None and caps.completion_provider is not None
    assert caps.text_document_sync.change == types.TextDocumentSyncKind.Incremental
    assert caps.position_encoding == types.PositionEncodingKind.Utf16
    state = await status(client)
    assert state["state"] == "ready" and state["model"].endswith("sc2-mini")
    kinds = [type(v).__name__ for reports in client.progress_reports.values() for v in reports]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"
    assert "WorkDoneProgressReport" in kinds


async def test_inline_completion_comes_from_the_model(client: LanguageClient):
    open_doc(client, SOURCE)
    result = await inline(client, end_of(SOURCE))
    assert len(result.items) == 1
    item = result.items[0]
    assert item.insert_text and item.insert_text == in_process(SOURCE, len(SOURCE))
    assert item.range.start == end_of(SOURCE)
    last = (await status(client))["last"]
    assert last["source"] == "model" and last["generated_tokens"] > 0
    assert last["prefilled_tokens"] == last["prompt_tokens"] - last["reused_tokens"]


async def test_typing_the_suggestion_is_answered_from_cache(client: LanguageClient):
    open_doc(client, SOURCE)
    first = (await inline(client, end_of(SOURCE))).items[0].insert_text
    assert len(first) >= 2
    pos = end_of(SOURCE)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(URI, 2),
        [types.TextDocumentContentChangePartial(range=types.Range(pos, pos), text=first[0])]))
    after = await inline(client, types.Position(pos.line, pos.character + 1))
    assert after.items[0].insert_text == first[1:]
    state = await status(client)
    assert state["last"]["source"] == "typing-through"
    assert state["counters"]["typing_through"] == 1 and state["counters"]["model_calls"] == 1


async def test_acceptance_counters(client: LanguageClient):
    client.protocol.notify("sc2/didShowCompletion", {"uri": URI, "text": "x"})
    client.protocol.notify("sc2/didAcceptCompletion", {"uri": URI, "acceptedLength": 7})
    counters = (await status(client))["counters"]
    assert (counters["shown"], counters["accepted"], counters["accepted_chars"]) == (1, 1, 7)


@pytest.mark.parametrize("text, position, uri, language", [
    (SOURCE, types.Position(400, 0), URI, "python"),              # line out of range
    (SOURCE, types.Position(0, 0), "file:///never/opened.py", "python"),
    ("\x00\x01binary\x00" * 1000, types.Position(0, 5), URI, "python"),
])
async def test_bad_input_gives_an_empty_answer_and_a_live_server(
        client: LanguageClient, text, position, uri, language):
    open_doc(client, text, URI, language)
    result = await inline(client, position, uri)
    assert result.items == [] or all(isinstance(i.insert_text, str) for i in result.items)
    assert (await status(client))["state"] == "ready"


async def test_unknown_language_and_huge_document(client: LanguageClient):
    open_doc(client, "some words here\nand more ", "file:///t/notes.xyz", "klingon")
    result = await inline(client, types.Position(1, 9), "file:///t/notes.xyz")
    assert isinstance(result.items, list)
    huge = ("x = 1\n" * 900_000)[:5_000_000]
    open_doc(client, huge, "file:///t/huge.py")
    result = await inline(client, end_of(huge), "file:///t/huge.py")
    assert isinstance(result.items, list)
    assert (await status(client))["state"] == "ready"


# --------------------------------------------------------------- fallback completion
@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=CLIENTS)
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


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
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

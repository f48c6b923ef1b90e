"""The event loop never waits for the model: with a generation running, status
requests, edits and cancels are answered; a newer request wins."""

from __future__ import annotations

import asyncio

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.conftest import tiny_model
from tests.test_server import SERVER, URI, end_of, open_doc, start, status, with_inline

SLOW_TEXT = "def main():\n    pass\n\n\n"


@pytest.fixture(scope="module")
def slow_model_folder(tmp_path_factory, tokenizer) -> str:
    """A random StarCoder2 big enough that 400 tokens take seconds, saved like any
    local checkpoint (safetensors + tokenizer); once for the module, a server per test."""
    folder = tmp_path_factory.mktemp("slow-model")
    model = tiny_model(tokenizer, hidden_size=512, intermediate_size=2048, num_hidden_layers=6,
                       num_attention_heads=8, num_key_value_heads=2)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def slow(lsp_client: LanguageClient, slow_model_folder):
    options = {"model": slow_model_folder, "multiline": "always",
               "maxNewTokens": 400, "deadlineMs": 120000, "cacheSize": 0}
    await start(lsp_client, with_inline("visual-studio-code"), options)
    open_doc(lsp_client, SLOW_TEXT)
    yield
    await lsp_client.shutdown_session()


def request_inline(client: LanguageClient, msg_id: str):
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(URI), position=end_of(SLOW_TEXT),
        context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked))
    return asyncio.ensure_future(client.protocol.send_request_async(
        types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id))


async def wait_until_generating(client: LanguageClient) -> None:
    """The worker took the request: the server counted it and the model is busy."""
    for _ in range(300):
        if (await status(client))["counters"]["requests"] >= 1:
            return
        await asyncio.sleep(0.05)


async def test_status_edits_and_a_newer_request_during_a_generation(slow: LanguageClient):
    client = slow
    answers: list[str] = []
    first = request_inline(client, "first")
    first.add_done_callback(lambda _: answers.append("first"))
    await wait_until_generating(client)
    state = await status(client)
    answers.append("status")
    assert state["state"] == "ready"
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=URI, version=2),
        [types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(0, 0), types.Position(0, 0)), text="# x\n")]))
    second = request_inline(client, "second")
    first_result = await first
    assert len(first_result.items) == 0  # cancelled by the newer request for the same document
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="second"))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(second, 120)
    assert answers[:2] == ["status", "first"]
    counters = (await status(client))["counters"]
    assert counters["cancelled"] == 2 and counters["model_calls"] == 2


async def test_shutdown_is_answered_during_a_generation(slow: LanguageClient):
    pending = request_inline(slow, "long")
    await wait_until_generating(slow)
    await asyncio.wait_for(slow.shutdown_async(None), 30)
    # The generation in flight is stopped; pygls answers every pending request as
    # cancelled on `shutdown` (before the stopped handler could return its empty list).
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(pending, 60)
    slow.exit(None)
    await asyncio.wait_for(slow._server.wait(), 30)
    slow.capabilities = None  # already shut down: the fixture has nothing left to do



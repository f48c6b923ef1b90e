"""`textDocument/completion` from the real server, as clients without inline completion
filter it: the item starts at the typed word and holds word + suggestion."""

from __future__ import annotations

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.test_server import SERVER, URI, end_of, in_process, open_doc, start

pytestmark = pytest.mark.asyncio(loop_scope="module")
# The embedded model, greedy: the server's answer is the in-process pipeline's.
TYPED = "def greet(name):\n    return 'Hello ' + name\n\n\nmessage = gre"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module",
                    params=["neovim@v0.7.0", "visual-studio-code"])
async def client(lsp_client: LanguageClient, request):
    lsp_client.init_result = await start(lsp_client, client_capabilities(request.param))
    lsp_client.spec = request.param
    yield
    await lsp_client.shutdown_session()


async def complete(client: LanguageClient, text: str) -> list[types.CompletionItem]:
    open_doc(client, text)
    try:
        result = await client.text_document_completion_async(types.CompletionParams(
            types.TextDocumentIdentifier(URI), end_of(text)))
    finally:
        client.text_document_did_close(types.DidCloseTextDocumentParams(
            types.TextDocumentIdentifier(URI)))
    return result.items


async def test_completion_options_are_not_empty(client: LanguageClient):
    options = client.init_result.capabilities.completion_provider
    assert list(options.trigger_characters) == [".", "(", "[", "{", ","]
    assert options.resolve_provider is False


async def test_the_item_starts_at_the_typed_word(client: LanguageClient):
    suggestion = in_process(TYPED, len(TYPED))
    assert suggestion and "\n" not in suggestion  # the embedded model: one line here
    (item,) = await complete(client, TYPED)
    text = "gre" + suggestion
    assert (item.label, item.filter_text, item.sort_text) == (text, None, "0")
    assert item.insert_text_format == types.InsertTextFormat.PlainText
    word = types.Range(types.Position(4, 10), types.Position(4, 13))
    if client.spec == "visual-studio-code":  # insertReplaceSupport
        assert item.text_edit == types.InsertReplaceEdit(text, insert=word, replace=word)
    else:
        assert item.text_edit == types.TextEdit(word, text)


async def test_after_a_non_word_character_the_item_starts_at_the_cursor(client: LanguageClient):
    text = TYPED.replace("message = gre", "print(greet(")
    suggestion = in_process(text, len(text))
    items = await complete(client, text)
    assert [i.text_edit.new_text for i in items] == ([suggestion] if suggestion else [])
    for item in items:
        edit_range = getattr(item.text_edit, "range", None) or item.text_edit.insert
        assert edit_range.start == end_of(text)

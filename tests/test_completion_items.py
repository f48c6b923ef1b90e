"""Completion items as clients filter them: from the typed word's start, word + suggestion."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import client_capabilities

from sc2_lsp.completion import Completion
from sc2_lsp.completion_items import completion_item, insert_replace_supported, typed_word
from sc2_lsp.documents import Document

P = types.Position


def item_at(text: str, suggestion: str, replaced: str = "", *, encoding: str = "utf-16",
            insert_replace: bool = False, language: str = "python") -> types.CompletionItem:
    doc = Document("file:///w/main.py", text, language)
    line, col = text.count("\n"), text.rsplit("\n", 1)[-1]
    position = P(line, len(col.encode("utf-16-le")) // 2 if encoding == "utf-16" else
                 len(col.encode()) if encoding == "utf-8" else len(col))
    word = typed_word(doc, position, encoding)
    return completion_item(word, Completion(suggestion, len(text), replaced), position,
                           encoding, insert_replace)


def test_the_item_covers_the_typed_word():
    item = item_at("import os\nx = gre", "et('you')")
    assert (item.label, item.filter_text) == ("greet('you')", None)
    assert item.text_edit == types.TextEdit(types.Range(P(1, 4), P(1, 7)), "greet('you')")
    assert item.insert_text_format == types.InsertTextFormat.PlainText
    assert item.documentation is None


def test_after_a_non_word_character_the_range_starts_at_the_cursor():
    item = item_at("print(", "'hi')", ")")
    assert item.label == "'hi')"
    assert item.text_edit == types.TextEdit(types.Range(P(0, 6), P(0, 7)), "'hi')")


@pytest.mark.parametrize("encoding, start", [("utf-16", 11), ("utf-8", 13), ("utf-32", 10)])
def test_the_word_start_is_counted_in_the_negotiated_encoding(encoding, start):
    item = item_at("s = '😀' + pré", "fix", encoding=encoding)
    end = start + {"utf-16": 3, "utf-8": 4, "utf-32": 3}[encoding]
    assert item.text_edit.range == types.Range(P(0, start), P(0, end))
    assert item.text_edit.new_text == "préfix"


def test_a_multi_line_suggestion_is_one_plain_text_edit_labelled_by_its_first_line():
    item = item_at("def total(xs):\n    res", "ult = 0\n    for x in xs:\n        result += x")
    text = "result = 0\n    for x in xs:\n        result += x"
    assert item.label == "result = 0"
    assert item.text_edit == types.TextEdit(types.Range(P(1, 4), P(1, 7)), text)
    assert item.insert_text_format == types.InsertTextFormat.PlainText
    assert item.documentation == text


def test_a_suggestion_opening_with_a_line_break_is_labelled_by_its_code():
    assert item_at("def f():", "\n    return 1").label == "return 1"


def test_insert_replace_edit_where_the_client_supports_it():
    item = item_at("f(gre", "et())", ")", insert_replace=True)
    assert item.text_edit == types.InsertReplaceEdit(
        "greet())", insert=types.Range(P(0, 2), P(0, 5)), replace=types.Range(P(0, 2), P(0, 6)))


def test_insert_replace_support_is_read_from_the_capabilities():
    assert insert_replace_supported(client_capabilities("visual-studio-code"))
    assert not insert_replace_supported(client_capabilities("neovim@v0.7.0"))
    assert not insert_replace_supported(types.ClientCapabilities())


def test_a_php_variable_keeps_its_dollar():
    doc = Document("file:///w/a.php", "<?php\n$total = $to", "php")
    assert typed_word(doc, P(1, 12), "utf-16") == "$to"
    assert typed_word(None, P(1, 12), "utf-16") == ""
    assert typed_word(doc, P(9, 0), "utf-16") == "$to"  # past the end: clamped to it

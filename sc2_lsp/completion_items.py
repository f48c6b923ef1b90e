"""The `textDocument/completion` item of a suggestion, built the way clients filter.

Clients without inline completion (Neovim's omnifunc, eglot, ALE, vim-lsp) keep
only items that start with the word being typed: an item holding just the rest
after the cursor, with an empty range there, is dropped after `x = gre`. So the
edit starts where the word starts and its text and label repeat the word.
"""

from __future__ import annotations

from lsprotocol import types

from .completion import Completion
from .documents import Document, text_units
from .languages import word_before


def typed_word(doc: Document | None, position: types.Position, encoding: str) -> str:
    """The word before the cursor, by the document's language's identifier rules."""
    if doc is None:
        return ""
    offset = doc.offset_at(position.line, position.character, encoding)
    line_start = doc.line_start(doc.line_of(offset))
    return word_before(doc.text[line_start:offset], doc.language_id, doc.path)


def completion_item(word: str, completion: Completion, position: types.Position,
                    encoding: str, insert_replace: bool) -> types.CompletionItem:
    """One plain-text item: typed word + suggestion, from the word's start to past the
    closers the suggestion replaces (on the cursor's line, as LSP requires).

    No `filterText`: it defaults to the label, and Neovim's omnifunc takes the edit's
    start as the word's start only when items have none (else its 'iskeyword' word,
    which has no `$`: a PHP `$to` would be dropped)."""
    start = types.Position(position.line, position.character - text_units(word, encoding))
    end = types.Position(position.line,
                         position.character + text_units(completion.replaced, encoding))
    text = word + completion.text
    edit: types.TextEdit | types.InsertReplaceEdit
    if insert_replace:
        edit = types.InsertReplaceEdit(text, insert=types.Range(start, position),
                                       replace=types.Range(start, end))
    else:
        edit = types.TextEdit(types.Range(start, end), text)
    return types.CompletionItem(
        label=_label(text), kind=types.CompletionItemKind.Text, detail="sc2-lsp",
        documentation=text if "\n" in text else None, sort_text="0", text_edit=edit,
        insert_text_format=types.InsertTextFormat.PlainText)


def insert_replace_supported(caps: types.ClientCapabilities) -> bool:
    """Whether the client takes an InsertReplaceEdit (VS Code does, Neovim and eglot not)."""
    item = caps.text_document and caps.text_document.completion and \
        caps.text_document.completion.completion_item
    return bool(item and item.insert_replace_support)


def _label(text: str) -> str:
    """The first line: menus show one line, and filtering compares its start. A text
    that opens with a line break shows its first line with code instead."""
    first = text.split("\n", 1)[0]
    if first.strip():
        return first
    return next((line.strip() for line in text.split("\n") if line.strip()), text)

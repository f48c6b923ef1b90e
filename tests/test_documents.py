"""Documents: offsets in every position encoding, incremental edits, trees, recent edits."""

from __future__ import annotations

import random

import pytest

from sc2_lsp.documents import MAX_PARSE_CHARS, Document, DocumentStore
from sc2_lsp.languages import parser_for

EMOJI_CJK = "a😀b\r\n漢字x = 1\n"


def sexp(tree) -> str:
    return str(tree.root_node)


@pytest.mark.parametrize(
    ("encoding", "character", "offset"),
    [
        ("utf-16", 0, 0), ("utf-16", 1, 1), ("utf-16", 2, 1),  # mid surrogate pair rounds down
        ("utf-16", 3, 2), ("utf-16", 4, 3), ("utf-16", 99, 3),
        ("utf-8", 1, 1), ("utf-8", 3, 1), ("utf-8", 5, 2), ("utf-8", 6, 3),
        ("utf-32", 2, 2), ("utf-32", 3, 3),
    ],
)
def test_offset_at_first_line(encoding, character, offset):
    doc = Document("file:///t.py", EMOJI_CJK, "python")
    assert doc.offset_at(0, character, encoding) == offset


@pytest.mark.parametrize(
    ("encoding", "character", "offset"),
    [("utf-16", 1, 6), ("utf-16", 2, 7), ("utf-8", 3, 6), ("utf-8", 6, 7), ("utf-32", 1, 6)],
)
def test_offset_at_cjk_line_after_crlf(encoding, character, offset):
    doc = Document("file:///t.py", EMOJI_CJK, "python")
    assert doc.text[5] == "漢"
    assert doc.offset_at(1, 0, encoding) == 5
    assert doc.offset_at(1, character, encoding) == offset


def test_line_past_end_is_the_document_end_and_last_empty_line_exists():
    doc = Document("file:///t.py", EMOJI_CJK, "python")
    assert doc.line_count == 3
    assert doc.offset_at(2, 0) == len(EMOJI_CJK)
    assert doc.offset_at(3, 0) == doc.offset_at(99, 7) == len(EMOJI_CJK)
    assert doc.line_text(0) == "a😀b"  # CRLF is not part of the line
    assert doc.offset_at(0, 50) == 3


@pytest.mark.parametrize(
    ("offset", "utf16", "utf8", "utf32"),
    [(0, (0, 0), (0, 0), (0, 0)), (2, (0, 3), (0, 5), (0, 2)), (3, (0, 4), (0, 6), (0, 3)),
     (7, (1, 2), (1, 6), (1, 2)), (len(EMOJI_CJK), (2, 0), (2, 0), (2, 0))],
)
def test_position_at_roundtrip(offset, utf16, utf8, utf32):
    doc = Document("file:///t.py", EMOJI_CJK, "python")
    for encoding, expected in (("utf-16", utf16), ("utf-8", utf8), ("utf-32", utf32)):
        assert doc.position_at(offset, encoding) == expected
        assert doc.offset_at(*expected, encoding) == offset


def test_incremental_edit_with_emoji_in_utf16_updates_text_and_tree():
    doc = Document("file:///t.py", 's = "😀"\nx = 1\n', "python")
    doc.apply_change((0, 7), (0, 7), "漢", version=2)  # after the emoji: 2 UTF-16 units
    assert doc.text == 's = "😀漢"\nx = 1\n'
    assert doc.version == 2
    doc.apply_change((1, 4), (1, 5), "foo(1,\n  2)")
    assert doc.text == 's = "😀漢"\nx = foo(1,\n  2)\n'
    assert sexp(doc.tree) == sexp(parser_for("python").parse(doc.text.encode()))
    assert doc.line_text(2) == "  2)"


def test_incremental_tree_equals_fresh_parse_after_random_edits():
    rng = random.Random(7)
    text = "def f(x):\n    return x + 1\n\nclass A:\n    def m(self):\n        pass\n"
    doc = Document("file:///t.py", text, "python")
    pieces = ["a", "\n", "    ", "(", ")", "😀", "漢字", "\r\n", ":", "return 2\n", ""]
    for _ in range(200):
        start = rng.randrange(len(doc.text) + 1)
        end = min(len(doc.text), start + rng.randrange(4))
        new = rng.choice(pieces)
        start_pos, end_pos = doc.position_at(start), doc.position_at(end)
        # an offset between CR and LF maps to the line end: mirror what the document sees
        start, end = doc.offset_at(*start_pos), doc.offset_at(*end_pos)
        doc.apply_change(start_pos, end_pos, new)
        text = text[:start] + new + text[end:]
        assert doc.text == text
    fresh = Document("file:///u.py", text, "python")
    assert sexp(doc.tree) == sexp(fresh.tree)
    assert [doc.line_text(i) for i in range(doc.line_count)] == text.replace(
        "\r\n", "\n").replace("\r", "\n").split("\n")


def test_crlf_split_and_joined_by_edits_keeps_line_index():
    doc = Document("file:///t.txt", "a\rb\nc")
    assert doc.line_count == 3
    doc.apply_change((0, 1), (1, 0), "\r\n")  # replace lone CR with CRLF
    assert doc.text == "a\r\nb\nc" and doc.line_count == 3
    doc.apply_change((1, 0), (1, 1), "")  # delete "b": CRLF + LF stay two breaks
    assert doc.text == "a\r\n\nc" and doc.line_count == 3
    doc.apply_change((0, 1), (0, 1), "\r")  # a\r\r\n: CR then CRLF
    assert doc.line_count == 4
    assert doc.offset_at(3, 0) == len(doc.text) - 1


def test_full_replacement_is_reduced_to_the_changed_lines():
    doc = Document("file:///t.py", "a = 1\nb = 2\nc = 3\n", "python")
    doc.apply_change(None, None, "a = 1\nb = 22\nc = 3\n")
    assert doc.text == "a = 1\nb = 22\nc = 3\n"
    assert [(r.start_line, r.end_line) for r in doc.edits] == [(1, 1)]
    assert sexp(doc.tree) == sexp(parser_for("python").parse(doc.text.encode()))


def test_binary_and_huge_documents_are_plain_text():
    binary = Document("file:///b.py", "x = 1\x00\x01\x02" * 1000, "python")
    assert binary.tree is None
    assert binary.offset_at(0, 3) == 3
    huge_text = "x = 1\n" * (5 * 1024 * 1024 // 6)
    huge = Document("file:///h.py", huge_text, "python")
    assert len(huge_text) > MAX_PARSE_CHARS and huge.tree is None
    huge.apply_change((100, 0), (100, 0), "y = 2\n")
    assert huge.line_text(100) == "y = 2"
    assert huge.line_count == huge_text.count("\n") + 2


def test_unknown_language_is_plain_text_and_language_from_extension():
    assert Document("file:///n.txt", "hello").language is None
    assert Document("file:///n.txt", "hello").tree is None
    assert Document("file:///src/m.rs", "fn main() {}").language == "rust"
    assert Document("untitled:Untitled-1", "x", "typescriptreact").language == "tsx"


def test_recent_edits_merge_shift_and_order_oldest_first():
    store = DocumentStore()
    a = store.open("file:///a.py", "\n".join(f"x{i} = {i}" for i in range(30)), "python", 1)
    b = store.open("file:///b.py", "y = 1\n", "python", 1)
    a.apply_change((20, 0), (20, 0), "z")
    a.apply_change((20, 1), (20, 1), "z")  # adjacent: merged with the previous edit
    b.apply_change((0, 0), (0, 0), "w")
    a.apply_change((5, 0), (5, 0), "new\nlines\n")  # above the first region: shifts it by 2
    edits = store.recent_edits()
    assert [(e.uri, e.start_line, e.end_line) for e in edits] == [
        ("file:///a.py", 22, 22), ("file:///b.py", 0, 0), ("file:///a.py", 5, 6)]
    assert [e.uri for e in store.recent_edits(exclude_uri="file:///a.py")] == ["file:///b.py"]
    store.close("file:///b.py")
    assert store.get("file:///b.py") is None
    assert len(store.recent_edits()) == 2


@pytest.mark.parametrize("separator", ["\f", "\v", "\x85", "\u2028", "\u2029", "\x1c"])
def test_only_lsp_line_breaks_split_lines(separator):
    doc = Document("file:///t.txt", f"a{separator}b\ncdef\n")
    assert doc.line_count == 3
    assert doc.line_text(0) == f"a{separator}b"
    doc.apply_change((1, 4), (1, 4), "Z")
    assert doc.text == f"a{separator}b\ncdefZ\n"


@pytest.mark.parametrize(
    ("encoding", "character", "offset"),
    # "a\ud83db😀c": a lone surrogate is one code point (1 UTF-16 unit, 3 UTF-8 bytes)
    [("utf-16", 1, 1), ("utf-16", 2, 2), ("utf-16", 3, 3), ("utf-16", 4, 3), ("utf-16", 5, 4),
     ("utf-8", 3, 1), ("utf-8", 4, 2), ("utf-8", 5, 3), ("utf-8", 8, 3), ("utf-8", 9, 4),
     ("utf-32", 2, 2), ("utf-32", 4, 4), ("utf-32", 9, 5)],
)
def test_lone_surrogates_count_as_one_code_point(encoding, character, offset):
    doc = Document("file:///t.py", "a\ud83db😀c\nx", "python")
    assert doc.offset_at(0, character, encoding) == offset
    assert doc.position_at(offset, encoding) == doc.clamp(0, character, encoding)


def test_sloppy_positions_clamp_by_one_rule():
    doc = Document("file:///t.txt", "ab😀\r\ncd\n")
    assert doc.clamp(0, 3) == (0, 2)  # inside the surrogate pair: the character's start
    assert doc.clamp(0, 40) == (0, 4)  # past the line's end: the line's end
    assert doc.clamp(1, 3, "utf-8") == (1, 2)
    assert doc.clamp(9, 3) == (2, 0)  # past the document's end: its end
    doc.apply_change((1, 0), (0, 3), "X")  # reversed, the start inside the pair
    assert doc.text == "abXcd\n"
    doc.apply_change((0, 99), (0, 99), "!")
    doc.apply_change((7, 0), (8, 0), "end")
    assert doc.text == "abXcd!\nend"

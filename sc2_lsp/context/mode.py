"""Completion mode at the cursor: multi-line, single-line, or no completion at all.

Multi-line where the user is about to write a block: at the start of an empty block, after a
line that opens one, or at the end of a block (nothing but dedented code follows). Single-line
mid-statement, between statements and in comments or strings. None where a completion would
have to be inserted into code (mid-identifier, code after the cursor on its line). The syntax
tree keeps openers inside comments and strings (``# note:``, ``"a {"``) from counting.
"""

from __future__ import annotations

from tree_sitter import Node

from sc2_lsp.documents import Document
from sc2_lsp.text import BLOCK_END_WORDS, LINE_END_CLOSERS, ends_with_opener

_LOOKAROUND_LINES = 50
"""How far to look for the neighbouring non-blank line (blank runs are rarely longer)."""


def decide_mode(doc: Document, offset: int, setting: str = "auto") -> str | None:
    """``"single-line"``, ``"multi-line"`` or ``None`` (no completion) at ``offset``."""
    if not 0 <= offset <= len(doc.text):
        return None
    line = doc.line_of(offset)
    before = doc.text[doc.line_start(line):offset]
    after = doc.text[offset:doc.line_end(line)]
    if not set(after.strip()) <= LINE_END_CLOSERS:
        return None
    if setting == "always":
        return "multi-line"
    if setting == "never" or _in_comment_or_string(doc, offset):
        return "single-line"
    if not before.strip():
        multi = _opens_block(doc, _neighbour(doc, line, -1)) or _ends_block(doc, line, before)
    elif after.strip():
        multi = before.rstrip().endswith("{") and after.lstrip().startswith("}")  # `{‸}`
    else:
        multi = _opens_block(doc, line, brackets=False)
    return "multi-line" if multi else "single-line"


def _neighbour(doc: Document, line: int, step: int) -> int | None:
    """The nearest non-blank line above (step -1) or below (step 1) ``line``."""
    for other in range(line + step, line + step * (_LOOKAROUND_LINES + 1), step):
        if not 0 <= other < doc.line_count:
            return None
        if doc.line_text(other).strip():
            return other
    return None


def _opens_block(doc: Document, line: int | None, *, brackets: bool = True) -> bool:
    """Does ``line`` end (comments aside) with something that opens a block? An open ``(``
    or ``[`` counts only for the lines below it (``print(‸`` usually ends on its line)."""
    if line is None:
        return False
    code = _code_of_line(doc, line)
    if not ends_with_opener(code, doc.language, brackets=brackets):
        return False
    node = _node_at(doc, doc.line_start(line) + len(code) - 1)
    return node is None or _enclosing(node, ("string", "comment")) is None


def _ends_block(doc: Document, line: int, before: str) -> bool:
    """Only dedented code, block closers or nothing follow: the user extends a block."""
    below = _neighbour(doc, line, 1)
    if below is None:
        return True
    text = doc.line_text(below)
    indent = len(text) - len(text.lstrip())
    return indent < len(before) or text.lstrip().startswith(("}", *BLOCK_END_WORDS))


def _code_of_line(doc: Document, line: int) -> str:
    """The line without a trailing comment, right-stripped."""
    text = doc.line_text(line).rstrip()
    node = _node_at(doc, doc.line_start(line) + len(text) - 1) if text else None
    comment = _enclosing(node, ("comment",)) if node is not None else None
    if comment is not None and comment.start_point[0] == line:
        raw = text.encode("utf-8", "surrogatepass")[:comment.start_point[1]]
        text = raw.decode("utf-8", "ignore").rstrip()
    return text


def _node_at(doc: Document, offset: int) -> Node | None:
    """The smallest node covering the character at ``offset`` (None without a tree)."""
    if doc.tree is None or not 0 <= offset < len(doc.text):
        return None
    start, end = doc.byte_offset(offset), doc.byte_offset(offset + 1)
    return doc.tree.root_node.descendant_for_byte_range(start, end)


def _enclosing(node: Node | None, kinds: tuple[str, ...]) -> Node | None:
    """The nearest ancestor-or-self whose type names one of ``kinds``."""
    while node is not None:
        if any(kind in node.type for kind in kinds):
            return node
        node = node.parent
    return None


def _in_comment_or_string(doc: Document, offset: int) -> bool:
    """Is the cursor inside a comment or a string literal (not just after its end)?"""
    literal = _enclosing(_node_at(doc, offset - 1), ("comment", "string"))
    if literal is None:
        return False
    cursor = doc.byte_offset(offset)
    if literal.end_byte > cursor:
        return True
    closed = doc.text[:offset].endswith(("*/", "]]", "-->", '"', "'", "`"))
    return "comment" in literal.type and not closed

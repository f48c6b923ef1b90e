"""Post-processing of raw model output into the text to insert at the cursor.

Small models overrun: they finish the block and start the next function, re-type the code that
follows the cursor, close brackets the editor already auto-closed, or loop on one line. Each
rule below removes one of those failure modes; the last one guarantees that a completion never
breaks a parse that a shorter cut at a line boundary would keep intact.
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from sc2_lsp.languages import parser_for
from sc2_lsp.text import CLOSER_LINES, block_floor, indent_width

OPENERS = {"(": ")", "[": "]", "{": "}"}
QUOTES = frozenset("\"'`")

PARSE_PREFIX_LINES, PARSE_SUFFIX_LINES = 120, 40
"""Lines around the cursor parsed to check a completion (the rest cannot change the verdict
for a local edit, and reparsing a whole large file per candidate is too slow)."""


def postprocess(completion: str, *, prefix: str, suffix: str, mode: str,
                language: str | None) -> str:
    """The part of ``completion`` worth inserting between ``prefix`` and ``suffix``."""
    line_before = prefix[prefix.rfind("\n") + 1:]
    if mode == "single-line":
        text = completion.split("\n", 1)[0].rstrip()
    else:
        text = cut_at_scope_end(completion, line_before, suffix, language)
        text = drop_repeated_lines(text).rstrip()
    text = drop_suffix_repeat(text, line_before, suffix)
    text = drop_closers_in_suffix(text, line_before, suffix)
    if not text.strip():
        return ""
    text = avoid_new_parse_errors(text, prefix, suffix, language)
    return close_before_suffix(text, line_before, suffix)


# ----------------------------------------------------------------------------- scope end
def cut_at_scope_end(text: str, line_before: str, suffix: str, language: str | None) -> str:
    """Stop where the code leaves the block the cursor is in (a dedent below it), or, at the
    top level, where a new top-level statement starts after a blank line. A closing line at
    the block's own level is kept when the suffix does not already close it."""
    lines = text.split("\n")
    floor = _scope_floor(line_before, lines, language)
    if floor is None:
        return text
    seen_blank = False
    for index, line in enumerate(lines[1:], start=1):
        if not line.strip():
            seen_blank = True
            continue
        width = indent_width(line)
        if width < floor or (floor == 0 and seen_blank):
            keep_closer = (line.strip() in CLOSER_LINES and not seen_blank
                           and not suffix.lstrip().startswith(line.strip()))
            return "\n".join(lines[:index + 1] if keep_closer else lines[:index])
    return text


def _scope_floor(line_before: str, lines: list[str], language: str | None) -> int | None:
    """The lowest indentation inside the cursor's scope: below the line that opens a block,
    the cursor line's own level mid-statement, else the first completed line's level."""
    if line_before.strip():
        return block_floor(line_before, language)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return None
    return indent_width(line_before + lines[0]) if first == 0 else indent_width(lines[first])


# ----------------------------------------------------------------------------- repetition
def drop_repeated_lines(text: str) -> str:
    """Cut a degenerate loop: a line repeating the previous one, or a repeated pair of lines."""
    lines = text.split("\n")
    code = [line.strip() for line in lines]
    for i in range(1, len(lines)):
        if not code[i] or code[i] in CLOSER_LINES:
            continue
        if code[i] == code[i - 1]:
            return "\n".join(lines[:i])
        if i >= 3 and code[i - 1:i + 1] == code[i - 3:i - 1]:
            return "\n".join(lines[:i - 1])
    return text


def drop_suffix_repeat(text: str, line_before: str, suffix: str) -> str:
    """Cut the completion where it starts re-typing the line that follows the cursor's line."""
    anchor = _next_code_line(suffix)
    if anchor is None:
        return text
    lines = text.split("\n")
    first = 0 if not line_before.strip() else 1
    for index in range(first, len(lines)):
        line = (line_before + lines[0]) if index == 0 else lines[index]
        if line.rstrip() == anchor.rstrip() and line.strip():
            return "\n".join(lines[:index])
    return text


def _next_code_line(suffix: str) -> str | None:
    """The first non-blank line of the suffix after the cursor's own line."""
    rest = suffix.split("\n")[1:]
    return next((line for line in rest if line.strip()), None)


# --------------------------------------------------------------------------- closers
def drop_closers_in_suffix(text: str, line_before: str, suffix: str) -> str:
    """Remove closing brackets/quotes at the end of the completion that the rest of the
    cursor's line already provides (``print(x‸)`` + ``y)`` -> ``y``)."""
    rest = suffix.split("\n", 1)[0].strip()
    if not rest:
        return text
    escape = _first_outer_close(line_before, text)
    if escape is not None and rest.startswith(text[escape:].strip()):
        return text[:escape].rstrip() if text[escape:].strip() else text
    return text


def _first_outer_close(line_before: str, text: str) -> int | None:
    """Index in ``text`` of the first character closing a bracket or quote opened before it."""
    stack: list[str] = []
    for _ in _depths(line_before, stack):
        pass
    opened_before = len(stack)
    return next((index for index, depth in enumerate(_depths(text, stack))
                 if depth < opened_before), None)


def _depths(text: str, stack: list[str]) -> Iterator[int]:
    """Scan ``text`` updating ``stack`` (open brackets and quotes; strings are opaque to
    brackets), yielding the stack depth after each character."""
    escaped = False
    for char in text:
        in_string = bool(stack) and stack[-1] in QUOTES
        if escaped:
            escaped = False
        elif in_string and char == "\\":
            escaped = True
        elif in_string:
            if char == stack[-1]:
                stack.pop()
        elif char in QUOTES or char in OPENERS:
            stack.append(char)
        elif stack and OPENERS.get(stack[-1]) == char:
            stack.pop()
        yield len(stack)


def close_before_suffix(text: str, line_before: str, suffix: str) -> str:
    """A multi-line completion followed by code on the cursor's line (``{‸}``) ends with a
    line break at the line's indentation, so that code lands on its own line."""
    rest = suffix.split("\n", 1)[0]
    if "\n" in text and rest.strip() and not text.endswith("\n"):
        return text + "\n" + line_before[:len(line_before) - len(line_before.lstrip())]
    return text


# ----------------------------------------------------------------------------- parsing
def avoid_new_parse_errors(text: str, prefix: str, suffix: str, language: str | None) -> str:
    """The longest line-boundary cut of ``text`` that adds no parse error to the code around
    the cursor; else ``text`` itself (a completion that opens a block is legitimately
    incomplete, and the user may be mid-edit anyway), unless it is bare punctuation that
    breaks code which parsed cleanly (``=`` or ``:`` after a finished statement)."""
    parser = parser_for(language) if language else None
    if parser is None:
        return text
    head = _last_lines(prefix, PARSE_PREFIX_LINES).encode("utf-8", "surrogatepass")
    tail = "\n".join(suffix.split("\n")[:PARSE_SUFFIX_LINES]).encode("utf-8", "surrogatepass")
    base = parser.parse(head + tail)
    at = (head.count(b"\n"), len(head) - head.rfind(b"\n") - 1)

    def errors(middle: str) -> int:
        """Errors with ``middle`` inserted: an incremental reparse of the base tree."""
        if not middle:
            return _error_count(base.root_node)
        inserted = middle.encode("utf-8", "surrogatepass")
        rows = inserted.count(b"\n")
        column = len(inserted) - inserted.rfind(b"\n") - 1 + (0 if rows else at[1])
        tree = base.copy()
        tree.edit(len(head), len(head), len(head) + len(inserted), at, at, (at[0] + rows, column))
        return _error_count(parser.parse(head + inserted + tail, tree).root_node)

    baseline = errors("")
    if errors(text) <= baseline:
        return text
    lines = text.split("\n")
    for end in range(len(lines) - 1, 0, -1):
        candidate = "\n".join(lines[:end]).rstrip()
        if candidate.strip() and errors(candidate) <= baseline:
            return candidate
    return "" if baseline == 0 and not any(c.isalnum() for c in text) else text


def _last_lines(text: str, count: int) -> str:
    start = len(text)
    for _ in range(count):
        start = text.rfind("\n", 0, start)
        if start < 0:
            return text
    return text[start + 1:]


def _error_count(node: Node) -> int:
    """ERROR and MISSING nodes in the tree (only subtrees that contain errors are visited)."""
    if not node.has_error and not node.is_missing:
        return 0
    own = 1 if node.is_error or node.is_missing else 0
    return own + sum(_error_count(child) for child in node.children)

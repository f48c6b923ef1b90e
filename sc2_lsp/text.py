"""What every stage must read the same way in source text: indentation, closers, openers.

The engine's stop rule, the completion mode, the scope cut of post-processing and the
replacement of auto-closed text each used to carry their own copy, and the copies
disagreed (a tab was one column for the stop rule and four for the scope cut). This leaf
module imports nothing of the package, so any stage may use it.
"""

from __future__ import annotations

import re

TAB_WIDTH = 4
"""Columns a leading tab counts for: what matters is that every rule counts alike."""

LINE_END_CLOSERS = frozenset(")]}\"'`;,")
"""What may follow the cursor on its line and still leave room for a completion (auto-closed
brackets and quotes, a statement's or an element's end); the same set is what a completion
ending in exactly that text replaces instead of doubling it."""

BLOCK_END_WORDS = ("end", "fi", "done", "esac")
"""Keywords that close a block (Ruby, Lua, shell)."""

CLOSER_LINES = frozenset({"}", ")", "]", "};", "});", "),", "},", *BLOCK_END_WORDS})
"""Lines that only close a block."""

_BRACKET = r"[{(\[]"
_OPENERS: dict[str | None, re.Pattern[str]] = {
    "python": re.compile(rf"(:|{_BRACKET})$"),
    "ruby": re.compile(
        rf"({_BRACKET}|\bdo(\s*\|[^|]*\|)?|\b(then|else|begin|ensure)|^\s*(def|class|module|if|"
        r"unless|while|until|case|for|elsif|when|rescue)\b.*)$"),
    "lua": re.compile(rf"({_BRACKET}|\b(then|do|else|repeat)|\bfunction\b.*\))$"),
    "bash": re.compile(rf"({_BRACKET}|\b(then|do|else|in))$"),
    None: re.compile(rf"(:|=>|{_BRACKET})$"),  # plain text: any common opener
}
_BRACES = re.compile(rf"(=>|{_BRACKET})$")
"""Brace languages: a trailing ':' ends a label or a case, not a block."""


def indent_width(line: str) -> int:
    """The columns of the line's leading blanks, a tab counting TAB_WIDTH."""
    expanded = line.expandtabs(TAB_WIDTH)
    return len(expanded) - len(expanded.lstrip(" "))


def ends_with_opener(code: str, language: str | None, *, brackets: bool = True) -> bool:
    """Does a line of code (comment stripped) end with something that opens a block?"""
    if not code.strip() or not _OPENERS.get(language, _BRACES).search(code.rstrip()):
        return False
    return brackets or not code.rstrip().endswith(("(", "["))


def block_floor(line: str, language: str | None) -> int:
    """The lowest indentation still inside the scope of a non-blank cursor line: deeper than
    the line when it opens a block, else its own level."""
    return indent_width(line) + (1 if ends_with_opener(line, language) else 0)

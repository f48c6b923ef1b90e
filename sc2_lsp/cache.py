"""Completion cache: exact hits and typing-through, with no model call.

Most keystrokes either repeat a state the user has seen (backspace, cursor
back) or type the next characters of the suggestion that is showing; both are
answered from memory in microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from cachetools import TTLCache

CONTEXT_CHARS = 2000  # how much text around the cursor identifies a state


@dataclass(frozen=True)
class Shown:
    """The last suggestion of a document, and the text around the cursor it was made for."""

    prefix: str
    suffix: str
    text: str
    context: tuple = ()


class CompletionCache:
    def __init__(self, size: int = 256, ttl_s: float = 600.0):
        self._exact: TTLCache | None = TTLCache(size, ttl_s) if size > 0 else None
        self._shown: dict[str, Shown] = {}

    @staticmethod
    def key(uri: str, prefix: str, suffix: str, context: tuple = ()) -> tuple:
        """The text around the cursor and the identity of the context snippets (which file
        versions they were read from)."""
        return uri, prefix[-CONTEXT_CHARS:], suffix[:CONTEXT_CHARS], context

    def exact(self, uri: str, prefix: str, suffix: str, context: tuple = ()) -> str | None:
        if self._exact is None:
            return None
        return self._exact.get(self.key(uri, prefix, suffix, context))

    def typing_through(self, uri: str, prefix: str, suffix: str, context: tuple = ()
                       ) -> str | None:
        """The rest of the shown suggestion if the user typed its start, else None."""
        shown = self._shown.get(uri)
        if shown is None or suffix[:CONTEXT_CHARS] != shown.suffix or context != shown.context:
            return None
        if len(prefix) <= len(shown.prefix) or not prefix.startswith(shown.prefix):
            return None
        typed = prefix[len(shown.prefix):]
        if not shown.text.startswith(typed) or len(typed) >= len(shown.text):
            return None
        return shown.text[len(typed):]

    def store(self, uri: str, prefix: str, suffix: str, text: str, context: tuple = ()) -> None:
        if self._exact is not None:
            self._exact[self.key(uri, prefix, suffix, context)] = text
        if text:
            self._shown[uri] = Shown(prefix, suffix[:CONTEXT_CHARS], text, context)

    def forget(self, uri: str) -> None:
        self._shown.pop(uri, None)

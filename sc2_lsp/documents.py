"""Open documents: text, line index and an incrementally maintained tree-sitter tree.

LSP-free. Positions arrive as (line, character) in the negotiated encoding (UTF-16 by default);
internally everything is a ``str`` index, and tree-sitter gets UTF-8 byte offsets. Each change
is applied as a splice: the line index is patched around the edit, the tree is edited with
``Tree.edit`` and reparsed with the old tree, and the edited line range is remembered so that
context retrieval can show recently edited regions of other files.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlparse

import numpy as np
from tree_sitter import Tree

from sc2_lsp.languages import language_for, parser_for

MAX_PARSE_CHARS = 1_000_000
"""Documents larger than this are plain text: a full parse would stall a keystroke."""

MAX_EDITS = 16
"""Recent edit regions remembered per document and returned by the store."""

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_edit_seq = itertools.count(1)


@dataclass(slots=True)
class EditRegion:
    """Lines ``start_line..end_line`` (inclusive, current numbering) edited recently.

    ``seq`` is when the region was first edited (stable ordering, oldest first);
    ``last_seq`` is its latest edit (which regions are recent enough to keep).
    """

    uri: str
    start_line: int
    end_line: int
    seq: int
    last_seq: int


def path_from_uri(uri: str) -> str | None:
    """Filesystem path of a ``file:`` URI; ``None`` for other schemes (untitled buffers...)."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return unquote(parsed.path)
    if not parsed.scheme and uri:
        return uri
    return None


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def text_units(text: str, encoding: str) -> int:
    """Length of ``text`` in code units of ``encoding``."""
    if encoding == "utf-32" or text.isascii():
        return len(text)
    if encoding == "utf-8":
        return len(_encode(text))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _chars_in(text: str, units: int, encoding: str) -> int:
    """How many characters of ``text`` fit in ``units`` code units: a position inside a
    character (a surrogate pair, a multi-byte sequence) rounds down to its start.

    Widths are counted per code point, lone surrogates included (one UTF-16 unit, three
    bytes as they travel with ``surrogatepass``), so text that isn't valid Unicode never
    shifts the positions after it."""
    if encoding == "utf-32" or text.isascii():
        return max(0, min(units, len(text)))
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if encoding == "utf-8":
        widths = 1 + (codes >= 0x80) + (codes >= 0x800) + (codes >= 0x10000)
    else:
        widths = 1 + (codes >= 0x10000)
    return int(np.searchsorted(np.cumsum(widths), units, "right"))


def _line_starts_of(text: str) -> np.ndarray:
    """Offsets where lines start (after LF, CRLF or a lone CR), computed vectorised."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    line_feed, carriage_return = codes == 10, codes == 13
    carriage_return[:-1] &= ~line_feed[1:]  # in CRLF the LF ends the break
    ends = np.flatnonzero(line_feed | carriage_return) + 1
    return np.concatenate((np.zeros(1, dtype=np.int64), ends.astype(np.int64)))


def _common_affixes(old: str, new: str) -> tuple[int, int]:
    """Lengths of the common prefix and (non-overlapping) common suffix of two strings."""
    limit = min(len(old), len(new))
    lo, hi = 0, limit
    while lo < hi:  # binary search on C-speed slice comparisons
        mid = (lo + hi + 1) // 2
        if old[:mid] == new[:mid]:
            lo = mid
        else:
            hi = mid - 1
    prefix = lo
    lo, hi = 0, limit - prefix
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[len(old) - mid:] == new[len(new) - mid:]:
            lo = mid
        else:
            hi = mid - 1
    return prefix, lo


class Document:
    """Text and syntax tree of one open document."""

    def __init__(self, uri: str, text: str, language_id: str = "", version: int = 0) -> None:
        self.uri = uri
        self.path = path_from_uri(uri)
        self.language_id = language_id  # for rules beyond the grammars (a word's characters)
        self.language = language_for(language_id, self.path)
        self.version = version
        self.text = text
        self.tree: Tree | None = None
        self.edits: list[EditRegion] = []
        self._source: bytes | None = None
        self._line_starts = _line_starts_of(text)
        self._reparse(None)

    # ----------------------------------------------------------------- lines and positions
    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def line_start(self, line: int) -> int:
        return int(self._line_starts[line])

    def line_end(self, line: int) -> int:
        """Offset of the end of ``line``'s content (before its line break)."""
        if line + 1 >= len(self._line_starts):
            return len(self.text)
        end = int(self._line_starts[line + 1])
        return end - 2 if self.text.startswith("\r\n", end - 2) else end - 1

    def line_text(self, line: int) -> str:
        return self.text[self.line_start(line):self.line_end(line)]

    def line_of(self, offset: int) -> int:
        return int(np.searchsorted(self._line_starts, offset, "right")) - 1

    def offset_at(self, line: int, character: int, encoding: str = "utf-16") -> int:
        """``str`` index of an LSP position, by the one rule every position read obeys:
        a character past the line's end means the line's end, a line past the last one
        the document's end, a position inside a character that character's start."""
        if line < 0:
            return 0
        if line >= len(self._line_starts):
            return len(self.text)
        start = self.line_start(line)
        return start + _chars_in(self.text[start:self.line_end(line)], character, encoding)

    def position_at(self, offset: int, encoding: str = "utf-16") -> tuple[int, int]:
        """LSP (line, character) of a ``str`` index (clamped to the document)."""
        offset = max(0, min(offset, len(self.text)))
        line = self.line_of(offset)
        start = self.line_start(line)
        return line, text_units(self.text[start:min(offset, self.line_end(line))], encoding)

    def clamp(self, line: int, character: int, encoding: str = "utf-16") -> tuple[int, int]:
        """The valid position a (possibly sloppy) client position stands for."""
        return self.position_at(self.offset_at(line, character, encoding), encoding)

    def _point(self, offset: int) -> tuple[int, int]:
        """tree-sitter point: (row, UTF-8 byte column)."""
        line = self.line_of(offset)
        return line, len(_encode(self.text[self.line_start(line):offset]))

    @property
    def source(self) -> bytes:
        """The text as UTF-8, what the tree's byte offsets index (kept from the last parse)."""
        if self._source is None:
            self._source = _encode(self.text)
        return self._source

    def byte_offset(self, offset: int) -> int:
        """UTF-8 byte offset of a ``str`` index (what tree-sitter nodes use)."""
        head = self.text[:offset]
        return offset if head.isascii() else len(_encode(head))

    # ----------------------------------------------------------------------------- edits
    def apply_change(
        self,
        start: tuple[int, int] | None,
        end: tuple[int, int] | None,
        new_text: str,
        encoding: str = "utf-16",
        version: int | None = None,
    ) -> None:
        """Apply one LSP content change; ``start``/``end`` ``None`` replaces the whole text.

        A full replacement is reduced to the span that actually differs, so clients without
        incremental sync still get incremental reparses and precise edit regions.
        """
        if version is not None:
            self.version = version
        if start is None or end is None:
            prefix, suffix = _common_affixes(self.text, new_text)
            self._replace(prefix, len(self.text) - suffix, new_text[prefix:len(new_text) - suffix])
            return
        begin = self.offset_at(*start, encoding)
        stop = self.offset_at(*end, encoding)
        begin, stop = min(begin, stop), max(begin, stop)  # a reversed range, normalised
        self._replace(begin, stop, new_text)

    def _replace(self, start: int, old_end: int, new_text: str) -> None:
        if start == old_end and not new_text:
            return
        first_line, old_last_line = self.line_of(start), self.line_of(old_end)
        edit = None
        if self.tree is not None:
            edit = (self.byte_offset(start), self.byte_offset(old_end), self._point(start),
                    self._point(old_end))
        self.text = self.text[:start] + new_text + self.text[old_end:]
        self._patch_line_starts(start, old_end, len(new_text))
        new_end = start + len(new_text)
        if edit is not None:
            start_byte, old_end_byte, start_point, old_end_point = edit
            new_end_byte = start_byte + len(_encode(new_text))
            self.tree.edit(start_byte, old_end_byte, new_end_byte, start_point, old_end_point,
                           self._point(new_end))
        self._reparse(self.tree)
        self._record_edit(first_line, old_last_line, new_end, new_text)

    def _patch_line_starts(self, start: int, old_end: int, new_len: int) -> None:
        """Rescan only the edited span for line breaks; shift the line starts after it."""
        starts = self._line_starts
        new_end = start + new_len
        head = starts[:np.searchsorted(starts, start, "left")]
        tail = starts[np.searchsorted(starts, old_end, "right"):] + (new_end - old_end)
        scan_from = max(start - 1, 0)
        window = self.text[scan_from:new_end + 1]
        middle = [scan_from + m.end() for m in _LINE_BREAK.finditer(window)]
        middle = [0] * (len(head) == 0) + [s for s in middle if start <= s <= new_end]
        self._line_starts = np.concatenate((head, np.array(middle, dtype=np.int64), tail))

    def _parsable(self) -> bool:
        return (self.language is not None and len(self.text) <= MAX_PARSE_CHARS
                and "\x00" not in self.text)

    def _reparse(self, old_tree: Tree | None) -> None:
        parser = parser_for(self.language) if self._parsable() else None
        self._source = _encode(self.text) if parser is not None else None
        if parser is None:
            self.tree = None
        elif old_tree is None:
            self.tree = parser.parse(self._source)
        else:
            self.tree = parser.parse(self._source, old_tree)

    def _record_edit(self, first: int, old_last: int, new_end: int, new_text: str) -> None:
        """Merge the edit into overlapping regions, shift the regions below it, keep the newest."""
        delta = self.line_of(new_end) - old_last
        # a change ending with a line break leaves the line after it untouched
        touched = self.line_of(new_end - 1 if new_text.endswith(("\n", "\r")) else new_end)
        seq = next(_edit_seq)
        merged = EditRegion(self.uri, first, max(touched, first), seq, seq)
        kept = []
        for region in self.edits:
            if region.end_line < first - 1:
                kept.append(region)
            elif region.start_line > old_last + 1:
                region.start_line += delta
                region.end_line += delta
                kept.append(region)
            else:
                merged.start_line = min(merged.start_line, region.start_line)
                if region.end_line > old_last:
                    merged.end_line = max(merged.end_line, region.end_line + delta)
                merged.seq = min(merged.seq, region.seq)
        kept.append(merged)
        kept.sort(key=lambda r: r.last_seq)
        self.edits = sorted(kept[-MAX_EDITS:], key=lambda r: r.seq)


class DocumentStore:
    """All open documents, and the recent edits across them."""

    def __init__(self) -> None:
        self._docs: dict[str, Document] = {}

    def open(self, uri: str, text: str, language_id: str = "", version: int = 0) -> Document:
        doc = self._docs[uri] = Document(uri, text, language_id, version)
        return doc

    def get(self, uri: str) -> Document | None:
        return self._docs.get(uri)

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)

    def documents(self) -> list[Document]:
        return list(self._docs.values())

    def recent_edits(self, exclude_uri: str | None = None) -> list[EditRegion]:
        """The most recent edit regions (at most MAX_EDITS), oldest first, as copies."""
        regions = [r for doc in self._docs.values() if doc.uri != exclude_uri for r in doc.edits]
        regions.sort(key=lambda r: r.last_seq)
        return sorted((replace(r) for r in regions[-MAX_EDITS:]), key=lambda r: r.seq)

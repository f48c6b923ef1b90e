"""Cross-file context for the prompt: imported definitions, enclosing skeletons, recent edits.

Snippets are chosen by usefulness (definitions of imported symbols used nearest the cursor
first), then returned in the order they were first seen, process-wide: a snippet keeps its
place from one keystroke to the next, and new ones go last, so the prompt's token prefix, and
with it the engine's KV cache, survives.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cachetools import LRUCache

from sc2_lsp.context.imports import Import, imports_of, resolve, submodule
from sc2_lsp.context.symbols import (
    Definition,
    enclosing_class,
    members,
    names_of,
    outline,
    skeleton,
    top_level_definitions,
)
from sc2_lsp.context.workspace import FILES
from sc2_lsp.documents import Document, DocumentStore

USAGE_LINES_BEFORE, USAGE_LINES_AFTER = 30, 5
"""Where symbols count as "used near the cursor"."""

FAR_LINES = 60
"""Definitions at least this far from the cursor are likely outside the prompt window."""

EDIT_CONTEXT_LINES, MAX_EDIT_LINES = 2, 12

_IDENTIFIER = re.compile(r"([A-Za-z_$][\w$]*)(?:\s*\.\s*([A-Za-z_$][\w$]*))?")


@dataclass(frozen=True)
class Snippet:
    """Code shown to the model under ``path`` (relative to the workspace)."""

    path: str
    text: str


class _FirstSeen:
    """Ranks snippet identities by when they were first returned (stable prompt order)."""

    def __init__(self, limit: int = 10_000) -> None:
        self._ranks: dict[tuple, int] = {}
        self._counter = itertools.count()
        self._limit = limit

    def rank(self, key: tuple) -> int:
        if len(self._ranks) >= self._limit:
            self._ranks.clear()
        return self._ranks.setdefault(key, next(self._counter))


_FIRST_SEEN = _FirstSeen()
_OPEN_DEFINITIONS: LRUCache = LRUCache(maxsize=32)
"""Definitions of open buffers by (uri, version, length): imported files rarely change."""


def gather_snippets(doc: Document, offset: int, store: DocumentStore,
                    workspace: Path | None, *, max_chars: int = 4000) -> list[Snippet]:
    """Context snippets for a completion at ``offset`` in ``doc``, oldest first."""
    root = workspace or (Path(doc.path).parent if doc.path else None)
    candidates = itertools.chain(_imported(doc, offset, store, root),
                                 _skeletons(doc, offset, root), _recent_edits(doc, store, root))
    chosen, texts, used = [], set(), 0
    for key, snippet in candidates:
        if snippet.text in texts or used + len(snippet.text) > max_chars:
            continue
        texts.add(snippet.text)
        used += len(snippet.text)
        chosen.append((_FIRST_SEEN.rank(key), snippet))
    return [snippet for _, snippet in sorted(chosen, key=lambda pair: pair[0])]


# ------------------------------------------------------------------ (a) imported definitions
def _imported(doc: Document, offset: int, store: DocumentStore, root: Path | None
              ) -> Iterator[tuple[tuple, Snippet]]:
    if doc.tree is None or root is None or doc.path is None:
        return
    source = doc.source
    by_local = {imp.local: imp for imp in imports_of(doc.tree.root_node, source, doc.language)}
    if not by_local:
        return
    importer = Path(doc.path)
    for name, attr in _used_names(doc, offset, by_local):
        found = _definition(by_local[name], attr, importer, root, store)
        if found is not None:
            path, definition = found
            yield ("def", str(path), definition.name), Snippet(_relative(path, root),
                                                               definition.text)


def _used_names(doc: Document, offset: int, imported: dict[str, Import]
                ) -> list[tuple[str, str | None]]:
    """Imported names (with the attribute read from them) nearest the cursor first; the
    identifier being typed counts for every import it is a prefix of."""
    line = doc.line_of(offset)
    start = doc.line_start(max(line - USAGE_LINES_BEFORE, 0))
    end = doc.line_end(min(line + USAGE_LINES_AFTER, doc.line_count - 1))
    found: dict[tuple[str, str | None], int] = {}
    import_lines = _import_lines(doc)
    for match in _IDENTIFIER.finditer(doc.text, start, end):
        if match.group(1) in imported and doc.line_of(match.start()) not in import_lines:
            key = (match.group(1), match.group(2))
            found[key] = min(found.get(key, end), abs(match.start() - offset))
    typing = re.search(r"[A-Za-z_$][\w$]*$", doc.text[start:offset])
    if typing and len(typing.group()) >= 2:
        for local in imported:
            if local.startswith(typing.group()):
                found.setdefault((local, None), 0)
    return sorted(found, key=found.__getitem__)


def _import_lines(doc: Document) -> set[int]:
    """Lines of top-level import statements: names there are bound, not used."""
    return {line for node in doc.tree.root_node.named_children if "import" in node.type
            for line in range(node.start_point[0], node.end_point[0] + 1)}


def _definition(imp: Import, attr: str | None, importer: Path, root: Path,
                store: DocumentStore) -> tuple[Path, Definition] | None:
    """Where an imported name is defined: the symbol itself, or ``attr`` of a module."""
    roots = [root, importer.parent]
    attempts = [(imp, imp.name or attr)]
    if imp.name is not None and attr:
        attempts.append((submodule(imp), attr))  # `from pkg import mod` then `mod.attr`
    for target, symbol in attempts:
        path = resolve(target, importer, roots) if symbol else None
        definitions = _definitions_of(path, store) if path else {}
        if symbol in definitions:
            return path, definitions[symbol]
    return None


def _definitions_of(path: Path, store: DocumentStore) -> dict[str, Definition]:
    """Top-level definitions of a file, from its open (maybe unsaved) buffer if there is one."""
    for open_doc in store.documents():
        if open_doc.path and open_doc.tree is not None and Path(open_doc.path) == path:
            key = (open_doc.uri, open_doc.version, len(open_doc.text))
            if key not in _OPEN_DEFINITIONS:
                _OPEN_DEFINITIONS[key] = top_level_definitions(open_doc.tree.root_node,
                                                               open_doc.source)
            return _OPEN_DEFINITIONS[key]
    parsed = FILES.parse(path)
    return parsed.definitions if parsed is not None else {}


# ------------------------------------------------------------------------ (b) skeletons
def _skeletons(doc: Document, offset: int, root: Path | None
               ) -> Iterator[tuple[tuple, Snippet]]:
    """Signatures of the enclosing class's members (or the module's definitions) that lie far
    from the cursor, hence probably outside the prompt window."""
    if doc.tree is None:
        return
    source = doc.source
    line = doc.line_of(offset)
    byte = doc.byte_offset(offset)
    node = doc.tree.root_node.descendant_for_byte_range(byte, byte)
    cls = enclosing_class(node)
    path = _relative(Path(doc.path), root) if doc.path else doc.uri
    if cls is not None:
        if any(abs(m.start_point[0] - line) >= FAR_LINES for m in members(cls)):
            current = next((m for m in members(cls) if m.start_byte <= byte <= m.end_byte), None)
            text = skeleton(cls, source, skip=current)
            yield ("class", doc.uri, text.split("\n", 1)[0]), Snippet(path, text)
        return
    far = [n for n in doc.tree.root_node.named_children
           if abs(n.start_point[0] - line) >= FAR_LINES and names_of(n, source)
           and "import" not in n.type and n.type != "expression_statement"]
    if far:
        yield ("module", doc.uri), Snippet(path, outline(far, source))


# --------------------------------------------------------------------- (c) recent edits
def _recent_edits(doc: Document, store: DocumentStore, root: Path | None
                  ) -> Iterator[tuple[tuple, Snippet]]:
    """Lines around recent edits in other open documents, most recent first."""
    for region in reversed(store.recent_edits(exclude_uri=doc.uri)):
        other = store.get(region.uri)
        if other is None:
            continue
        last = min(region.end_line + EDIT_CONTEXT_LINES, other.line_count - 1)
        first = max(region.start_line - EDIT_CONTEXT_LINES, 0, last - MAX_EDIT_LINES + 1)
        text = other.text[other.line_start(first):other.line_end(last)]
        if text.strip():
            path = _relative(Path(other.path), root) if other.path else other.uri
            yield ("edit", region.uri, region.seq), Snippet(path, text)


def _relative(path: Path, root: Path | None) -> str:
    """``path`` relative to the workspace, in POSIX form; its name when outside it."""
    if root is not None:
        rel = os.path.relpath(path, root)
        if not rel.startswith(".."):
            return Path(rel).as_posix()
    return path.name

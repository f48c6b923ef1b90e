"""Cross-file context for the prompt: what the code at the cursor is likely to use next.

Candidates are ranked by how likely the next lines are to need them: definitions of imported
names used near the cursor (or being typed), the enclosing class's bases and its own far
members, imported names not used yet (an import is a promise of use), the far definitions
of the current module, outlines of the imported workspace modules (the importer's
neighbours), imported names used far away, recent edits elsewhere. Each snippet carries that
rank as its ``priority``, for the prompt builder to share the budget by; the list itself is
in the order snippets were first seen by this retriever, so a snippet keeps its place from
one keystroke to the next while it stays chosen, new ones go last, and the prompt's token
prefix, and with it the engine's KV cache, survives.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cachetools import LRUCache

from sc2_lsp.context.imports import WILDCARD, Import, imports_of, resolve, submodule
from sc2_lsp.context.layout import import_roots
from sc2_lsp.context.symbols import (
    Definition,
    enclosing_class,
    members,
    names_of,
    skeleton_parts,
    stub,
    top_level,
    top_level_definitions,
)
from sc2_lsp.context.workspace import FileCache
from sc2_lsp.documents import Document, DocumentStore
from sc2_lsp.snippet import Snippet, relative_path

USAGE_LINES_BEFORE, USAGE_LINES_AFTER = 30, 5
"""Where symbols count as "used near the cursor"."""

FAR_LINES = 60
"""Definitions at least this far from the cursor are likely outside the prompt window."""

EDIT_CONTEXT_LINES, MAX_EDIT_LINES = 2, 12
MAX_CHARS = 12_000
"""Candidates offered to the prompt builder, which shares its token budget among them."""
MAX_REEXPORT_HOPS = 3
MAX_NEIGHBOURS = 8

_IDENTIFIER = re.compile(r"([A-Za-z_$][\w$]*)(?:\s*\.\s*([A-Za-z_$][\w$]*))?")
_BASES = {"argument_list", "class_heritage", "extends_clause"}


@dataclass(frozen=True)
class _Candidate:
    key: tuple
    snippet: Snippet


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


class ContextRetriever:
    """Context snippets for one pipeline: its parsed files, first-seen order and caches."""

    def __init__(self, store: DocumentStore, files: FileCache | None = None) -> None:
        self.store = store
        self.files = files or FileCache()
        self._first_seen = _FirstSeen()
        self._open_definitions: LRUCache = LRUCache(maxsize=32)
        self._roots: LRUCache = LRUCache(maxsize=8)
        self.imported_lines: dict[str, dict[tuple[Path, tuple], tuple[frozenset[int],
                                                                      frozenset[int]]]] = {}
        """Per document and module version, the definitions (by line) that its imported-names
        outline showed first, and those it left out as shown whole: the outlines keep them
        while the module is unchanged, so that finishing a name while typing does not
        rewrite the prompt's context."""

    def forget(self, uri: str) -> None:
        """A closed (or reset) document: its outlines start afresh."""
        self.imported_lines.pop(uri, None)

    def snippets(self, doc: Document, offset: int, workspace: Path | None, *,
                 max_chars: int = MAX_CHARS) -> list[Snippet]:
        """Context snippets for a completion at ``offset`` in ``doc``, oldest first, each
        with its priority."""
        root = workspace or (Path(doc.path).parent if doc.path else None)
        chosen, texts, used = [], set(), 0
        for priority, candidate in enumerate(self._candidates(doc, offset, root)):
            snippet = candidate.snippet
            if snippet.text in texts or used + len(snippet.text) > max_chars:
                continue
            texts.add(snippet.text)
            used += len(snippet.text)
            chosen.append((self._first_seen.rank(candidate.key),
                           dataclasses.replace(snippet, priority=priority)))
        return [snippet for _, snippet in sorted(chosen, key=lambda pair: pair[0])]

    def _candidates(self, doc: Document, offset: int, root: Path | None
                    ) -> Iterator[_Candidate]:
        if doc.tree is None:
            yield from self._recent_edits(doc, root)
            return
        imports = _Imports(self, doc, offset, root)
        yield from imports.definitions(imports.near)
        yield from self._bases(doc, offset, root, imports)
        yield from self._class_skeleton(doc, offset, root)
        yield from imports.neighbours()
        yield from self._module_outline(doc, offset, root)
        yield from imports.neighbour_rests()
        yield from imports.definitions(imports.unused)
        yield from imports.definitions(imports.far)
        yield from self._recent_edits(doc, root)

    # ---------------------------------------------------------------- definitions of files
    def roots(self, root: Path, importer: Path) -> list[Path]:
        """Where absolute imports of ``importer`` start: the workspace's import roots, then
        the importer's own folder (a script's ``sys.path[0]``)."""
        if root not in self._roots:
            self._roots[root] = import_roots(root)
        return [*self._roots[root], importer.parent]

    def parsed(self, path: Path) -> tuple[dict[str, Definition], list[Import], tuple]:
        """Definitions, imports and version of a file, from its open (maybe unsaved) buffer
        if there is one."""
        for open_doc in self.store.documents():
            if open_doc.path and open_doc.tree is not None and Path(open_doc.path) == path:
                key = (open_doc.uri, open_doc.version, len(open_doc.text))
                if key not in self._open_definitions:
                    root = open_doc.tree.root_node
                    self._open_definitions[key] = (
                        top_level_definitions(root, open_doc.source),
                        imports_of(root, open_doc.source, open_doc.language),
                        (open_doc.uri, open_doc.version))
                return self._open_definitions[key]
        parsed = self.files.parse(path)
        if parsed is None:
            return {}, [], ()
        return parsed.definitions, parsed.imports, parsed.version

    def find(self, path: Path, symbol: str, root: Path, hops: int = 0
             ) -> tuple[Path, Definition, tuple] | None:
        """Where ``symbol`` of the module at ``path`` is defined, following re-exports
        (``from .mod import name``, ``from .mod import *``, ``export * from``)."""
        definitions, imports, version = self.parsed(path)
        if symbol in definitions:
            return path, definitions[symbol], version
        if hops >= MAX_REEXPORT_HOPS:
            return None
        for imp in imports:
            if imp.local not in (symbol, WILDCARD):
                continue
            target = resolve(imp, path, self.roots(root, path))
            name = symbol if imp.name == WILDCARD else imp.name
            found = self.find(target, name, root, hops + 1) if target and name else None
            if found is not None:
                return found
        return None

    # ------------------------------------------------------------------------ skeletons
    def _bases(self, doc: Document, offset: int, root: Path | None, imports: _Imports
               ) -> Iterator[_Candidate]:
        """Skeletons of the enclosing class's bases, from other files or far in this one."""
        cls = enclosing_class(_node_at(doc, offset))
        if cls is None or root is None:
            return
        line = doc.line_of(offset)
        own = self._definitions_of_doc(doc)
        for base in _base_names(cls, doc.source):
            if base in own and abs(own[base].start_line - line) >= FAR_LINES:
                found = (Path(doc.path) if doc.path else None, own[base],
                         _text_origin(doc, own[base].text))
            else:
                found = imports.resolve_name(base, None)
            if found is not None and found[0] is not None:
                imports.shown.add((found[0], found[1].start_line))
                yield _definition_candidate(found, root)

    def _definitions_of_doc(self, doc: Document) -> dict[str, Definition]:
        key = (doc.uri, doc.version, len(doc.text))
        if key not in self._open_definitions:
            self._open_definitions[key] = (top_level_definitions(doc.tree.root_node, doc.source),
                                           [], (doc.uri, doc.version))
        return self._open_definitions[key][0]

    def _class_skeleton(self, doc: Document, offset: int, root: Path | None
                        ) -> Iterator[_Candidate]:
        """The enclosing class's other members, trimmable, far ones first, when some are
        far from the cursor, hence probably outside the prompt window."""
        byte, line = doc.byte_offset(offset), doc.line_of(offset)
        cls = enclosing_class(_node_at(doc, offset))
        if cls is None:
            return
        if not any(abs(m.start_point[0] - line) >= FAR_LINES for m in members(cls)):
            return
        current = next((m for m in members(cls) if m.start_byte <= byte <= m.end_byte), None)
        head, stubs, tail = skeleton_parts(cls, doc.source, skip=current)
        path = relative_path(Path(doc.path), root) if doc.path else doc.uri
        snippet = Snippet(path, "\n".join([head, *stubs, *([tail] if tail else [])]),
                          (head, tuple(stubs), tail), origin=_text_origin(doc, tuple(stubs)))
        yield _Candidate(("class", doc.uri, head), snippet)

    def _module_outline(self, doc: Document, offset: int, root: Path | None
                        ) -> Iterator[_Candidate]:
        """Signatures (and module-level assignments) of the current module that lie far
        from the cursor; also when the cursor is inside a class."""
        source, line, byte = doc.source, doc.line_of(offset), doc.byte_offset(offset)
        far = [n for n in top_level(doc.tree.root_node)
               if abs(n.start_point[0] - line) >= FAR_LINES and "import" not in n.type
               and not n.start_byte <= byte <= n.end_byte
               and names_of(n, source) not in ([], ["__all__"])]
        if far:
            path = relative_path(Path(doc.path), root) if doc.path else doc.uri
            stubs = tuple(stub(node, source) for node in far)
            yield _Candidate(("module", doc.uri),
                             _outline_snippet(path, stubs, _text_origin(doc, stubs)))

    # --------------------------------------------------------------------- recent edits
    def _recent_edits(self, doc: Document, root: Path | None) -> Iterator[_Candidate]:
        """Lines around recent edits in other open documents, most recent first."""
        for region in reversed(self.store.recent_edits(exclude_uri=doc.uri)):
            other = self.store.get(region.uri)
            if other is None:
                continue
            last = min(region.end_line + EDIT_CONTEXT_LINES, other.line_count - 1)
            first = max(region.start_line - EDIT_CONTEXT_LINES, 0, last - MAX_EDIT_LINES + 1)
            text = other.text[other.line_start(first):other.line_end(last)]
            if text.strip():
                path = relative_path(Path(other.path), root) if other.path else other.uri
                yield _Candidate(("edit", region.uri, region.seq),
                                 Snippet(path, text, origin=(other.uri, other.version)))


class _Imports:
    """The workspace imports of a document, ranked by where their names are used."""

    def __init__(self, retriever: ContextRetriever, doc: Document, offset: int,
                 root: Path | None) -> None:
        self.retriever, self.doc, self.root = retriever, doc, root
        self.importer = Path(doc.path) if doc.path else None
        self.by_local = ({imp.local: imp for imp in imports_of(doc.tree.root_node, doc.source,
                                                               doc.language)
                          if imp.local != WILDCARD}
                         if root is not None and self.importer is not None else {})
        self.near, self.far, self.unused = _rank_uses(doc, offset, self.by_local)
        self._rests: list[_Candidate] = []
        self.shown: set[tuple[Path, int]] = set()
        """Definitions offered already: those of imported names not used near the cursor
        leave out the ones that outlines show (outlines stay whole: a module's outline is the
        same text while typing re-ranks the names, so the prompt keeps its tokens)."""

    def definitions(self, names: list[tuple[str, str | None]]) -> Iterator[_Candidate]:
        for name, attr in names:
            found = self.resolve_name(name, attr)
            if found is not None and (found[0], found[1].start_line) not in self.shown:
                self.shown.add((found[0], found[1].start_line))
                yield _definition_candidate(found, self.root)

    def resolve_name(self, name: str, attr: str | None
                     ) -> tuple[Path, Definition, tuple] | None:
        """Where an imported name is defined: the symbol itself, or ``attr`` of a module."""
        imp = self.by_local.get(name)
        if imp is None:
            return None
        attempts = [(imp, imp.name or attr)]
        if imp.name is not None and attr:
            attempts.append((submodule(imp), attr))  # `from pkg import mod` then `mod.attr`
        for target, symbol in attempts:
            path = resolve(target, self.importer, self.retriever.roots(self.root,
                                                                       self.importer))
            found = self.retriever.find(path, symbol, self.root) if path and symbol else None
            if found is not None:
                return found
        return None

    def neighbours(self) -> Iterator[_Candidate]:
        """Outlines of what this file imports from each workspace module (or uses of an
        imported module), modules whose names are used nearest first; the rest of each
        module's outline (a name not imported yet is there too) comes later, from
        ``neighbour_rests``. Both are whole texts that typing rarely changes."""
        modules: dict[Path, list[str]] = {}
        for name, attr in [*self.near, *self.unused, *self.far]:
            imp = self.by_local[name]
            found = self.resolve_name(name, attr)  # the defining file, past re-exports
            if found is not None:
                path, symbol = found[0], found[1].name
            else:
                module = Import(imp.local, imp.module, imp.level, None)
                path = resolve(module if imp.name else imp, self.importer,
                               self.retriever.roots(self.root, self.importer))
                symbol = imp.name or ""
            if path is not None and (path in modules or len(modules) < MAX_NEIGHBOURS):
                modules.setdefault(path, []).append(symbol)
        for path, names in modules.items():
            definitions, _, version = self.retriever.parsed(path)
            frozen = self.retriever.imported_lines.setdefault(self.doc.uri, {})
            whole = frozenset(line for p, line in self.shown if p == path)
            wanted, skipped = frozen.setdefault((path, version), (frozenset(
                definitions[n].start_line for n in names if n in definitions
                and definitions[n].start_line not in whole), whole))
            self.shown.update((path, d.start_line) for d in definitions.values())
            ordered = sorted(definitions.values(), key=lambda d: d.start_line)
            used = tuple(dict.fromkeys(d.stub for d in ordered if d.start_line in wanted))
            rest = tuple(dict.fromkeys(d.stub for d in ordered
                                       if d.start_line not in wanted | skipped))
            rel = relative_path(path, self.root)
            if used:
                yield _Candidate(("imported", str(path)),
                                 _outline_snippet(rel, used, (rel, version)))
            if rest:
                self._rests.append(_Candidate(("outline", str(path)),
                                              _outline_snippet(rel, rest, (rel, version))))

    def neighbour_rests(self) -> Iterator[_Candidate]:
        """The rest of the imported modules' outlines (after ``neighbours`` ran)."""
        yield from self._rests


# ----------------------------------------------------------------------------- helpers
def _rank_uses(doc: Document, offset: int, imported: dict[str, Import]
               ) -> tuple[list, list, list]:
    """Imported names (with the attribute read from them): used near the cursor (nearest
    first; the identifier being typed counts for every import it is a prefix of), used
    farther (nearest first), not used anywhere yet (import order)."""
    if not imported:
        return [], [], []
    line = doc.line_of(offset)
    start = doc.line_start(max(line - USAGE_LINES_BEFORE, 0))
    end = doc.line_end(min(line + USAGE_LINES_AFTER, doc.line_count - 1))
    body_start = _after_imports(doc)
    near: dict[tuple[str, str | None], int] = {}
    for match in _IDENTIFIER.finditer(doc.text, max(start, body_start), end):
        if match.group(1) in imported:
            key = (match.group(1), match.group(2))
            near[key] = min(near.get(key, end), abs(match.start() - offset))
    typing = re.search(r"[A-Za-z_$][\w$]*$", doc.text[start:offset])
    if typing and len(typing.group()) >= 2:
        for local in imported:
            if local.startswith(typing.group()):
                near.setdefault((local, None), 0)
    uses: dict[tuple[str, str | None], int] = {}
    for match in _IDENTIFIER.finditer(doc.text, body_start):
        if match.group(1) in imported and (key := (match.group(1), match.group(2))) not in near:
            uses[key] = min(uses.get(key, len(doc.text)), abs(match.start() - offset))
    used = {name for name, _ in [*near, *uses]}
    unused = [(local, None) for local in imported if local not in used]
    return sorted(near, key=near.__getitem__), sorted(uses, key=uses.__getitem__), unused


def _after_imports(doc: Document) -> int:
    """Where the code after the last top-level import statement starts (names bound there
    are not uses)."""
    last = None
    for node in top_level(doc.tree.root_node):
        if "import" in node.type:
            last = node
    return len(doc.source[:last.end_byte].decode("utf-8", "replace")) if last else 0


def _definition_candidate(found: tuple[Path, Definition, tuple], root: Path) -> _Candidate:
    path, definition, version = found
    rel = relative_path(path, root)
    snippet = Snippet(rel, definition.text, definition.parts, origin=(rel, version))
    return _Candidate(("def", str(path), definition.name), snippet)


def _outline_snippet(path: str, stubs: tuple[str, ...], origin: tuple) -> Snippet:
    """An outline of one line per definition, trimmable down to one line."""
    return Snippet(path, "\n".join(stubs), ("", stubs, "") if len(stubs) > 1 else None,
                   origin=origin)


def _base_names(cls, source: bytes) -> list[str]:
    """Names of a class's bases (Python superclasses, JS/TS ``extends``)."""
    supers = cls.child_by_field_name("superclasses")
    nodes = list(supers.named_children) if supers is not None else []
    for child in cls.children:
        if child.type == "class_heritage":
            for node in child.named_children:
                nodes += node.named_children if node.type == "extends_clause" else [node]
    return list(dict.fromkeys(source[n.start_byte:n.end_byte].decode("utf-8", "replace")
                              for n in nodes if n.type == "identifier"))


def _node_at(doc: Document, offset: int):
    byte = doc.byte_offset(offset)
    return doc.tree.root_node.descendant_for_byte_range(byte, byte)


def _text_origin(doc: Document, text) -> tuple:
    """The current document's snippets are identified by their text's hash: its version
    moves with every keystroke, also back to a text seen before."""
    return (doc.uri, hash(text))

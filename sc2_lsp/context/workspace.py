"""Parsed workspace files, cached by (path, mtime, size) so a keystroke never reparses them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cachetools import LRUCache
from tree_sitter import Tree

from sc2_lsp.context.imports import Import, imports_of
from sc2_lsp.context.symbols import Definition, top_level_definitions
from sc2_lsp.languages import language_for, parser_for

MAX_FILE_BYTES = 512 * 1024
"""Larger files are skipped: context comes from ordinary source files."""


@dataclass
class ParsedFile:
    """A source file with its tree; top-level definitions are computed on first use."""

    path: Path
    language: str
    source: bytes
    tree: Tree
    version: tuple = ()
    """(mtime, size) when parsed: what tells this file apart from an edited version of it."""
    _definitions: dict[str, Definition] | None = field(default=None, repr=False)
    _imports: list[Import] | None = field(default=None, repr=False)

    @property
    def definitions(self) -> dict[str, Definition]:
        if self._definitions is None:
            self._definitions = top_level_definitions(self.tree.root_node, self.source)
        return self._definitions

    @property
    def imports(self) -> list[Import]:
        if self._imports is None:
            self._imports = imports_of(self.tree.root_node, self.source, self.language)
        return self._imports


class FileCache:
    """LRU of parsed files keyed by path and validated by mtime and size."""

    def __init__(self, maxsize: int = 256) -> None:
        self._files: LRUCache = LRUCache(maxsize=maxsize)

    def parse(self, path: Path) -> ParsedFile | None:
        try:
            stat = os.stat(path)
        except OSError:
            return None
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._files.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        parsed = _parse(path, stat.st_size, key)
        self._files[path] = (key, parsed)
        return parsed


def _parse(path: Path, size: int, version: tuple) -> ParsedFile | None:
    language = language_for("", str(path))
    parser = parser_for(language) if language and size <= MAX_FILE_BYTES else None
    if parser is None:
        return None
    try:
        source = path.read_bytes()
    except OSError:
        return None
    if b"\x00" in source:
        return None
    return ParsedFile(path, language, source, parser.parse(source), version)


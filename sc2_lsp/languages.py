"""Language detection and tree-sitter grammars, loaded offline from the per-language wheels.

Canonical language names are the tree-sitter grammar names (``python``, ``tsx``, ``c_sharp``...).
Anything without a grammar is plain text (``None``): every feature must still work without a tree.
"""

from __future__ import annotations

import importlib
import re
import threading
from functools import cache
from pathlib import PurePath

from tree_sitter import Language, Parser

# canonical name -> (module, function returning the grammar pointer)
_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "c_sharp": ("tree_sitter_c_sharp", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "php": ("tree_sitter_php", "language_php"),
    "bash": ("tree_sitter_bash", "language"),
    "lua": ("tree_sitter_lua", "language"),
}

LANGUAGES: tuple[str, ...] = tuple(_GRAMMARS)

# LSP languageIds (VS Code) and Neovim filetypes that differ from the canonical name.
_LANGUAGE_ID_ALIASES: dict[str, str] = {
    "py": "python",
    "javascriptreact": "javascript",
    "js": "javascript",
    "jsx": "javascript",
    "typescriptreact": "tsx",
    "ts": "typescript",
    "golang": "go",
    "rs": "rust",
    "h": "c",
    "c++": "cpp",
    "cuda": "cpp",
    "csharp": "c_sharp",
    "cs": "c_sharp",
    "c#": "c_sharp",
    "rb": "ruby",
    "shellscript": "bash",
    "shell": "bash",
    "sh": "bash",
    "zsh": "bash",
}

_EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".pyw": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp", ".hpp": "cpp", ".hh": "cpp",
    ".hxx": "cpp", ".cu": "cpp",
    ".cs": "c_sharp",
    ".rb": "ruby", ".rake": "ruby", ".gemspec": "ruby",
    ".php": "php", ".phtml": "php",
    ".sh": "bash", ".bash": "bash", ".zsh": "bash",
    ".lua": "lua",
}


def language_for(language_id: str, path: str | None) -> str | None:
    """Canonical language: the LSP languageId when it names a grammar, else the file extension."""
    key = (language_id or "").strip().lower()
    name = _LANGUAGE_ID_ALIASES.get(key, key)
    if name in _GRAMMARS:
        return name
    if path:
        return _EXTENSIONS.get(PurePath(path).suffix.lower())
    return None


@cache
def grammar(language: str) -> Language | None:
    """The tree-sitter Language for a canonical name (loaded once per process)."""
    spec = _GRAMMARS.get(language)
    if spec is None:
        return None
    module = importlib.import_module(spec[0])
    return Language(getattr(module, spec[1])())


_local = threading.local()


def parser_for(language: str) -> Parser | None:
    """A cached parser for ``language``; one per thread, since a Parser is not thread-safe."""
    parsers: dict[str, Parser] = _local.__dict__.setdefault("parsers", {})
    parser = parsers.get(language)
    if parser is None:
        lang = grammar(language)
        if lang is None:
            return None
        parser = parsers[language] = Parser(lang)
    return parser


# The word being typed, as editors see it: completion items must start where the
# editor's word starts, or clients that filter by it (eglot's symbol at point,
# Vim's 'iskeyword', ALE's prefix) drop them. Default: letters, digits, `_`.
# Ruby's `@`/`$` and JavaScript's `#` stay out: Emacs and Vim start the word after them.
_WORD_RULES: dict[str, str] = {
    "javascript": r"[\w$]+", "typescript": r"[\w$]+", "tsx": r"[\w$]+", "java": r"[\w$]+",
    "php": r"\$?\w+",
    "bash": r"[\w-]+",
    "css": r"[\w-]+",
}
# Style sheets have no grammar here, but their words differ: known by languageId or extension.
_STYLE_SHEETS = ("css", "scss", "less", "sass")
# Longer "words" are data, not identifiers: the search stays bounded on long lines.
_MAX_WORD = 256


@cache
def _word_pattern(rule: str) -> re.Pattern[str]:
    return re.compile(f"(?:{rule})\\Z")


def _word_language(language_id: str, path: str | None) -> str | None:
    language = language_for(language_id, path)
    suffix = PurePath(path).suffix.lower().lstrip(".") if path else ""
    if language is None and ((language_id or "").lower() in _STYLE_SHEETS
                             or suffix in _STYLE_SHEETS):
        return "css"
    return language


def word_before(text: str, language_id: str = "", path: str | None = None) -> str:
    """The word that ends `text` (the cursor's line up to the cursor) by the language's
    identifier rules: what a completion item's range and label start with."""
    rule = _WORD_RULES.get(_word_language(language_id, path), r"\w+")
    match = _word_pattern(rule).search(text[-_MAX_WORD:])
    return match.group() if match else ""

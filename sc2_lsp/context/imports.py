"""Imports of a file and where they lead inside the workspace (Python; JS/TS relative imports)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from sc2_lsp.context.symbols import text_of, top_level

_JS_LANGUAGES = {"javascript", "typescript", "tsx"}
_JS_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs")
WILDCARD = "*"
"""``local`` and ``name`` of a star import or re-export: every name of the module."""


@dataclass(frozen=True)
class Import:
    """``local`` is bound to ``name`` from ``module`` (``name`` None: the module itself).

    Python: ``module`` is dotted, ``level`` counts leading dots. JS/TS: ``module`` is the
    specifier string (``./util``) and ``level`` is 0.
    """

    local: str
    module: str
    level: int
    name: str | None


def imports_of(root: Node, source: bytes, language: str | None) -> list[Import]:
    if language == "python":
        return [imp for node in top_level(root) for imp in _python(node, source)]
    if language in _JS_LANGUAGES:
        return [imp for node in top_level(root) for imp in (
            _javascript(node, source) if node.type in ("import_statement", "export_statement")
            else _require(node, source))]
    return []


def _text(node: Node, source: bytes) -> str:
    return text_of(source, node.start_byte, node.end_byte)


def _python(node: Node, source: bytes) -> list[Import]:
    if node.type == "import_statement":
        found = []
        for name in node.children_by_field_name("name"):
            dotted, alias = _aliased(name, source)
            local = alias or dotted.split(".")[0]
            found.append(Import(local, dotted if alias else local, 0, None))
        return found
    if node.type != "import_from_statement":
        return []
    module_node = node.child_by_field_name("module_name")
    if module_node is None:
        return []
    module, level = _text(module_node, source), 0
    if module_node.type == "relative_import":
        level = len(module) - len(module.lstrip("."))
        module = module[level:]
    if any(child.type == "wildcard_import" for child in node.named_children):
        return [Import(WILDCARD, module, level, WILDCARD)]  # `from .mod import *`
    found = []
    for name in node.children_by_field_name("name"):
        dotted, alias = _aliased(name, source)
        found.append(Import(alias or dotted, module, level, dotted))
    return found


def _aliased(node: Node, source: bytes) -> tuple[str, str | None]:
    if node.type == "aliased_import":
        alias = node.child_by_field_name("alias")
        return (_text(node.child_by_field_name("name"), source),
                _text(alias, source) if alias is not None else None)
    return _text(node, source), None


def _javascript(node: Node, source: bytes) -> list[Import]:
    spec = node.child_by_field_name("source")
    module = _text(spec, source).strip("\"'`") if spec is not None else ""
    if not module.startswith("."):
        return []
    if node.type == "export_statement":  # a re-export: `export * from`, `export { a } from`
        clause = next((c for c in node.named_children if c.type == "export_clause"), None)
        if clause is None:
            return [Import(WILDCARD, module, 0, WILDCARD)]
        return [Import(_text(alias or name, source), module, 0, _text(name, source))
                for spec_node in clause.named_children
                if (name := spec_node.child_by_field_name("name")) is not None
                for alias in [spec_node.child_by_field_name("alias")]]
    clause = next((c for c in node.named_children if c.type == "import_clause"), None)
    found = []
    for child in clause.named_children if clause is not None else []:
        if child.type == "identifier":
            found.append(Import(_text(child, source), module, 0, "default"))
        elif child.type == "namespace_import":
            ident = next((c for c in child.named_children if c.type == "identifier"), None)
            if ident is not None:
                found.append(Import(_text(ident, source), module, 0, None))
        elif child.type == "named_imports":
            for spec_node in child.named_children:
                name = spec_node.child_by_field_name("name")
                alias = spec_node.child_by_field_name("alias")
                if name is not None:
                    found.append(Import(_text(alias or name, source), module, 0,
                                        _text(name, source)))
    return found


def _require(node: Node, source: bytes) -> list[Import]:
    """CommonJS: ``const m = require("./m")`` and ``const { a, b: c } = require("./m")``."""
    if node.type not in ("lexical_declaration", "variable_declaration"):
        return []
    found = []
    for declarator in node.named_children:
        call = declarator.child_by_field_name("value")
        target = declarator.child_by_field_name("name")
        module = _required_module(call, source)
        if module is None or target is None:
            continue
        if target.type == "identifier":
            found.append(Import(_text(target, source), module, 0, None))
        for part in target.named_children if target.type == "object_pattern" else []:
            if part.type == "shorthand_property_identifier_pattern":
                found.append(Import(_text(part, source), module, 0, _text(part, source)))
            elif part.type == "pair_pattern":
                key, value = part.child_by_field_name("key"), part.child_by_field_name("value")
                if key is not None and value is not None and value.type == "identifier":
                    found.append(Import(_text(value, source), module, 0, _text(key, source)))
    return found


def _required_module(call: Node | None, source: bytes) -> str | None:
    if call is None or call.type != "call_expression":
        return None
    function, arguments = call.child_by_field_name("function"), call.child_by_field_name(
        "arguments")
    if function is None or _text(function, source) != "require" or arguments is None:
        return None
    strings = [a for a in arguments.named_children if a.type == "string"]
    module = _text(strings[0], source).strip("\"'`") if strings else ""
    return module if module.startswith(".") else None


def resolve(imp: Import, importer: Path, roots: list[Path]) -> Path | None:
    """The workspace file an import refers to, if any (searching ``roots`` for absolute ones)."""
    if imp.module.startswith("."):
        return _first_file(_js_candidates(importer.parent / imp.module))
    if imp.level:
        base = importer.parent
        for _ in range(imp.level - 1):
            base = base.parent
        return _first_file(_python_candidates(base, imp.module))
    for root in roots:
        found = _first_file(_python_candidates(root, imp.module))
        if found is not None:
            return found
    return None


def submodule(imp: Import) -> Import:
    """``from pkg import mod``: the import read as a module import of ``pkg.mod``."""
    module = f"{imp.module}.{imp.name}" if imp.module else str(imp.name)
    return Import(imp.local, module, imp.level, None)


def _python_candidates(base: Path, module: str) -> list[Path]:
    target = base.joinpath(*module.split(".")) if module else base
    return [target.with_name(target.name + ".py"), target / "__init__.py"] if module else [
        target / "__init__.py"]


def _js_candidates(target: Path) -> list[Path]:
    stem = target.with_suffix("") if target.suffix in _JS_EXTENSIONS else target
    return [target, *(stem.with_name(stem.name + ext) for ext in _JS_EXTENSIONS),
            *(target / f"index{ext}" for ext in _JS_EXTENSIONS)]


def _first_file(candidates: list[Path]) -> Path | None:
    return next((path for path in candidates if path.is_file()), None)

"""Imports go one way (docs/architecture.md): every module of the package imports only
modules of a lower layer, so a leaf never reaches up and no two modules depend on each other."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sc2_lsp"
LAYERS = [
    {"sc2_lsp", "__version__",  # the package's __init__: its version only
     "text", "snippet", "languages", "config", "jsonrpc", "cache", "memory"},  # leaves
    {"documents", "flags", "protocol", "engine"},
    {"context", "prompt", "postprocess"},
    {"completion"},
    {"completion_items", "session"},
    {"server"},
    {"bench"},
    {"cli", "demo"},
    {"__main__"},
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str:
    """`sc2_lsp.context.mode` → `context`: a module or subpackage directly under sc2_lsp."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imported(path: Path) -> set[str]:
    """The package's modules that `path` imports (absolute or relative), by full name."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.removesuffix(".__init__") if path.name == "__init__.py" else (
        module.rsplit(".", 1)[0])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level \
                else []
            target = ".".join(base + ([node.module] if node.module else []))
            if target.startswith("sc2_lsp"):
                found |= {target} if node.module else {f"{target}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("sc2_lsp")}
    return found


def test_every_import_goes_to_a_lower_layer():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        source = unit_of(module.removesuffix(".__init__"))
        assert source in RANK, f"{path}: place {source!r} in a layer of LAYERS"
        for target in map(unit_of, imported(path)):
            if target != source and RANK[target] >= RANK[source]:
                upward.append(f"{path.relative_to(PACKAGE.parent)} imports {target}")
    assert upward == []

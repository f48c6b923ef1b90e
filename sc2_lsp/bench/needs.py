"""What a gold middle needs from outside the prompt window, read from the syntax tree.

A *need* is an identifier the gold middle uses whose definition lies outside what the prompt's
prefix and suffix windows show: in another workspace file (reached through the file's imports)
or in the same file, above or below the window. Local names of the enclosing function, names
the middle defines itself and names defined nowhere in the workspace (builtins, third-party
code) are not needs. ``self.x`` / ``cls.x`` are looked up in the enclosing class and its
bases; ``mod.x`` in an imported module. A need is *found* when its definition line is a line
of a context snippet shown under the defining file's path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from ..context.imports import Import, imports_of, resolve, submodule
from ..context.symbols import text_of
from ..languages import parser_for

CROSS_FILE, SAME_FILE = "cross-file", "same-file"
_SCOPES = {"function_definition", "lambda"}
_BINDERS = {"assignment": "left", "augmented_assignment": "left", "for_statement": "left",
            "for_in_clause": "left", "named_expression": "name"}
_PARAMETER_TYPES = {"identifier", "typed_parameter", "default_parameter",
                    "typed_default_parameter", "list_splat_pattern", "dictionary_splat_pattern"}
MAX_REEXPORT_HOPS = 3


@dataclass(frozen=True)
class Need:
    """``name`` is defined at ``line`` (0-based) of ``path`` (workspace-relative)."""

    name: str
    path: str
    line: int
    where: str
    definition: str  # the definition's first line, stripped

    def to_json(self) -> dict:
        return {"name": self.name, "path": self.path, "line": self.line, "where": self.where}


@dataclass(frozen=True)
class _Site:
    path: Path
    line: int
    text: str


class _Module:
    """A parsed Python file: top-level definition sites, classes, imports."""

    def __init__(self, path: Path, source: bytes) -> None:
        self.path, self.source = path, source
        self.tree = parser_for("python").parse(source)
        root = self.tree.root_node
        self.lines = source.decode("utf-8", "replace").split("\n")
        self.imports = {imp.local: imp for imp in imports_of(root, source, "python")}
        self.top: dict[str, _Site] = {}
        self.classes: dict[str, Node] = {}
        for node in root.named_children:
            self._add_top(node)

    def _add_top(self, node: Node) -> None:
        inner = node.child_by_field_name("definition") if node.type == "decorated_definition" \
            else node
        if inner is None:
            return
        if inner.type in ("function_definition", "class_definition"):
            name = self.text(inner.child_by_field_name("name"))
            self.top.setdefault(name, self.site(inner))
            if inner.type == "class_definition":
                self.classes.setdefault(name, inner)
        elif inner.type == "expression_statement":
            for name in _assigned_names(inner, self):
                self.top.setdefault(name, self.site(inner))

    def text(self, node: Node | None) -> str:
        return text_of(self.source, node.start_byte, node.end_byte) if node is not None else ""

    def site(self, node: Node) -> _Site:
        line = node.start_point[0]
        return _Site(self.path, line, self.lines[line].strip())

    def members(self, cls: Node) -> dict[str, _Site]:
        """Methods, class attributes and ``self.x = ...`` attributes of a class."""
        found: dict[str, _Site] = {}
        body = cls.child_by_field_name("body")
        for node in body.named_children if body is not None else []:
            inner = node.child_by_field_name("definition") if (
                node.type == "decorated_definition") else node
            if inner is None:
                continue
            if inner.type in ("function_definition", "class_definition"):
                found.setdefault(self.text(inner.child_by_field_name("name")), self.site(inner))
            elif inner.type == "expression_statement":
                for name in _assigned_names(inner, self):
                    found.setdefault(name, self.site(inner))
        for node in _walk(body) if body is not None else []:
            if node.type == "assignment":
                left = node.child_by_field_name("left")
                if (left is not None and left.type == "attribute"
                        and self.text(left.child_by_field_name("object")) == "self"):
                    found.setdefault(self.text(left.child_by_field_name("attribute")),
                                     self.site(node))
        return found

    def bases(self, cls: Node) -> list[str]:
        supers = cls.child_by_field_name("superclasses")
        return [self.text(n) for n in supers.named_children] if supers is not None else []


class NeedFinder:
    """Finds the needs of tasks in one workspace; parsed files are shared between tasks."""

    def __init__(self, workspace: Path, roots: list[Path] | None = None) -> None:
        self.workspace = workspace
        self.roots = roots or [workspace]
        self._modules: dict[Path, _Module | None] = {}

    def module(self, path: Path) -> _Module | None:
        if path not in self._modules:
            try:
                self._modules[path] = _Module(path, path.read_bytes())
            except OSError:
                self._modules[path] = None
        return self._modules[path]

    def needs(self, path: Path, prefix: str, middle: str, suffix: str,
              window: tuple[int, int]) -> list[Need]:
        """Needs of ``middle`` placed between ``prefix`` and ``suffix`` in the file at ``path``;
        ``window`` is the first and last line (of prefix + middle + suffix) the prompt shows."""
        source = (prefix + middle + suffix).encode()
        gold = _Module(path, source)
        start, end = len(prefix.encode()), len((prefix + middle).encode())
        middle_node = gold.tree.root_node.descendant_for_byte_range(start, max(start, end - 1))
        local = _local_names(middle_node, gold)
        found: dict[tuple[str, str, int], Need] = {}
        for node in _walk(gold.tree.root_node):
            if node.type != "identifier" or not start <= node.start_byte < end:
                continue
            if _is_binding(node) or (_bare(node) and gold.text(node) in local):
                continue
            site = self._site_of(node, gold)
            if site is None or site.path == path and (
                    window[0] <= site.line <= window[1] or _in_middle(site, prefix, middle)):
                continue
            need = Need(gold.text(node), self._relative(site.path), site.line,
                        SAME_FILE if site.path == path else CROSS_FILE, site.text)
            found.setdefault((need.name, need.path, need.line), need)
        return list(found.values())

    # ------------------------------------------------------------------------- lookups
    def _site_of(self, node: Node, gold: _Module) -> _Site | None:
        parent = node.parent
        if parent is not None and parent.type == "attribute" and parent.child_by_field_name(
                "attribute") == node:
            return self._attribute_site(parent.child_by_field_name("object"), gold.text(node),
                                        node, gold)
        if parent is not None and parent.type == "keyword_argument" and \
                parent.child_by_field_name("name") == node:
            return None
        return self._name_site(gold.text(node), gold)

    def _name_site(self, name: str, module: _Module, hops: int = 0) -> _Site | None:
        imp = module.imports.get(name)
        if imp is not None:
            return self._imported_site(imp, module, hops)
        return module.top.get(name)

    def _imported_site(self, imp: Import, module: _Module, hops: int) -> _Site | None:
        if hops > MAX_REEXPORT_HOPS:
            return None
        target = resolve(imp, module.path, self.roots)
        if imp.name is None:
            return None  # `import mod`: the module itself, not a definition
        other = self.module(target) if target is not None else None
        if other is not None and (imp.name in other.top or imp.name in other.imports):
            return self._name_site(imp.name, other, hops + 1)
        return None

    def _attribute_site(self, obj: Node | None, attr: str, node: Node, gold: _Module
                        ) -> _Site | None:
        if obj is None or obj.type != "identifier":
            return None
        name = gold.text(obj)
        if name in ("self", "cls"):
            cls = _enclosing_class(node)
            return self._member_site(gold, cls, attr, 0) if cls is not None else None
        imp = gold.imports.get(name)
        if imp is not None:
            module = self._module_of(imp, gold)
            if module is not None:
                return self._name_site(attr, module, 1)
            located = self._class_of(name, gold, 0)
        else:
            located = (gold, gold.classes[name]) if name in gold.classes else None
        return self._member_site(*located, attr, 0) if located is not None else None

    def _module_of(self, imp: Import, module: _Module) -> _Module | None:
        """The module an import binds (``import m``, ``from pkg import m``), if any."""
        target = imp if imp.name is None else submodule(imp)
        path = resolve(target, module.path, self.roots)
        return self.module(path) if path is not None else None

    def _class_of(self, name: str, module: _Module, hops: int) -> tuple[_Module, Node] | None:
        """The class ``name`` means in ``module``, following imports."""
        if hops > MAX_REEXPORT_HOPS:
            return None
        if name in module.classes:
            return module, module.classes[name]
        imp = module.imports.get(name)
        target = resolve(imp, module.path, self.roots) if imp is not None and imp.name else None
        other = self.module(target) if target is not None else None
        return self._class_of(imp.name, other, hops + 1) if other is not None else None

    def _member_site(self, module: _Module, cls: Node, attr: str, depth: int) -> _Site | None:
        """``attr`` in a class or, failing that, in its bases (in any workspace file)."""
        site = module.members(cls).get(attr)
        if site is not None or depth > MAX_REEXPORT_HOPS:
            return site
        for base in module.bases(cls):
            located = self._class_of(base, module, 0)
            if located is not None and (found := self._member_site(*located, attr, depth + 1)):
                return found
        return None

    def _relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.workspace).as_posix()
        except ValueError:
            return path.name


def found_needs(needs: list[Need], snippets) -> list[Need]:
    """Needs whose definition line is a line of a snippet of the defining file."""
    lines: dict[str, set[str]] = {}
    for snippet in snippets:
        lines.setdefault(snippet.path, set()).update(
            line.strip() for line in snippet.text.split("\n"))
    return [need for need in needs if any(
        line.startswith(need.definition) or need.definition.startswith(line) and line.endswith(
            ("(", "[", "{")) for line in lines.get(need.path, ()) if line)]


# ----------------------------------------------------------------------------- helpers
def _walk(node: Node):
    cursor = [node]
    while cursor:
        current = cursor.pop()
        yield current
        cursor.extend(reversed(current.children))


def _assigned_names(statement: Node, module: _Module) -> list[str]:
    """``X = ...`` / ``X: int = ...`` / ``A, B = ...`` at the statement's level."""
    names = []
    for child in statement.named_children:
        if child.type == "assignment":
            left = child.child_by_field_name("left")
            names += [module.text(n) for n in _target_identifiers(left)]
    return names


def _target_identifiers(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if node.type == "identifier":
        return [node]
    if node.type in ("pattern_list", "tuple_pattern", "list_pattern", "list_splat_pattern"):
        return [n for child in node.named_children for n in _target_identifiers(child)]
    return []


def _enclosing(node: Node | None, types: set[str]) -> Node | None:
    while node is not None and node.type not in types:
        node = node.parent
    return node


def _enclosing_class(node: Node) -> Node | None:
    return _enclosing(node, {"class_definition"})


def _local_names(middle_node: Node, module: _Module) -> set[str]:
    """Names bound inside the function around the middle (parameters, assignments, loops,
    ``with ... as``, imports, nested definitions): they are the function's own."""
    scope = _enclosing(middle_node, _SCOPES)
    if scope is None:
        return set()
    names = set()
    for node in _walk(scope):
        if node.type == "identifier" and _is_binding(node):
            names.add(module.text(node))
    return names


def _is_binding(node: Node) -> bool:
    """An identifier that a statement binds (not one it reads)."""
    parent = node.parent
    if parent is None:
        return False
    if parent.type in ("parameters", "lambda_parameters") or (
            parent.type in _PARAMETER_TYPES - {"identifier"}
            and parent.parent is not None and parent.parent.type in (
                "parameters", "lambda_parameters")
            and (parent.child_by_field_name("name") in (None, node))
            and node == next((c for c in parent.named_children if c.type == "identifier"), None)):
        return True
    if parent.type in ("function_definition", "class_definition") and \
            parent.child_by_field_name("name") == node:
        return True
    if parent.type in ("as_pattern_target", "global_statement", "nonlocal_statement",
                       "dotted_name", "aliased_import"):
        return True
    ancestor, child = parent, node
    while ancestor is not None and ancestor.type in (
            "pattern_list", "tuple_pattern", "list_pattern", "list_splat_pattern"):
        ancestor, child = ancestor.parent, ancestor
    field = _BINDERS.get(ancestor.type) if ancestor is not None else None
    return field is not None and ancestor.child_by_field_name(field) == child


def _bare(node: Node) -> bool:
    parent = node.parent
    return not (parent is not None and parent.type == "attribute"
                and parent.child_by_field_name("attribute") == node)


def _in_middle(site: _Site, prefix: str, middle: str) -> bool:
    first = prefix.count("\n")
    return first <= site.line <= first + middle.count("\n")

"""Definitions in a syntax tree, summarised the way a reader skims code: signatures and docs.

A summary is a definition's header (decorators and leading doc comment included) followed by
its docstring, or by its first body lines when it has none. Skeletons keep headers only. This
is what context snippets show of other files and of the parts of the current file that the
prompt window does not reach.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

BODY_LINES = 3
"""Body lines shown for a definition without a docstring."""

MAX_SUMMARY_LINES = 12

SHORT_LINES = 6
"""Definitions shorter than this are shown whole."""

_WRAPPERS = {"decorated_definition": "definition", "export_statement": "declaration"}
_VARIABLES = {"lexical_declaration", "variable_declaration"}
_CLASSES = {
    "class_definition", "class_declaration", "abstract_class_declaration", "class",
    "interface_declaration", "struct_declaration", "record_declaration", "enum_declaration",
    "impl_item", "trait_item", "class_specifier", "struct_specifier", "module",
}
_FUNCTIONS_WITH_VALUES = {"arrow_function", "function_expression", "function"}


@dataclass(frozen=True)
class Definition:
    """A named top-level definition and its summary."""

    name: str
    text: str
    start_line: int
    end_line: int


def text_of(source: bytes, start: int, end: int) -> str:
    return source[start:end].decode("utf-8", "replace")


def top_level_definitions(root: Node, source: bytes) -> dict[str, Definition]:
    """Named definitions directly under the root (first one wins for a repeated name)."""
    found: dict[str, Definition] = {}
    for node in root.named_children:
        for name in names_of(node, source):
            found.setdefault(name, Definition(name, summarize(node, source), node.start_point[0],
                                              node.end_point[0]))
    return found


def names_of(node: Node, source: bytes) -> list[str]:
    """Names a top-level statement defines (``default`` for ``export default``)."""
    inner = _unwrap(node)
    if inner.type in _VARIABLES:
        return [text_of(source, n.start_byte, n.end_byte) for d in inner.named_children
                if (n := d.child_by_field_name("name")) is not None and n.type == "identifier"]
    if inner.type == "expression_statement" and inner.named_child_count:
        target = inner.named_children[0].child_by_field_name("left")  # python `X = ...`
        return [text_of(source, target.start_byte, target.end_byte)] if (
            target is not None and target.type == "identifier") else []
    name = inner.child_by_field_name("name")
    names = [text_of(source, name.start_byte, name.end_byte)] if name is not None else []
    if node.type == "export_statement" and any(c.type == "default" for c in node.children):
        names.append("default")
    return names


def _unwrap(node: Node) -> Node:
    field = _WRAPPERS.get(node.type)
    inner = node.child_by_field_name(field) if field else None
    return inner if inner is not None else node


def _body(node: Node) -> Node | None:
    """The body of a definition, looking through wrappers and ``const f = () => {...}``."""
    inner = _unwrap(node)
    if inner.type in _VARIABLES:
        declarator = inner.named_children[0] if inner.named_child_count else None
        value = declarator.child_by_field_name("value") if declarator else None
        return value.child_by_field_name("body") if (
            value is not None and value.type in _FUNCTIONS_WITH_VALUES) else None
    return inner.child_by_field_name("body")


def signature(node: Node, source: bytes) -> str:
    """The header of a definition: everything before its body (or its first line)."""
    body = _body(node)
    start = _leading_comment_start(node)
    if body is None or body.start_byte <= node.start_byte:
        return _first_lines(text_of(source, start, node.end_byte), BODY_LINES)
    header = text_of(source, start, body.start_byte).rstrip()
    return header.removesuffix("{").rstrip()


def summarize(node: Node, source: bytes) -> str:
    """A short definition whole; else its signature plus docstring (or first body lines)."""
    whole = text_of(source, _leading_comment_start(node), node.end_byte)
    body = _body(node)
    if whole.count("\n") < SHORT_LINES or body is None or body.start_byte <= node.start_byte:
        return _first_lines(whole, MAX_SUMMARY_LINES)
    if _unwrap(node).type in _CLASSES:
        return _with_body(node, source, [outline(members(node), source)])
    return _with_body(node, source, _docstring_or_first_lines(body, source))


def skeleton(node: Node, source: bytes, skip: Node | None = None) -> str:
    """A class header and the signatures of its members (except ``skip``)."""
    kept = [m for m in members(node) if skip is None or m.id != skip.id]
    return _with_body(node, source, [outline(kept, source)])


def _with_body(node: Node, source: bytes, body_lines: list[str]) -> str:
    """Signature, then ``body_lines``, inside braces when the body has them."""
    body = _body(node)
    braces = body is not None and _braced(body, source)
    lines = [_first_lines(signature(node, source), BODY_LINES) + (" {" if braces else ""),
             *body_lines]
    if braces:
        lines.append(_indent_of(node, source) + "}")
    return "\n".join(lines)


def outline(nodes: list[Node], source: bytes) -> str:
    """Signatures with elided bodies, each at its own indentation."""
    return "\n".join(_indent_of(node, source) + _stub(node, source) for node in nodes)


def members(node: Node) -> list[Node]:
    body = _body(node)
    if body is None:
        return []
    return [child for child in body.named_children if "comment" not in child.type]


def enclosing_class(node: Node | None) -> Node | None:
    """The innermost class-like node around ``node`` (never the root: Python's is `module`)."""
    while node is not None and node.parent is not None:
        if node.type in _CLASSES:
            return node
        node = node.parent
    return None


def _stub(member: Node, source: bytes) -> str:
    """A member's signature with an elided body: ``{ ... }`` after braces, `` ...`` after a
    Python colon, nothing for keyword-delimited bodies (Ruby, Lua)."""
    head = _first_lines(signature(member, source).strip(), BODY_LINES)
    body = _body(member)
    if body is None or body.start_byte <= member.start_byte:
        return head
    if _braced(body, source):
        return f"{head} {{ ... }}"
    return f"{head} ..." if head.endswith(":") else head


def _braced(body: Node, source: bytes) -> bool:
    return source[body.start_byte:body.start_byte + 1] == b"{"


def _docstring_or_first_lines(body: Node, source: bytes) -> list[str]:
    first = body.named_children[0] if body.named_child_count else None
    if first is not None and first.type == "expression_statement" and first.named_child_count \
            and first.named_children[0].type == "string":
        return [_indent_of(first, source) + text_of(source, first.start_byte, first.end_byte)]
    if _braced(body, source):  # the lines inside the braces, elided with a comment
        inner = text_of(source, body.start_byte + 1, body.end_byte - 1).split("\n")[1:-1]
        shown = inner[:BODY_LINES]
        if len(inner) > BODY_LINES:
            indent = shown[0][:len(shown[0]) - len(shown[0].lstrip())]
            shown.append(f"{indent}// ...")
        return shown
    line_start = source.rfind(b"\n", 0, body.start_byte) + 1
    return text_of(source, line_start, body.end_byte).split("\n")[:BODY_LINES]


def _leading_comment_start(node: Node) -> int:
    """Include a doc comment directly above the definition (JSDoc, ///, # ...)."""
    start = node.start_byte
    prev = node.prev_sibling
    while prev is not None and "comment" in prev.type and prev.end_point[0] >= (
            node.start_point[0] - 1):
        start = prev.start_byte
        node, prev = prev, prev.prev_sibling
    return start


def _indent_of(node: Node, source: bytes) -> str:
    line_start = source.rfind(b"\n", 0, node.start_byte) + 1
    prefix = text_of(source, line_start, node.start_byte)
    return prefix if not prefix.strip() else " " * len(prefix)


def _first_lines(text: str, count: int) -> str:
    return "\n".join(text.split("\n")[:count])

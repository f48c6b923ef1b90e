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

DOC_LINES = 3
"""Docstring lines a skeleton keeps (then the closing quotes)."""

MAX_DOC_LINES = 8
"""Docstring lines a summary keeps."""

MEMBER_COMMENT_LINES = 2
"""A member's stub keeps the comment above it up to this many lines (a longer one would crowd
out the signatures)."""

INITIALISERS = {"__init__", "__post_init__", "setUp"}
"""Methods whose ``self.x = ...`` lines a skeleton shows: where a class's attributes are set."""

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
    parts: tuple[str, tuple[str, ...], str] | None = None
    """A long class's skeleton as (head, member stubs, tail), to be trimmed member by member."""
    stub: str = ""
    """The definition as one outline line: its signature with the body elided."""


def text_of(source: bytes, start: int, end: int) -> str:
    return source[start:end].decode("utf-8", "replace")


def top_level(root: Node) -> list[Node]:
    """The statements directly under the root; those inside a top-level ERROR node (what a
    half-typed line can turn the rest of a file into) count as top-level too."""
    found = []
    for node in root.named_children:
        found += top_level(node) if node.type == "ERROR" else [node]
    return found


def top_level_definitions(root: Node, source: bytes) -> dict[str, Definition]:
    """Named definitions directly under the root (first one wins for a repeated name)."""
    found: dict[str, Definition] = {}
    for node in top_level(root):
        names = names_of(node, source) if "import" not in node.type else []
        if not names or names == ["__all__"]:
            continue
        text = summarize(node, source)
        parts = None
        if _unwrap(node).type in _CLASSES:  # a long class's summary is its skeleton
            head, stubs, tail = skeleton_parts(node, source)
            if "\n".join([head, *stubs, *([tail] if tail else [])]) == text:
                parts = (head, tuple(stubs), tail)
        for name in names:
            found.setdefault(name, Definition(name, text, node.start_point[0],
                                              node.end_point[0], parts, stub(node, source)))
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


def signature(node: Node, source: bytes, *, comments: bool = False) -> str:
    """The header of a definition: everything before its body (a statement without one: its
    line, elided if it goes on); with ``comments``, the doc comment directly above it too."""
    body = _body(node)
    start = _leading_comment_start(node) if comments else node.start_byte
    if body is None or body.start_byte <= node.start_byte:
        comment = text_of(source, start, node.start_byte)
        return comment + elided_statement(node, source)
    header = text_of(source, start, body.start_byte).rstrip()
    return header.removesuffix("{").rstrip()


def summarize(node: Node, source: bytes) -> str:
    """A short definition whole; else its signature plus docstring (or first body lines)."""
    whole = text_of(source, _leading_comment_start(node), node.end_byte)
    body = _body(node)
    if body is None or body.start_byte <= node.start_byte:
        return whole if whole.count("\n") < MAX_SUMMARY_LINES else elided_statement(
            node, source)
    if whole.count("\n") < SHORT_LINES:
        return whole
    if _unwrap(node).type in _CLASSES:
        return _with_body(node, source, [outline(members(node), source)])
    return _with_body(node, source, _docstring_or_first_lines(body, source))


def skeleton(node: Node, source: bytes, skip: Node | None = None) -> str:
    """A class header and the signatures of its members (except ``skip``)."""
    head, parts, tail = skeleton_parts(node, source, skip)
    return "\n".join([head, *parts, *([tail] if tail else [])])


def skeleton_parts(node: Node, source: bytes, skip: Node | None = None
                   ) -> tuple[str, list[str], str]:
    """A skeleton as (class line, one stub per member, closing brace or ""): any subset of the
    members, between the two, is still valid code."""
    kept = [m for m in members(node) if skip is None or m.id != skip.id]
    body = _body(node)
    braces = body is not None and _braced(body, source)
    head = signature(node, source, comments=True) + (" {" if braces else "")
    parts = [_indent_of(m, source) + stub(m, source) for m in kept]
    if not parts and not braces:
        parts = [_indent_of(body, source) + "..."] if body is not None else []
    return head, parts, _indent_of(node, source) + "}" if braces else ""


def _with_body(node: Node, source: bytes, body_lines: list[str]) -> str:
    """Signature, then ``body_lines``, inside braces when the body has them."""
    body = _body(node)
    braces = body is not None and _braced(body, source)
    lines = [signature(node, source, comments=True) + (" {" if braces else ""), *body_lines]
    if braces:
        lines.append(_indent_of(node, source) + "}")
    return "\n".join(lines)


def outline(nodes: list[Node], source: bytes) -> str:
    """Signatures with elided bodies, each at its own indentation."""
    return "\n".join(_indent_of(node, source) + stub(node, source) for node in nodes)


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


def stub(member: Node, source: bytes) -> str:
    """A member's signature with an elided body: ``{ ... }`` after braces, `` ...`` after a
    Python colon, nothing for keyword-delimited bodies (Ruby, Lua); a docstring shortened
    inside its quotes; an initialiser with the attributes it sets."""
    if _is_docstring(member):
        return short_docstring(member, source)
    head = signature(member, source,
                     comments=_leading_comment_lines(member) <= MEMBER_COMMENT_LINES)
    body = _body(member)
    if body is None or body.start_byte <= member.start_byte:
        return head
    if _braced(body, source):
        return f"{head} {{ ... }}"
    if head.endswith("=>"):  # an arrow function with an expression body: one statement
        return elided_statement(member, source)
    if not head.endswith(":"):
        return head
    attributes = _attributes_set(member, body, source)
    if attributes:
        return "\n".join([head, *attributes, attributes[0][:len(attributes[0]) - len(
            attributes[0].lstrip())] + "..."])
    return f"{head} ..."


def _attributes_set(member: Node, body: Node, source: bytes) -> list[str]:
    """``self.x = ...`` statements directly in a Python ``__init__`` body, elided to a line."""
    name = _unwrap(member).child_by_field_name("name")
    if name is None or text_of(source, name.start_byte, name.end_byte) not in INITIALISERS:
        return []
    return [_indent_of(child, source) + elided_statement(child, source)
            for child in body.named_children if _sets_attribute(child, source)]


def _sets_attribute(statement: Node, source: bytes) -> bool:
    if statement.type != "expression_statement" or not statement.named_child_count:
        return False
    target = statement.named_children[0].child_by_field_name("left")
    return target is not None and target.type == "attribute" and text_of(
        source, target.start_byte, target.end_byte).startswith("self.")


def _is_docstring(node: Node) -> bool:
    return (node.type == "expression_statement" and node.named_child_count == 1
            and node.named_children[0].type == "string")


def short_docstring(statement: Node, source: bytes, lines: int = DOC_LINES) -> str:
    """A docstring cut to its first ``lines`` lines, closed with its own quotes."""
    text = text_of(source, statement.start_byte, statement.end_byte)
    kept = text.split("\n")
    if len(kept) <= lines:
        return text
    string = statement.named_children[0]
    start = string.named_children[0] if string.named_child_count else None
    opener = text_of(source, start.start_byte, start.end_byte) if (
        start is not None and start.type == "string_start") else '"""'
    quote = opener.lstrip("rRbBuUfF")
    head = "\n".join(kept[:lines]).rstrip()
    return f"{head}\n{_indent_of(statement, source)}{quote}"


def elided_statement(node: Node, source: bytes) -> str:
    """A statement cut to its first line, with ``...`` and whatever brackets or string that
    line leaves open closed, so that it still parses: ``X = {...}``, ``f(...)``."""
    text = text_of(source, node.start_byte, node.end_byte)
    first = text.split("\n", 1)[0].rstrip()
    if first == text.rstrip():
        return first
    closers, line = _open_at_end(first)
    if closers or line.rstrip().endswith(("=", ",", "(", "[", "{")):
        return f"{line.rstrip()}...{closers}" if closers else f"{line.rstrip()} ..."
    return first


_PAIRS = {"(": ")", "[": "]", "{": "}"}


def _open_at_end(line: str) -> tuple[str, str]:
    """(what closes the brackets and string open at the end of ``line``, the line without
    a trailing comment)."""
    stack: list[str] = []
    quote, i = "", 0
    while i < len(line):
        char = line[i]
        if quote:
            if char == "\\":
                i += 2
                continue
            if line.startswith(quote, i):
                i, quote = i + len(quote), ""
                continue
        elif char in "\"'`":
            quote = line[i:i + 3] if line[i:i + 3] in ('"""', "'''") else char
            i += len(quote)
            continue
        elif char == "#" or line.startswith("//", i):
            line = line[:i]
            break
        elif char in _PAIRS:
            stack.append(_PAIRS[char])
        elif stack and char == stack[-1]:
            stack.pop()
        i += 1
    return quote + "".join(reversed(stack)), line


def _braced(body: Node, source: bytes) -> bool:
    return source[body.start_byte:body.start_byte + 1] == b"{"


def _docstring_or_first_lines(body: Node, source: bytes) -> list[str]:
    """The docstring (shortened inside its quotes), else the first whole statements of the
    body that fit ``BODY_LINES`` lines, then the language's elision (``...``, ``// ...``)."""
    first = body.named_children[0] if body.named_child_count else None
    if first is not None and _is_docstring(first):
        return [_indent_of(first, source) + short_docstring(first, source, MAX_DOC_LINES)]
    braced = _braced(body, source)
    statements = [c for c in body.named_children if "comment" not in c.type]
    if not statements:
        return []
    top = statements[0].start_point[0]
    kept = [c for c in statements if c.end_point[0] - top < BODY_LINES]
    lines = [_indent_of(c, source) + text_of(source, c.start_byte, c.end_byte) for c in kept]
    if len(kept) < len(statements):
        lines.append(_indent_of(statements[0], source) + ("// ..." if braced else "..."))
    return lines


def _leading_comment_lines(node: Node) -> int:
    """Lines of the comment directly above a definition (0 when there is none)."""
    return node.start_point[0] - _leading_comment_first(node).start_point[0]


def _leading_comment_start(node: Node) -> int:
    """Include a doc comment directly above the definition (JSDoc, ///, # ...)."""
    return _leading_comment_first(node).start_byte


def _leading_comment_first(node: Node) -> Node:
    """The first of the comment nodes directly above ``node`` (``node`` itself if none)."""
    prev = node.prev_sibling
    while prev is not None and "comment" in prev.type and prev.end_point[0] >= (
            node.start_point[0] - 1):
        node, prev = prev, prev.prev_sibling
    return node


def _indent_of(node: Node, source: bytes) -> str:
    line_start = source.rfind(b"\n", 0, node.start_byte) + 1
    prefix = text_of(source, line_start, node.start_byte)
    return prefix if not prefix.strip() else " " * len(prefix)



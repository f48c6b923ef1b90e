"""Definition summaries and class skeletons across languages."""

from __future__ import annotations

import pytest

from sc2_lsp.context.symbols import enclosing_class, skeleton, top_level_definitions
from sc2_lsp.documents import Document


def defs(language: str, source: str):
    doc = Document("file:///x", source, language)
    return top_level_definitions(doc.tree.root_node, doc.source)


def test_long_python_function_is_signature_plus_docstring():
    source = ('@cache\ndef load(path: str) -> bytes:\n    """Read a file.\n\n    Cached."""\n'
              "    with open(path, 'rb') as f:\n        data = f.read()\n    return data\n")
    assert defs("python", source)["load"].text == (
        '@cache\ndef load(path: str) -> bytes:\n    """Read a file.\n\n    Cached."""')


def test_long_python_function_without_docstring_shows_first_statements_then_ellipsis():
    body = "".join(f"    x{i} = {i}\n" for i in range(8))
    assert defs("python", f"def f(a):\n{body}")["f"].text == (
        "def f(a):\n    x0 = 0\n    x1 = 1\n    x2 = 2\n    ...")
    nested = "def g(a):\n    if a:\n" + "        b = 1\n" * 3 + "    return a\n" + "    #\n" * 4
    assert defs("python", nested)["g"].text == "def g(a):\n    ..."  # no statement cut open


def test_short_definitions_and_assignments_are_whole():
    found = defs("python", "LIMIT = 10\n\ndef g(x):\n    return x * LIMIT\n")
    assert found["LIMIT"].text == "LIMIT = 10"
    assert found["g"].text == "def g(x):\n    return x * LIMIT"


def test_long_js_function_is_elided_inside_its_braces():
    body = "".join(f"  const v{i} = {i};\n" for i in range(6))
    found = defs("javascript", f"/** Sum. */\nexport function sum(a, b) {{\n{body}}}\n")
    assert found["sum"].text == ("/** Sum. */\nexport function sum(a, b) {\n  const v0 = 0;\n"
                                 "  const v1 = 1;\n  const v2 = 2;\n  // ...\n}")


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        ("python", ("class A(B):\n    x = 1\n\n    def f(self, y):\n        return y\n\n"
                   "    @property\n    def g(self):\n        return 2\n"),
         "class A(B):\n    x = 1\n    def f(self, y): ...\n    @property\n    def g(self): ..."),
        ("java",
         "class A {\n  int x = 1;\n  /** Doc. */\n  int f(int y) {\n    return y;\n  }\n}\n",
         "class A {\n  int x = 1;\n  /** Doc. */\n  int f(int y) { ... }\n}"),
        ("rust", ("impl A {\n    fn new() -> Self {\n        A {}\n    }\n"
                 "    pub fn get(&self) -> u8 { 1 }\n}\n"),
         "impl A {\n    fn new() -> Self { ... }\n    pub fn get(&self) -> u8 { ... }\n}"),
        ("ruby", ("class Greeter\n  def initialize(name)\n    @name = name\n  end\n\n"
                 "  def greet(other)\n    puts other\n  end\nend\n"),
         "class Greeter\n  def initialize(name)\n  def greet(other)"),
        ("typescript", "class K extends B {\n  a(): number { return 1; }\n  c = 3;\n}\n",
         "class K extends B {\n  a(): number { ... }\n  c = 3\n}"),
    ],
)
def test_class_skeletons(language, source, expected):
    doc = Document("file:///x", source, language)
    cls = enclosing_class(doc.tree.root_node.descendant_for_byte_range(8, 9))
    assert skeleton(cls, doc.source) == expected


def parse_errors(language: str, text: str) -> list[str]:
    """ERROR and missing nodes of ``text`` parsed on its own (tree-sitter)."""
    tree = Document("file:///y", text, language).tree
    found, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            found.append(node.type)
        stack.extend(node.children)
    return found


LONG_DOC_CLASS = '''class Parser(Base):
    """Parses a template.

    It keeps a stream of tokens and the
    environment it was made for,
    and more lines of explanation follow here.
    """

    # The tags this parser knows: the first comment line,
    # a second one,
    # and a third one, all above the method.
    def parse(self, source: str,
              name: str | None = None) -> Node:
        return self.subparse(source)

    LIMITS = {
        "depth": 10,
    }

    def __init__(self, environment) -> None:
        self.environment = environment
        self.stream = environment.tokenize(
            "x")
        self.closed = False
'''


def test_skeleton_of_a_class_with_a_long_docstring_parses():
    doc = Document("file:///x", LONG_DOC_CLASS, "python")
    cls = enclosing_class(doc.tree.root_node.descendant_for_byte_range(8, 9))
    text = skeleton(cls, doc.source)
    assert text == (
        'class Parser(Base):\n'
        '    """Parses a template.\n\n'
        '    It keeps a stream of tokens and the\n'
        '    """\n'
        '    def parse(self, source: str,\n'
        '              name: str | None = None) -> Node: ...\n'
        '    LIMITS = {...}\n'
        '    def __init__(self, environment) -> None:\n'
        '        self.environment = environment\n'
        '        self.stream = environment.tokenize(...)\n'
        '        self.closed = False\n'
        '        ...')
    assert parse_errors("python", text) == []


def test_summaries_of_long_statements_parse():
    source = ("TABLE = {\n" + "".join(f"    'k{i}': {i},\n" for i in range(20)) + "}\n\n"
              'def f(x):\n    """' + "Doc line.\n" * 20 + '    """\n    return x\n')
    found = defs("python", source)
    assert found["TABLE"].text == "TABLE = {...}"
    assert found["f"].text.count("\n") == 9 and found["f"].text.endswith('\n    """')
    for definition in found.values():
        assert parse_errors("python", definition.text) == []

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


def test_long_python_function_without_docstring_shows_first_lines():
    body = "".join(f"    x{i} = {i}\n" for i in range(8))
    assert defs("python", f"def f(a):\n{body}")["f"].text == (
        "def f(a):\n    x0 = 0\n    x1 = 1\n    x2 = 2")


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
        ("java", "class A {\n  int x = 1;\n  /** Doc. */\n  int f(int y) {\n    return y;\n  }\n}\n",
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

"""Mode decision: a table of cursor cases per language (``‸`` marks the cursor)."""

from __future__ import annotations

import pytest

from sc2_lsp.context.mode import decide_mode
from sc2_lsp.documents import Document

S, M, N = "single-line", "multi-line", None

CASES = [
    # python
    ("python", "def f(x):\n    ‸", M),
    ("python", "def f(x):\n\n    ‸\n\ndef g():\n    pass\n", M),
    ("python", "def f(x):‸", M),
    ("python", "def f(x):  # note\n    ‸", M),
    ("python", "x = 1  # note:\n‸\ny = 2\n", S),
    ("python", 'def f():\n    """Args:\n    ‸\n    """\n', S),
    ("python", "def f(x):\n    y = x\n    ‸\n    return y\n", S),
    ("python", "def f(x):\n    y = x\n    ‸\n", M),
    ("python", "x = foo(‸)", S),
    ("python", "def f():\n    print(‸\n    return 1\n", S),
    ("python", "result = call(\n    ‸\n)\n", M),
    ("python", "x = fo‸o(1)", N),
    ("python", "x = ‸ + 1", N),
    ("python", "print(\"a‸\")", S),
    ("python", "items = [‸]", S),
    ("python", "items = [\n    ‸\n]\n", M),
    ("python", "# a comment‸", S),
    ("python", "value = compute(a, b‸);", S),
    # javascript / typescript / tsx
    ("javascript", "function f(x) {\n  ‸\n}\n", M),
    ("javascript", "function f(x) {‸}", M),
    ("javascript", "const g = (a) =>‸", M),
    ("javascript", "const s = \"a {\";\n‸\nlet y = 1;\n", S),
    ("javascript", "const x = a.‸b;", N),
    ("typescript", "class A {\n  m(): number {\n    ‸\n  }\n}\n", M),
    ("typescript", "let n: number = ‸;", S),
    ("tsx", "const App = () => (\n  <div>‸</div>\n);\n", N),
    ("tsx", "function App() {\n  return <div />;\n  ‸\n}\n", M),
    # go, rust, java, c, cpp, c#
    ("go", "func f() int {\n\t‸\n}\n", M),
    ("go", "switch x {\ncase 1:\n\ty := 1\n\t‸\n\tz := 2\n}\n", S),
    ("rust", "fn main() {\n    let x = ‸;\n}\n", S),
    ("rust", "impl A {\n    fn new() -> Self {‸}\n}\n", M),
    ("java", "class A {\n    void m() {\n        ‸\n    }\n}\n", M),
    ("java", "class A {\n    int x = comp‸ute();\n}\n", N),
    ("c", "int main(void) {\n    // open {‸\n}\n", S),
    ("c", "int main(void) {\n    /* open { */\n    ‸\n    return 0;\n}\n", S),
    ("c", "int main(void) {\n    return 0;‸\n}\n", S),
    ("cpp", "namespace n {\n‸\n}\n", M),
    ("c_sharp", "class A {\n    void M() {\n        ‸\n    }\n}\n", M),
    # ruby, php, bash, lua
    ("ruby", "def greet(name)\n  ‸\nend\n", M),
    ("ruby", "items.each do |x|\n  ‸\nend\n", M),
    ("ruby", "x = 1\n‸\ny = 2\n", S),
    ("php", "<?php\nfunction f($x) {\n    ‸\n}\n", M),
    ("php", "<?php\n$x = strl‸en($y);\n", N),
    ("bash", "if [ -f x ]; then\n  ‸\nfi\n", M),
    ("bash", "for f in *; do\n  ‸\ndone\n", M),
    ("bash", "echo \"hi ‸\"\n", S),
    ("lua", "function f(x)\n  ‸\nend\n", M),
    ("lua", "if x then\n  ‸\nend\n", M),
    ("lua", "local t = { a = 1 }‸", S),
    # plain text
    (None, "Notes:\n  ‸", M),
    (None, "hello wor‸ld", N),
    (None, "hello ‸", S),
]


def _doc(language: str | None, marked: str) -> tuple[Document, int]:
    offset = marked.index("‸")
    return Document("file:///t", marked.replace("‸", ""), language or ""), offset


@pytest.mark.parametrize(("language", "marked", "expected"), CASES)
def test_mode_table(language, marked, expected):
    doc, offset = _doc(language, marked)
    assert doc.language == language
    assert decide_mode(doc, offset) == expected


@pytest.mark.parametrize(
    ("marked", "always", "never"),
    [("def f(x):\n    ‸", M, S), ("x = foo(‸)", M, S), ("x = fo‸o", N, N)],
)
def test_setting_overrides_auto(marked, always, never):
    doc, offset = _doc("python", marked)
    assert decide_mode(doc, offset, "always") == always
    assert decide_mode(doc, offset, "never") == never


def test_out_of_range_offset_is_none():
    doc = Document("file:///t.py", "x = 1\n", "python")
    assert decide_mode(doc, 99) is None
    assert decide_mode(doc, -1) is None


def test_crlf_and_emoji_lines():
    doc, offset = _doc("python", "s = '😀'\r\ndef f():\r\n    ‸\r\n")
    assert decide_mode(doc, offset) == M

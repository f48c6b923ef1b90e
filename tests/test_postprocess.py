"""Post-processing rules on realistic raw completions."""

from __future__ import annotations

import pytest

from sc2_lsp.completion import indent_floor, replaced_length
from sc2_lsp.engine import TextStop
from sc2_lsp.postprocess import cut_at_scope_end, postprocess

PY_PREFIX = "import math\n\n\ndef area(radius: float) -> float:\n"
PY_SUFFIX = "\n\ndef main():\n    print(area(2.0))\n"


def pp(completion, prefix, suffix, mode="multi-line", language="python"):
    return postprocess(completion, prefix=prefix, suffix=suffix, mode=mode, language=language)


# --------------------------------------------------------------------- scope and length
def test_over_long_python_body_stops_at_the_end_of_the_function():
    raw = ("    return math.pi * radius ** 2\n\n\ndef perimeter(radius: float) -> float:\n"
           "    return 2 * math.pi * radius\n")
    assert pp(raw, PY_PREFIX, PY_SUFFIX) == "    return math.pi * radius ** 2"


def test_body_after_opener_on_the_cursor_line_keeps_nested_blocks():
    prefix = "def clamp(x, lo, hi):"
    raw = ("\n    if x < lo:\n        return lo\n    if x > hi:\n        return hi\n"
           "    return x\nprint(clamp(5, 0, 3))\n")
    assert pp(raw, prefix, "\n") == ("\n    if x < lo:\n        return lo\n    if x > hi:\n"
                                     "        return hi\n    return x")


def test_blank_line_inside_a_block_continues_at_its_level():
    prefix = "def f(items):\n    total = 0\n    "
    raw = "for item in items:\n        total += item\n    return total\n\nclass Other:\n    pass\n"
    assert pp(raw, prefix, "") == "for item in items:\n        total += item\n    return total"


def test_top_level_stops_at_the_next_top_level_statement_after_a_blank_line():
    raw = "import os\nimport sys\n\ndef main():\n    pass\n"
    assert pp(raw, "", "") == "import os\nimport sys"


def test_brace_block_stops_before_the_closing_brace_the_suffix_has():
    prefix = "function sum(xs) {\n  "
    suffix = "\n}\n"
    raw = "let t = 0;\n  for (const x of xs) t += x;\n  return t;\n}\n\nfunction mean(xs) {\n"
    assert pp(raw, prefix, suffix, language="javascript") == (
        "let t = 0;\n  for (const x of xs) t += x;\n  return t;")


def test_brace_block_keeps_the_closing_brace_the_suffix_lacks():
    prefix = "function sum(xs) {\n  "
    raw = "return xs.reduce((a, b) => a + b, 0);\n}\n\nfunction mean(xs) {\n"
    assert pp(raw, prefix, "", language="javascript") == (
        "return xs.reduce((a, b) => a + b, 0);\n}")


def test_single_line_keeps_only_the_first_line():
    prefix = "def area(radius):\n    return "
    assert pp("math.pi * radius ** 2\n\ndef other():", prefix, "\n", "single-line") == (
        "math.pi * radius ** 2")
    assert pp("\n    x = 1", "x = compute()", "\n", "single-line") == ""


# ------------------------------------------------------------------- suffix repetition
def test_multi_line_completion_that_retypes_the_suffix_is_cut():
    prefix = "def load(path):\n    "
    suffix = "\n    return data\n"
    raw = "with open(path) as f:\n        data = f.read()\n    return data\n"
    assert pp(raw, prefix, suffix) == "with open(path) as f:\n        data = f.read()"


def test_single_line_equal_to_the_next_line_is_dropped():
    prefix = "def f(x):\n    y = x + 1\n    "
    suffix = "\n    return y\n"
    assert pp("return y", prefix, suffix, "single-line") == ""


# ---------------------------------------------------------------------- closers
@pytest.mark.parametrize(
    ("prefix", "suffix", "raw", "expected"),
    [
        ("print(", ")\n", "total)", "total"),
        ("print(len(", "))\n", "items))", "items"),
        ("print(len(", "))\n", "sorted(items))", "sorted(items)"),
        ('greet("', '")\n', 'world")', "world"),
        ("x = foo(", ")\n", "a).bar(", "a).bar("),
        ("x = [", "]\n", "1, 2, 3]", "1, 2, 3"),
        ('s = "a(', '"\n', 'b"', "b"),
        ("call(", ");\n", "a, b);", "a, b"),
    ],
)
def test_doubled_closing_brackets_and_quotes_are_dropped(prefix, suffix, raw, expected):
    assert pp(raw, prefix, suffix, "single-line") == expected


def test_multi_line_arguments_put_the_closer_back_on_its_own_line():
    prefix = "    result = call("
    raw = "\n        first,\n        second,\n    )"
    assert pp(raw, prefix, ")\n") == "\n        first,\n        second,\n    "


def test_empty_brace_block_on_one_line_gets_its_own_lines():
    prefix = "function f() {"
    raw = "\n  return 1;\n}"
    assert pp(raw, prefix, "}\n", language="javascript") == "\n  return 1;\n"


# ---------------------------------------------------------------------- repetition
def test_looping_output_is_cut_at_the_first_repeat():
    prefix = "def f():\n    "
    raw = "x = 1\n    x = 1\n    x = 1\n"
    assert pp(raw, prefix, "") == "x = 1"


def test_repeated_pair_of_lines_is_cut():
    prefix = "def f(log):\n    "
    raw = "log.info('a')\n    log.info('b')\n    log.info('a')\n    log.info('b')\n"
    assert pp(raw, prefix, "") == "log.info('a')\n    log.info('b')"


@pytest.mark.parametrize("raw", ["", "   ", "\n\n  \n", "\t"])
def test_whitespace_only_is_empty(raw):
    assert pp(raw, "def f():\n    ", "", "multi-line") == ""
    assert pp(raw, "x = ", "", "single-line") == ""


# ---------------------------------------------------------------------- parse errors
def test_a_truncated_last_line_that_breaks_the_parse_is_cut():
    prefix = "def total(xs):\n    "
    raw = "acc = 0\n    for x in xs:\n        acc += x\n    return (acc"
    assert pp(raw, prefix, "\n\nprint(total([1]))\n") == (
        "acc = 0\n    for x in xs:\n        acc += x")


def test_a_completion_that_parses_is_kept_whole():
    prefix = "def total(xs):\n    "
    raw = "acc = 0\n    for x in xs:\n        acc += x\n    return acc"
    assert pp(raw, prefix, "\n") == raw


def test_no_shorter_cut_helps_keeps_the_completion():
    prefix = "x = ("
    assert pp("1 +", prefix, "\n", "single-line") == "1 +"


def test_typescript_unbalanced_brace_is_cut():
    prefix = "function f(a: number): number {\n  "
    raw = "if (a > 0) {\n    return a;\n  }\n  if (a < 0) {\n    return -a;"
    suffix = "\n}\n"
    assert pp(raw, prefix, suffix, language="typescript") == (
        "if (a > 0) {\n    return a;\n  }")


def test_completion_that_breaks_clean_code_is_dropped():
    prefix = "def f(stream):\n    for line in stream:\n        name, value = parse_header(line)"
    suffix = "\n        print(name, value)\n"
    assert pp(":", prefix, suffix, "single-line") == ""
    assert pp("  # the header", prefix, suffix, "single-line") == "  # the header"


def test_a_line_opening_a_block_is_kept_though_incomplete():
    prefix = "def f(items):\n    total = 0\n    "
    suffix = "\n    return total\n"
    assert pp("for item in items:", prefix, suffix, "single-line") == "for item in items:"


def test_plain_text_has_no_parse_check():
    assert pp("hello (", "say: ", "", "single-line", None) == "hello ("


@pytest.mark.parametrize(
    ("language", "prefix", "suffix", "raw", "expected"),
    [
        ("ruby", "def greet(name)\n  ", "\nend\n",
         "message = \"Hello, #{name}\"\n  puts message\nend\n\ndef other\n",
         "message = \"Hello, #{name}\"\n  puts message"),
        ("lua", "function add(a, b)\n  ", "\nend\n", "return a + b\nend\n\nfunction sub(a, b)\n",
         "return a + b"),
        ("go", "func add(a, b int) int {\n\t", "\n}\n", "return a + b\n}\n\nfunc sub() {\n",
         "return a + b"),
        ("rust", "fn main() {\n    ", "\n}\n", "let x = 1;\n    println!(\"{}\", x);\n}\n",
         "let x = 1;\n    println!(\"{}\", x);"),
    ],
)
def test_scope_cut_in_other_languages(language, prefix, suffix, raw, expected):
    assert pp(raw, prefix, suffix, language=language) == expected


def test_tabs_indentation_scope():
    prefix = "func f() {\n\tif x {\n\t\t"
    raw = "y()\n\t}\n\treturn\n}\n"
    assert pp(raw, prefix, "\n\t}\n}\n", language="go") == "y()"


@pytest.mark.parametrize("prefix, raw, expected", [
    ("def f():\n\tif x:\n\t\t", "a = 1\n\treturn a\n", "a = 1"),  # a blank line in the block
    ("def f():\n\tif x:", "\n\t\ta = 1\n    b = 2\n", "\n\t\ta = 1"),  # 4 spaces = one tab
    ("def f():\n\tif x:", "\n\t\ta = 1\n\t\tb = 2\n\tc = 3\n", "\n\t\ta = 1\n\t\tb = 2"),
])
def test_the_stop_rule_and_the_scope_cut_agree_on_tabs(prefix, raw, expected):
    """The engine stops generating where post-processing cuts: one indentation rule."""
    line_before = prefix[prefix.rfind("\n") + 1:]
    stop = TextStop("multi-line", indent_floor(prefix, "multi-line", "python"))
    assert stop.cut(raw) == cut_at_scope_end(raw, line_before, "", "python") == expected


def test_a_completion_ending_in_the_closers_after_the_cursor_replaces_them():
    assert replaced_length("),\n    b,\n", "f(x),") == 2  # the element's comma is retyped
    assert replaced_length(")\n", "f(x") == 0
    assert replaced_length(") + 1\n", "x)") == 0  # code after the cursor is never replaced

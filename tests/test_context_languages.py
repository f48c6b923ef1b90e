"""Languages: every grammar loads offline and parses a sample without errors."""

from __future__ import annotations

import threading

import pytest

from sc2_lsp.languages import LANGUAGES, language_for, parser_for, word_before

SAMPLES = {
    "python": ("def f(x):\n    return x + 1\n", "function_definition"),
    "javascript": ("function f(x) { return x + 1; }\n", "function_declaration"),
    "typescript": ("function f(x: number): number { return x + 1; }\n", "function_declaration"),
    "tsx": ("const A = () => <div>{1}</div>;\n", "lexical_declaration"),
    "go": ("package m\n\nfunc f(x int) int { return x + 1 }\n", "package_clause"),
    "rust": ("fn f(x: i32) -> i32 { x + 1 }\n", "function_item"),
    "java": ("class A { int f(int x) { return x + 1; } }\n", "class_declaration"),
    "c": ("int f(int x) { return x + 1; }\n", "function_definition"),
    "cpp": ("template <typename T> T f(T x) { return x + 1; }\n", "template_declaration"),
    "c_sharp": ("class A { int F(int x) { return x + 1; } }\n", "class_declaration"),
    "ruby": ("def f(x)\n  x + 1\nend\n", "method"),
    "php": ("<?php\nfunction f($x) { return $x + 1; }\n", "php_tag"),
    "bash": ("f() { echo $(( $1 + 1 )); }\n", "function_definition"),
    "lua": ("local function f(x) return x + 1 end\n", "function_declaration"),
}


def test_all_required_languages_have_samples():
    assert set(SAMPLES) == set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_grammar_parses_sample(language):
    source, first_type = SAMPLES[language]
    tree = parser_for(language).parse(source.encode())
    assert not tree.root_node.has_error
    assert tree.root_node.named_children[0].type == first_type


@pytest.mark.parametrize(
    ("language_id", "path", "expected"),
    [("python", None, "python"), ("typescriptreact", "a.tsx", "tsx"), ("csharp", None, "c_sharp"),
     ("shellscript", None, "bash"), ("cpp", None, "cpp"), ("", "/w/a.rs", "rust"),
     ("plaintext", "/w/a.go", "go"), ("markdown", "/w/README.md", None), ("", None, None),
     ("javascriptreact", None, "javascript"), ("", "/w/x.H", "c"), ("sh", None, "bash")],
)
def test_language_for(language_id, path, expected):
    assert language_for(language_id, path) == expected


def test_unknown_language_has_no_parser():
    assert parser_for("cobol") is None


def test_parsers_are_cached_per_thread():
    assert parser_for("python") is parser_for("python")
    other = []
    thread = threading.Thread(target=lambda: other.append(parser_for("python")))
    thread.start()
    thread.join()
    assert other[0] is not parser_for("python")


@pytest.mark.parametrize("line, language_id, path, word", [
    ("x = gre", "python", None, "gre"),
    ("print(", "python", None, ""),
    ("x = ", "python", None, ""),
    ("nom = café_ré", "python", None, "café_ré"),
    ("let v = $el", "javascript", None, "$el"),
    ("this.#cou", "typescript", None, "cou"),  # Emacs and Vim start after `#`
    ("  $tot", "php", None, "$tot"),
    ("@cou", "ruby", None, "cou"),
    ("apt-ge", "shellscript", None, "apt-ge"),
    ("  margin-to", "css", None, "margin-to"),
    ("  --main-co", "", "/w/site.scss", "--main-co"),  # no grammar: known by extension
    ("a-b", "python", None, "b"),
    ("fn ma", "lua", None, "ma"),
    ("if err != ni", "go", None, "ni"),
])
def test_word_before_follows_the_language(line, language_id, path, word):
    assert word_before(line, language_id, path) == word


def test_word_before_stays_bounded_on_a_long_line():
    assert len(word_before("x" * 100_000 + " y" * 10, "python")) == 1
    assert len(word_before("x" * 100_000, "python")) == 256

"""Quality metrics on hand-made cases (DESIGN.md §3: exact match, edit similarity)."""

from __future__ import annotations

import pytest

from sc2_lsp.bench.metrics import answer, edit_similarity, exact_match, levenshtein, normalise


@pytest.mark.parametrize(("a", "b", "distance"), [
    ("", "", 0), ("abc", "", 3), ("", "abc", 3), ("kitten", "sitting", 3),
    ("return x", "return y", 1), ("flaw", "lawn", 2), ("abc", "abc", 0),
])
def test_levenshtein(a, b, distance):
    assert levenshtein(a, b) == distance
    assert levenshtein(b, a) == distance


def test_single_line_judges_the_first_line_stripped():
    gold = "return number % 1.0"
    assert exact_match("single-line", "return number % 1.0  \n    print(x)\n", gold)
    assert exact_match("single-line", "  return number % 1.0", gold)
    assert not exact_match("single-line", "return number % 2.0", gold)
    assert not exact_match("single-line", "\nreturn number % 1.0", gold)  # first line empty
    assert answer("single-line", "a = 1\nb = 2") == "a = 1"


def test_multi_line_ignores_indentation_and_blank_lines():
    gold = "if x:\n        return 1\n\n    return 2"
    assert exact_match("multi-line", "if x:\n    return 1\n    return 2\n", gold)
    assert not exact_match("multi-line", "if x:\n    return 1", gold)
    assert normalise("multi-line", "  a\n\n   b  \n") == "a\nb"
    assert answer("multi-line", "a\nb") == "a\nb"


def test_edit_similarity():
    assert edit_similarity("single-line", "return x", "return x") == 1.0
    assert edit_similarity("single-line", "", "") == 1.0
    assert edit_similarity("single-line", "", "abcd") == 0.0
    assert edit_similarity("single-line", "return y", "return x") == pytest.approx(1 - 1 / 8)
    # "kitten" vs "sitting": 3 edits over 7 characters
    assert edit_similarity("single-line", "kitten\nignored", "sitting") == pytest.approx(4 / 7)
    assert edit_similarity("multi-line", "a\n  b", "a\nc") == pytest.approx(1 - 1 / 3)

"""Quality metrics on hand-made cases (docs/architecture.md: exact match, edit similarity)."""

from __future__ import annotations

import pytest

from sc2_lsp.bench.metrics import answer, edit_similarity, exact_match, normalise, percentile


@pytest.mark.parametrize(("a", "b", "distance"), [
    ("", "", 0), ("abc", "", 3), ("", "abc", 3), ("kitten", "sitting", 3),
    ("return x", "return y", 1), ("flaw", "lawn", 2), ("abc", "abc", 0),
])
def test_edit_similarity_is_one_minus_levenshtein_over_the_longer(a, b, distance):
    expected = 1 - distance / max(len(a), len(b), 1)
    assert edit_similarity("single-line", a, b) == edit_similarity("single-line", b, a)
    assert edit_similarity("single-line", a, b) == pytest.approx(expected, abs=1e-12)


def test_percentiles_interpolate_and_round():
    assert [percentile([1.0, 2.0, 3.0, 4.0], q) for q in (0, 50, 90, 100)] == [1.0, 2.5, 3.7, 4.0]
    assert percentile([], 50) is None


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

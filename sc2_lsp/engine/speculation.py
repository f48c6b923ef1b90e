"""Prompt-lookup drafts: code repeats itself, so the tokens that followed the
last n-gram the last time it occurred are a cheap guess at what comes next.
Drafts are verified in one forward pass, so the output is exactly greedy's."""

from __future__ import annotations

MAX_DRAFT = 8
NGRAM_SIZES = (4, 3, 2)


def draft_tokens(history: list[int], budget: int) -> list[int]:
    """Tokens that followed the latest earlier occurrence of the history's last n-gram
    (the longest n that occurs). Only the places where the last token recurs are
    compared, so a step costs one pass over the history, not one per n-gram size."""
    limit = min(MAX_DRAFT, budget - 1)
    if limit <= 0 or len(history) < 2:
        return []
    last = history[-1]
    ends = [i for i, token in enumerate(history[:-1]) if token == last]  # n-gram ends
    for n in NGRAM_SIZES:
        if len(history) <= n:
            continue
        tail = history[-n:]
        for end in reversed(ends):
            if end >= n - 1 and history[end - n + 1:end + 1] == tail:
                return history[end + 1:end + 1 + limit]
    return []

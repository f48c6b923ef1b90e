"""Prompt-lookup drafts: code repeats itself, so the tokens that followed the
last n-gram the last time it occurred are a cheap guess at what comes next.
Drafts are verified in one forward pass, so the output is exactly greedy's."""

from __future__ import annotations

MAX_DRAFT = 8
NGRAM_SIZES = (4, 3, 2)


def draft_tokens(history: list[int], budget: int) -> list[int]:
    """Tokens that followed the latest earlier occurrence of the history's last n-gram."""
    limit = min(MAX_DRAFT, budget - 1)
    if limit <= 0:
        return []
    for n in NGRAM_SIZES:
        if len(history) <= n:
            continue
        tail = history[-n:]
        for start in range(len(history) - n - 1, -1, -1):
            if history[start:start + n] == tail:
                return history[start + n:start + n + limit]
    return []

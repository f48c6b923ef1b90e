"""Prompt-lookup drafts: code repeats itself, so the tokens that followed the
last n-gram the last time it occurred are a cheap guess at what comes next.
Drafts are verified in one forward pass, so the output is exactly greedy's."""

from __future__ import annotations

from collections import defaultdict

MAX_DRAFT = 8
NGRAM_SIZES = (4, 3, 2)


class DraftLookup:
    """Drafts for one request. Where each token stands in the prompt is indexed once, so a
    decode step scans only the tokens generated so far, not the whole prompt again."""

    def __init__(self, prompt: list[int]) -> None:
        self.prompt = prompt
        self._where: dict[int, list[int]] = defaultdict(list)
        for i, token in enumerate(prompt):
            self._where[token].append(i)

    def draft(self, out: list[int], budget: int) -> list[int]:
        """Tokens that followed the latest earlier occurrence of the last n-gram of
        prompt + out (the longest n that occurs)."""
        history = self.prompt + out
        limit = min(MAX_DRAFT, budget - 1)
        if limit <= 0 or len(history) < 2:
            return []
        last, base = history[-1], len(self.prompt)
        ends = [i for i in self._where.get(last, ()) if i < len(history) - 1]  # n-gram ends
        ends += [base + i for i, token in enumerate(out[:-1]) if token == last]
        for n in NGRAM_SIZES:
            if len(history) <= n:
                continue
            tail = history[-n:]
            for end in reversed(ends):
                if end >= n - 1 and history[end - n + 1:end + 1] == tail:
                    return history[end + 1:end + 1 + limit]
        return []

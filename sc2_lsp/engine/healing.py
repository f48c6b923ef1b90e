"""Token healing: constrain the first generated tokens to re-type removed text.

The prompt builder cuts the prefix back to a clean token boundary (a prefix
that ends in indentation or half an identifier tokenizes unlike the same text
inside a file). The engine must then generate that text first; this module
says which tokens are consistent with what is still to be re-typed.
"""

from __future__ import annotations

from collections import defaultdict

import torch


class TokenTexts:
    """The text of every token of a tokenizer, indexed by its first character."""

    def __init__(self, tokenizer, special_ids: frozenset[int]):
        self.texts = [tokenizer.decode([i]) for i in range(len(tokenizer))]
        self._by_first: dict[str, list[int]] = defaultdict(list)
        for i, text in enumerate(self.texts):
            if text and i not in special_ids and "\ufffd" not in text:
                self._by_first[text[0]].append(i)

    def allowed(self, remaining: str) -> list[int]:
        """Tokens whose text is a prefix of `remaining`, or starts with all of it."""
        return [i for i in self._by_first.get(remaining[:1], ())
                if remaining.startswith(self.texts[i]) or self.texts[i].startswith(remaining)]

    def consume(self, remaining: str, token: int) -> str:
        return remaining[len(self.texts[token]):] if remaining.startswith(self.texts[token]) else ""


def mask_to(logits: torch.Tensor, allowed: list[int]) -> torch.Tensor:
    """Logits ([V]) with every token outside `allowed` set to -inf."""
    masked = torch.full_like(logits, float("-inf"))
    index = torch.tensor(allowed, device=logits.device)
    masked[index] = logits[index]
    return masked

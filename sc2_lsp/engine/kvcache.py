"""KV caches kept across requests, matched by longest common token prefix.

Consecutive keystrokes produce prompts that share almost all of their tokens,
so the engine keeps the caches of its last few prompts (with the tokens that
were generated after them) and prefills only what is new. Caches keep every
position, so they can be cropped at any length, also beyond the sliding window;
the forward pass's sliding-window mask keeps attention exact.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from .forward import KVBuffers


def common_prefix_length(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return n


@dataclass
class CacheEntry:
    """A KV cache and the exact tokens whose keys and values it holds."""

    cache: KVBuffers = field(default_factory=KVBuffers)
    tokens: list[int] = field(default_factory=list)
    stamp: int = 0

    def crop_to(self, length: int) -> None:
        """Drop every position from `length` on."""
        if len(self.tokens) > length:
            self.cache.crop(length)
            del self.tokens[length:]


class KVCachePool:
    """At most `max_entries` caches holding at most `max_tokens` positions in all.

    `take` hands out the entry sharing the longest token prefix with a prompt,
    cropped to that prefix, for exclusive use during one generation; `give_back`
    returns it. Unrelated prompts (another file) get a fresh entry, evicting the
    least recently used one.
    """

    def __init__(self, max_entries: int = 4, max_tokens: int = 65536, enabled: bool = True):
        self.max_entries = max(1, max_entries)
        self.max_tokens = max_tokens
        self.enabled = enabled
        self._entries: list[CacheEntry] = []
        self._clock = itertools.count(1)

    def take(self, prompt: list[int]) -> CacheEntry:
        best, shared = self._best_match(prompt) if self.enabled else (None, 0)
        if best is None:
            return CacheEntry()
        self._entries.remove(best)
        # Keep at least one prompt token to run, so the last position's logits exist.
        best.crop_to(min(shared, len(prompt) - 1))
        return best

    def give_back(self, entry: CacheEntry) -> None:
        if not self.enabled or not entry.tokens:
            return
        entry.stamp = next(self._clock)
        self._entries.append(entry)
        self._entries.sort(key=lambda e: e.stamp)
        while len(self._entries) > self.max_entries or self.total_tokens() > self.max_tokens:
            self._entries.pop(0)

    def total_tokens(self) -> int:
        return sum(len(e.tokens) for e in self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def _best_match(self, prompt: list[int]) -> tuple[CacheEntry | None, int]:
        scored = [(common_prefix_length(e.tokens, prompt), e.stamp, e) for e in self._entries]
        scored = [s for s in scored if s[0] > 0]
        if not scored:
            return None, 0
        shared, _, entry = max(scored, key=lambda s: (s[0], s[1]))
        return entry, shared

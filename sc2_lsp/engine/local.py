"""The in-process engine: the model on this machine, its KV-cache pool, the decode loop."""

from __future__ import annotations

import threading

from .decoding import Decoder, Generation, GenerationRequest
from .healing import TokenTexts
from .kvcache import KVCachePool
from .loading import LoadedModel, ModelSpec, load_model
from .protocol import PromptHints
from .stopping import stop_token_ids


class LocalEngine:
    """One model, used by one thread at a time (a lock makes sure of it)."""

    def __init__(self, loaded: LoadedModel, *, kv_reuse: bool = True, cache_entries: int = 4,
                 cache_tokens: int = 65536):
        self.loaded = loaded
        self.tokenizer = loaded.tokenizer
        self.hints = PromptHints.from_config(loaded.model.config)
        self.pool = KVCachePool(cache_entries, cache_tokens, enabled=kv_reuse)
        stop_ids = stop_token_ids(self.tokenizer)
        self._decoder = Decoder(loaded.model, self.tokenizer, stop_ids,
                                TokenTexts(self.tokenizer, stop_ids))
        self._lock = threading.Lock()

    @classmethod
    def load(cls, spec: ModelSpec, progress=None, **options) -> LocalEngine:
        return cls(load_model(spec, progress), **options)

    @property
    def kv_reuse(self) -> bool:
        return self.pool.enabled

    @kv_reuse.setter
    def kv_reuse(self, enabled: bool) -> None:
        self.pool.enabled = enabled

    def encode(self, text: str) -> list[int]:
        """Token ids of a prompt; special tokens in the text are recognised as such."""
        return self.tokenizer.encode(text, add_special_tokens=False)

    def generate(self, request: GenerationRequest) -> Generation:
        if not request.prompt_ids:
            return Generation("", [], "empty-prompt", empty_stats())
        with self._lock:
            entry = self.pool.take(request.prompt_ids)
            try:
                return self._decoder.run(entry, request)
            finally:
                self.pool.give_back(entry)

    def describe(self) -> dict:
        loaded = self.loaded
        return {"engine": "local", "state": "ready", "error": None, "model": loaded.name,
                "device": loaded.device, "quant": loaded.quant,
                "dtype": str(loaded.dtype).removeprefix("torch."),
                "memory_mb": round(loaded.footprint_mb, 2)}

    def close(self) -> None:
        self.pool.clear()


def empty_stats() -> dict:
    keys = ("prompt_tokens", "reused_tokens", "prefilled_tokens", "generated_tokens",
            "draft_accepted_tokens", "prefill_ms", "decode_ms", "total_ms")
    return dict.fromkeys(keys, 0)

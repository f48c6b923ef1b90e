"""The StarCoder2 runtime: a loaded model, its KV-cache pool and the decode loop.

Knows nothing of LSP or of prompts: it turns token ids into a completion,
reusing cached keys and values for every token a previous prompt shared.
"""

from __future__ import annotations

import threading

from .decoding import Decoder, Generation, GenerationRequest
from .errors import ModelLoadError
from .healing import TokenTexts
from .kvcache import KVCachePool
from .loading import LoadedModel, ModelSpec, embedded_model_path, load_model
from .stopping import TextStop, stop_token_ids

__all__ = ["Engine", "Generation", "GenerationRequest", "LoadedModel", "ModelLoadError",
           "ModelSpec", "TextStop", "embedded_model_path", "load_model"]


class Engine:
    """One model, used by one thread at a time (a lock makes sure of it)."""

    def __init__(self, loaded: LoadedModel, *, kv_reuse: bool = True, cache_entries: int = 4,
                 cache_tokens: int = 65536):
        self.loaded = loaded
        self.tokenizer = loaded.tokenizer
        self.pool = KVCachePool(cache_entries, cache_tokens, enabled=kv_reuse)
        stop_ids = stop_token_ids(self.tokenizer)
        self._decoder = Decoder(loaded.model, self.tokenizer, stop_ids,
                                TokenTexts(self.tokenizer, stop_ids))
        self._lock = threading.Lock()

    @classmethod
    def load(cls, spec: ModelSpec, progress=None, **options) -> Engine:
        return cls(load_model(spec, progress), **options)

    def encode(self, text: str) -> list[int]:
        """Token ids of a prompt; special tokens in the text are recognised as such."""
        return self.tokenizer.encode(text, add_special_tokens=False)

    def generate(self, request: GenerationRequest) -> Generation:
        if not request.prompt_ids:
            return Generation("", [], "empty-prompt", _empty_stats())
        with self._lock:
            entry = self.pool.take(request.prompt_ids)
            try:
                return self._decoder.run(entry, request)
            finally:
                self.pool.give_back(entry)


def _empty_stats() -> dict:
    keys = ("prompt_tokens", "reused_tokens", "prefilled_tokens", "generated_tokens",
            "draft_accepted_tokens", "prefill_ms", "decode_ms", "total_ms")
    return dict.fromkeys(keys, 0)

"""The `naive` baseline: what a simple implementation does, deliberately outside the product.

A file-level FIM prompt of the same token budget (the prefix's last tokens, the suffix's
first ones), the whole of it through ``model.generate`` on every request: no KV reuse, no
cache, no context, no post-processing. Benches compare the product against it in one run.
"""

from __future__ import annotations

import time

import torch

from ..completion import CompletionPipeline
from ..config import Settings
from ..documents import DocumentStore
from ..engine import Engine, GenerationRequest, LocalEngine
from ..engine.stopping import stop_token_ids
from ..prompt import CHARS_PER_TOKEN_BOUND, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX


class NaiveCompleter:
    def __init__(self, engine: Engine, settings: Settings):
        self.engine, self.tokenizer = engine, engine.tokenizer
        self.settings = settings
        # the budget the product uses for this model (capped at its trained context)
        self.budget = CompletionPipeline(engine, settings, DocumentStore()).budget_tokens
        self.stop_ids = sorted(stop_token_ids(self.tokenizer))
        self.special = [self.tokenizer.convert_tokens_to_ids(t)
                        for t in (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE)]

    def prompt_ids(self, prefix: str, suffix: str) -> list[int]:
        """<fim_prefix>{prefix tail}<fim_suffix>{suffix head}<fim_middle>, within budget."""
        budget = self.budget - len(self.special)
        chars = budget * CHARS_PER_TOKEN_BOUND  # no need to tokenize a whole long file
        suffix_ids = self._encode(suffix[:chars])[:int(budget * self.settings.suffix_fraction)]
        prefix_ids = self._encode(prefix[-chars:])[-(budget - len(suffix_ids)):]
        p, s, m = self.special
        return [p, *prefix_ids, s, *suffix_ids, m]

    def complete(self, prefix: str, suffix: str) -> tuple[str, dict]:
        """The raw generated text and stats shaped like the pipeline's."""
        t0 = time.perf_counter()
        ids = self.prompt_ids(prefix, suffix)
        if isinstance(self.engine, LocalEngine):
            text, generated = self._generate(ids)
            reused = 0
        else:  # a remote engine: the same prompt, no stop rule but its stop tokens
            gen = self.engine.generate(GenerationRequest(ids, self.settings.max_new_tokens,
                                                         speculate=False))
            text, generated, reused = gen.text, len(gen.token_ids), gen.stats["reused_tokens"]
        ms = round((time.perf_counter() - t0) * 1e3, 3)
        stats = {"prompt_tokens": len(ids), "reused_tokens": reused,
                 "prefilled_tokens": None if reused is None else len(ids) - reused,
                 "generated_tokens": generated, "draft_accepted_tokens": 0, "total_ms": ms,
                 "source": "model", "mode": None}
        return text, stats

    def _generate(self, ids: list[int]) -> tuple[str, int]:
        with torch.inference_mode():
            out = self.engine.loaded.model.generate(
                torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                max_new_tokens=self.settings.max_new_tokens, do_sample=False,
                eos_token_id=self.stop_ids, pad_token_id=self.stop_ids[0])
        new = [t for t in out[0, len(ids):].tolist() if t not in self.stop_ids]
        return self.tokenizer.decode(new), len(new)

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False,
                              split_special_tokens=True)["input_ids"] if text else []

"""The model loop: prefill what is new, decode one token (or a verified draft), stop.

Everything that decides *whether* to go on (stop tokens, stop text, deadline,
cancel) is checked between forward passes, so a cancel never leaves the KV
cache out of step with the tokens it records.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import torch

from .forward import LeanForward
from .healing import TokenTexts, mask_to
from .kvcache import CacheEntry
from .speculation import DraftLookup
from .stopping import TextStop

PREFILL_CHUNK = 512  # positions per prefill pass: bounds memory, lets a cancel in between


@dataclass
class GenerationRequest:
    prompt_ids: list[int]
    max_new_tokens: int = 64
    stop: TextStop = field(default_factory=TextStop)
    forced_text: str = ""  # token healing: the text generation must start with
    temperature: float = 0.0
    deadline: float | None = None  # time.monotonic() after which decoding stops
    cancel: threading.Event | None = None
    speculate: bool = True

    def interrupted(self) -> str:
        """Why generation must stop now ("cancelled" or "deadline"), or "" to go on:
        checked between forward passes locally and between streamed chunks remotely."""
        if self.cancel is not None and self.cancel.is_set():
            return "cancelled"
        if self.deadline is not None and time.monotonic() > self.deadline:
            return "deadline"
        return ""


@dataclass
class Generation:
    text: str  # without the forced (healed) text
    token_ids: list[int]
    stop_reason: str  # eos | stop-text | max-tokens | deadline | cancelled
    stats: dict


class Decoder:
    """Runs one request against one cache entry; knows nothing of LSP or prompts."""

    def __init__(self, model, tokenizer, stop_ids: frozenset[int], texts: TokenTexts):
        self.tokenizer = tokenizer
        self.stop_ids, self.texts = stop_ids, texts
        self.forward = LeanForward(model)
        self.vocab = len(tokenizer)

    @torch.inference_mode()
    def run(self, entry: CacheEntry, req: GenerationRequest) -> Generation:
        t0 = time.perf_counter()
        prompt, reused = req.prompt_ids, len(entry.tokens)
        logits = self._prefill(entry, prompt[reused:], req)  # [V], or None if interrupted
        t1 = time.perf_counter()
        out = _Transcript(self.texts.texts, self.tokenizer.decode)
        lookup = DraftLookup(prompt) if req.speculate and req.temperature <= 0 else None
        forced, accepted = req.forced_text, 0
        reason = "" if logits is not None else req.interrupted() or "deadline"
        while not reason:
            token = self._pick(logits, forced, req)
            forced = self.texts.consume(forced, token) if forced else ""
            reason = self._extend(out, [token], req) or req.interrupted()
            if reason:
                break
            drafts = self._drafts(lookup, out.ids, forced, req)
            step = self._forward(entry, [token] + drafts)  # [1 + k, V]
            n_ok = _accepted(step, drafts)
            entry.crop_to(len(entry.tokens) - (len(drafts) - n_ok))
            accepted += n_ok
            reason = self._extend(out, drafts[:n_ok], req)
            logits = step[n_ok]
        t2 = time.perf_counter()
        stats = dict(prompt_tokens=len(prompt), reused_tokens=reused,
                     prefilled_tokens=len(prompt) - reused, generated_tokens=len(out.ids),
                     draft_accepted_tokens=accepted, prefill_ms=round((t1 - t0) * 1e3, 2),
                     decode_ms=round((t2 - t1) * 1e3, 2), total_ms=round((t2 - t0) * 1e3, 2))
        return Generation(self._final_text(out, req), out.ids, reason, stats)

    def _extend(self, out: _Transcript, tokens: list[int], req: GenerationRequest) -> str:
        """Append tokens up to a stop; the stop reason, or "" to go on."""
        for token in tokens:
            if token in self.stop_ids:
                return "eos"
            out.append(token)
            if len(out.ids) >= req.max_new_tokens:
                return "max-tokens"
        if tokens and req.stop.cut(self._body(out, req)) is not None:
            return "stop-text"
        return ""

    @staticmethod
    def _body(out: _Transcript, req: GenerationRequest) -> str:
        """The text after the healed part ("" while that part is still being re-typed)."""
        text = out.text
        return text[len(req.forced_text):] if text.startswith(req.forced_text) else ""

    @staticmethod
    def _final_text(out: _Transcript, req: GenerationRequest) -> str:
        """The completion after the healed text, cut by the stop rule ("" if healing failed)."""
        text = out.text
        if not text.startswith(req.forced_text):
            return ""
        body = text[len(req.forced_text):]
        cut = req.stop.cut(body)
        return body if cut is None else cut

    @staticmethod
    def _drafts(lookup: DraftLookup | None, out: list[int], forced: str,
                req: GenerationRequest) -> list[int]:
        """Drafts to verify with the next token: none while healing or when sampling."""
        if lookup is None or forced:
            return []
        return lookup.draft(out, req.max_new_tokens - len(out))

    def _prefill(self, entry: CacheEntry, new: list[int], req: GenerationRequest):
        """Run the new prompt tokens in chunks; the last position's logits, or None if stopped."""
        logits = None
        for start in range(0, len(new), PREFILL_CHUNK):
            if req.interrupted():
                return None
            logits = self._forward(entry, new[start:start + PREFILL_CHUNK], keep=1)[-1]
        return logits

    def _forward(self, entry: CacheEntry, ids: list[int], keep: int = 0) -> torch.Tensor:
        logits = self.forward(entry.cache, ids, keep or len(ids))
        entry.tokens.extend(ids)
        return logits[:, : self.vocab].float()  # [keep or n, V]

    def _pick(self, logits: torch.Tensor, forced: str, req: GenerationRequest) -> int:
        if forced and (allowed := self.texts.allowed(forced)):
            return int(mask_to(logits, allowed).argmax())
        if req.temperature <= 0:
            return int(logits.argmax())
        probs = torch.softmax(logits / req.temperature, dim=-1)
        return int(torch.multinomial(probs, 1))


class _Transcript:
    """Generated tokens and their text, extended a token's text at a time: decoding the
    whole output at every step, for the stop rules, cost more than a small model's step.
    A token holding part of a UTF-8 character (its text has U+FFFD) and the one after it
    are decoded with everything before them, so bytes split across tokens join up."""

    def __init__(self, texts: list[str], decode) -> None:
        self.ids: list[int] = []
        self.text = ""
        self._texts, self._decode = texts, decode
        self._partial = False

    def append(self, token: int) -> None:
        self.ids.append(token)
        piece = self._texts[token]
        if self._partial or "\ufffd" in piece:
            self.text = self._decode(self.ids)
            self._partial = "\ufffd" in piece
        else:
            self.text += piece


def _accepted(step: torch.Tensor, drafts: list[int]) -> int:
    """How many drafts greedy decoding would have produced itself (step: [1 + k, V])."""
    if not drafts:
        return 0
    greedy = step[:-1].argmax(-1).tolist()  # prediction after the token and after each draft
    n = 0
    while n < len(drafts) and greedy[n] == drafts[n]:
        n += 1
    return n

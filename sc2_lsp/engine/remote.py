"""The remote engine: an OpenAI-compatible completion server (vLLM first) does the
model's work; the prompt is still built here, exactly as for the local engine, and
sent as token ids, so the server's prefix cache sees the same shared prefixes our
sticky prompts produce.

The stop rules run here on the streamed text and close the stream the moment they
fire (or on cancel, or at the deadline): the server then aborts the rest.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from pathlib import Path

from .decoding import Generation, GenerationRequest
from .endpoint import END, WAITING, Endpoint, EndpointError, EventStream, Health
from .errors import ModelLoadError
from .loading import load_tokenizer, resolve_model_name
from .local import empty_stats
from .protocol import PromptHints
from .stopping import STOP_TOKENS, stop_token_ids

log = logging.getLogger(__name__)

POLL_S = 0.05  # how often a waiting stream checks cancel and deadline
FINISH = {"length": "max-tokens", "stop": "eos"}
# The server's constrained decoding we heal tokens with, by /models' `owned_by`. Only
# vLLM's was tried; llama.cpp's grammar follows its documentation.
HEALING = {"vllm": "regex", "llamacpp": "grammar"}


class RemoteEngine:
    def __init__(self, endpoint: Endpoint, model: str, tokenizer, hints: PromptHints, *,
                 kv_reuse: bool = True, tokenizer_name: str | None = None):
        self.endpoint, self.model, self.tokenizer, self.hints = endpoint, model, tokenizer, hints
        self.kv_reuse = kv_reuse
        self.tokenizer_name = tokenizer_name
        self.stop_ids = sorted(stop_token_ids(tokenizer))
        self.server = "unknown"  # what /models says serves it: vllm, llamacpp, ...
        self.health = Health(self._probe)
        self.healing: str | None = None  # the constraint for token healing: regex | grammar
        self._said_no_healing = False

    @classmethod
    def connect(cls, endpoint: str | None, model: str | None, tokenizer: str | None, *,
                timeout_s: float = 10.0, kv_reuse: bool = True, progress=None) -> RemoteEngine:
        """The tokenizer and prompt hints from a local folder (or the hub cache), then one
        probe of the endpoint: a server that is down now only delays the first answers."""
        report = progress or (lambda pct, msg: None)
        if not endpoint:
            raise ModelLoadError("engine 'openai' needs an endpoint (e.g. http://host:8000/v1)")
        try:
            target = Endpoint(endpoint, timeout_s)
        except ValueError as exc:
            raise ModelLoadError(str(exc)) from exc
        model = resolve_model_name(model)
        source = tokenizer or model
        report(20, f"loading tokenizer {source}")
        try:
            tokens = load_tokenizer(source, local_only=True)
        except ModelLoadError as exc:
            raise ModelLoadError(f"{exc} (the prompt is tokenized here: set tokenizer to a "
                                 "local folder with the served model's tokenizer)") from exc
        engine = cls(target, model, tokens, _hints(source), kv_reuse=kv_reuse,
                     tokenizer_name=source)
        report(60, f"connecting to {target.url}")
        engine.health.check()
        report(100, f"{model} at {target.url}")
        return engine

    # ------------------------------------------------------------------ engine
    def generate(self, request: GenerationRequest) -> Generation:
        t0 = time.perf_counter()
        if not request.prompt_ids:
            return _failed("empty-prompt", request, t0)
        if not self.health.up:  # no request storm on a dead endpoint: the prober watches it
            return _failed("error", request, t0)
        body, forced = self._body(request)
        try:
            stream = self.endpoint.stream("/completions", body)
        except EndpointError as exc:
            if not (exc.status == 400 and forced):
                return self._error(exc, request, t0)
            self._no_healing(f"the endpoint refused the constraint ({exc})")
            return self.generate(request)  # once more, without healing
        try:
            run = _Run(request, forced, t0)
            run.consume(stream)
        except EndpointError as exc:
            return self._error(exc, request, t0)
        finally:
            stream.close()
        return run.result(self.tokenizer)

    def describe(self) -> dict:
        return {"engine": "openai", "state": "ready" if self.health.up else "error",
                "error": self.health.error, "model": self.model, "endpoint": self.endpoint.url,
                "server": self.server, "tokenizer": self.tokenizer_name, "device": None,
                "quant": None, "dtype": None, "memory_mb": None}

    def close(self) -> None:
        self.health.close()

    # --------------------------------------------------------------- internals
    def _probe(self) -> None:
        """The endpoint serves our model (GET /models) and completes a one-token prompt,
        else EndpointError: a server that lists models but fails completions is down."""
        self._check_listing()
        stream = self.endpoint.stream("/completions", {
            "model": self.model, "prompt": "def", "max_tokens": 1,
            "temperature": 0.0, "stream": True})
        try:
            while (event := stream.next(self.endpoint.timeout_s)) is not END:
                if event is WAITING:
                    raise EndpointError(f"{self.endpoint.url}/completions timed out")
        finally:
            stream.close()

    def _check_listing(self) -> None:
        listing = self.endpoint.get_json("/models")
        models = listing.get("data") if isinstance(listing.get("data"), list) else None
        if models is None:
            raise EndpointError(f"{self.endpoint.url}/models is not an OpenAI model list")
        ids = [m.get("id") for m in models if isinstance(m, dict)]
        if self.model not in ids:
            raise EndpointError(f"{self.endpoint.url} does not serve '{self.model}' "
                                f"(it serves {', '.join(map(str, ids)) or 'nothing'})")
        server = str(models[ids.index(self.model)].get("owned_by", "unknown"))
        if server != self.server:
            self.server = server
            self.healing = HEALING.get(server)
            if self.healing is None:
                self._no_healing(f"the endpoint ({server}) has no constrained decoding we use")

    def _body(self, req: GenerationRequest) -> tuple[dict, str]:
        """The request; and the healed text the answer will start with ("" if none)."""
        prompt, forced = list(req.prompt_ids), req.forced_text
        body = {"model": self.model, "max_tokens": req.max_new_tokens,
                "temperature": req.temperature, "stream": True,
                "stream_options": {"include_usage": True}}
        if req.stop.mode == "single-line" and "\n" not in forced:  # a rule it can apply too
            body["stop"] = ["\n"]
        if self.server == "vllm":
            body.update(stop_token_ids=self.stop_ids, return_token_ids=True)
            if not self.kv_reuse:  # a fresh salt: no prefix-cache hit for this request
                body["cache_salt"] = uuid.uuid4().hex
        else:
            # OpenAI's API takes four stop strings at most: the newline and three tokens.
            vocab = self.tokenizer.get_vocab()
            body["stop"] = body.get("stop", []) + [t for t in STOP_TOKENS if t in vocab][:3]
        if forced and self.healing == "regex":  # vLLM's structured outputs
            body["structured_outputs"] = {"regex": healing_regex(forced)}
        elif forced and self.healing == "grammar":  # llama.cpp's GBNF
            body["grammar"] = healing_grammar(forced)
        elif forced:  # no constraint: the cut text goes back into the prompt
            prompt += self.tokenizer.encode(forced, add_special_tokens=False)
            forced = ""
        # Token ids where we know they are taken (vLLM); text, special tokens included,
        # elsewhere (TGI's route takes strings only; llama.cpp parses both).
        body["prompt"] = prompt if self.server == "vllm" else self.tokenizer.decode(prompt)
        return body, forced

    def _no_healing(self, why: str) -> None:
        """From now on, no token healing; the first time, one log line says why."""
        self.healing = None
        if not self._said_no_healing:
            self._said_no_healing = True
            log.warning("%s: completing without token healing", why)

    def _error(self, exc: EndpointError, request: GenerationRequest, t0: float) -> Generation:
        if exc.status in (400, 422):  # this request was refused, the endpoint is fine
            log.warning("%s", exc)
        else:
            self.health.failed(str(exc))
        return _failed("error", request, t0)


def healing_regex(forced: str) -> str:
    """Generated text must start with the healed text, then anything."""
    return re.escape(forced) + r"[\s\S]*"


def healing_grammar(forced: str) -> str:
    """The same as a GBNF grammar (llama.cpp): the healed text, then any characters."""
    literal = "".join(c if c.isprintable() and c not in '"\\' else f"\\x{ord(c):02x}"
                      if ord(c) < 0x100 else f"\\u{ord(c):04x}" for c in forced)
    return f'root ::= "{literal}" [^\\x00]*'


class _Run:
    """One streamed generation: text, token ids, usage, and when to stop reading."""

    def __init__(self, req: GenerationRequest, forced: str, t0: float):
        self.req, self.forced, self.t0 = req, forced, t0
        self.text, self.ids = "", []
        self.reason, self.finish, self.usage = "", "eos", None
        self.first_token_at: float | None = None

    def consume(self, stream: EventStream) -> None:
        while not self.reason:
            event = stream.next(POLL_S)
            if event is END:
                self.reason = self.reason or "eos"
            elif event is WAITING:
                self.reason = self.req.interrupted()
            else:
                self._take(event)
                self.reason = self.reason or self._stopped() or self.req.interrupted()

    def _take(self, event: dict) -> None:
        if isinstance(event.get("usage"), dict):
            self.usage = event["usage"]
        choices = event.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            if self.usage is None:
                raise EndpointError(f"an event without choices: {str(event)[:120]}")
            return
        choice = choices[0]
        piece = choice.get("text")
        if not isinstance(piece, str):
            raise EndpointError(f"an event without text: {str(event)[:120]}")
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        self.text += piece
        if isinstance(choice.get("token_ids"), list):
            self.ids += choice["token_ids"]
        finish = choice.get("finish_reason")
        if finish:
            stop = choice.get("stop_reason")
            self.finish = "stop-text" if isinstance(stop, str) else FINISH.get(finish, "eos")

    def _stopped(self) -> str:
        if self.req.stop.cut(self._body()) is not None:
            return "stop-text"
        return ""

    def _body(self) -> str:
        forced = self.forced
        return self.text[len(forced):] if self.text.startswith(forced) else ""

    def result(self, tokenizer) -> Generation:
        body = self._body() if self.text.startswith(self.forced) else ""
        cut = self.req.stop.cut(body)
        text = body if cut is None else cut
        reason = self.finish if self.reason == "eos" else self.reason
        ids = self.ids or tokenizer.encode(self.text, add_special_tokens=False)
        t_end = time.perf_counter()
        first = self.first_token_at or t_end
        prompt_tokens = len(self.req.prompt_ids)
        reused = _cached_tokens(self.usage)
        stats = {"prompt_tokens": prompt_tokens, "reused_tokens": reused,
                 "prefilled_tokens": None if reused is None else prompt_tokens - reused,
                 "generated_tokens": len(ids), "draft_accepted_tokens": 0,
                 "prefill_ms": _ms(first - self.t0), "decode_ms": _ms(t_end - first),
                 "total_ms": _ms(t_end - self.t0)}
        return Generation(text, ids, reason, stats)


def _cached_tokens(usage: dict | None) -> int | None:
    """Prompt tokens the server took from its prefix cache, when it says (vLLM:
    --enable-prompt-tokens-details); None when unknown (a stream we closed early)."""
    details = (usage or {}).get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return cached if isinstance(cached, int) else None


def _failed(reason: str, req: GenerationRequest, t0: float) -> Generation:
    stats = {**empty_stats(), "prompt_tokens": len(req.prompt_ids),
             "total_ms": _ms(time.perf_counter() - t0)}
    return Generation("", [], reason, stats)


def _hints(source: str) -> PromptHints:
    """The prompt hints in the model's config.json, when the tokenizer's folder has one."""
    from transformers import AutoConfig

    if not (Path(source).expanduser() / "config.json").exists() and source.count("/") != 1:
        return PromptHints()
    try:
        return PromptHints.from_config(AutoConfig.from_pretrained(
            source, local_files_only=True, trust_remote_code=False))
    except Exception:  # noqa: BLE001 - a tokenizer without a model config: no hints
        return PromptHints()


def _ms(seconds: float) -> float:
    return round(seconds * 1e3, 2)

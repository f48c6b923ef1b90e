"""Typed settings, parsed once from CLI flags, initializationOptions or
`workspace/didChangeConfiguration` (section `sc2`).

An invalid value never stops the server: it is reported in one message and the
default is kept, so a typo in a settings file degrades to sensible behaviour.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, fields
from typing import Any

CHOICES = {
    "engine": ("local", "openai"),
    "quant": ("none", "int8", "nf4"),
    "dtype": ("auto", "bf16", "fp16", "fp32"),
    "device": ("auto", "cpu", "cuda", "mps"),
    "multiline": ("auto", "always", "never"),
    "prompt_format": ("repo", "file", "spm"),
    "log_level": ("debug", "info", "warning", "error"),
}
RANGES = {
    "context_tokens": (64, 4096),
    "suffix_fraction": (0.0, 0.9),
    "middle_lines": (0, 7),
    "max_new_tokens": (1, 512),
    "temperature": (0.0, 2.0),
    "cache_size": (0, 100_000),
    "deadline_ms": (50, 600_000),
    "kv_cache_entries": (1, 64),
    "threads": (0, 1024),
    "endpoint_timeout_ms": (100, 600_000),
}
# Client-side settings editors send along in the same section; not ours to judge.
CLIENT_KEYS = frozenset({"enable", "server_command", "languages", "trace"})
# Settings that change which model is loaded: changing one reloads it.
MODEL_KEYS = ("model", "quant", "dtype", "device", "allow_download", "threads", "engine",
              "endpoint", "tokenizer", "endpoint_timeout_ms")


@dataclass(frozen=True)
class Settings:
    model: str | None = None  # None: $SC2_MODEL, else the embedded model; openai: served id
    engine: str = "local"  # local: in this process; openai: an OpenAI-compatible server
    endpoint: str | None = None  # openai: base URL, e.g. http://127.0.0.1:8000/v1
    tokenizer: str | None = None  # openai: local folder or hub id; None: the model's
    endpoint_timeout_ms: int = 10_000  # openai: connecting, and silence within an answer
    quant: str = "none"
    dtype: str = "auto"
    device: str = "auto"
    allow_download: bool = False
    threads: int = 0  # CPU threads; 0: one for small models, else all cores
    context_tokens: int = 2048
    suffix_fraction: float = 0.25
    middle_lines: int | None = None  # lines above the cursor's opening the middle; None: the model's
    max_new_tokens: int = 64
    multiline: str = "auto"
    temperature: float = 0.0
    kv_reuse: bool = True
    kv_cache_entries: int = 4
    cache_size: int = 256
    deadline_ms: int = 4000
    fallback_completion: bool = True
    context: bool = True  # cross-file snippets in the prompt
    postprocess: bool = True
    token_healing: bool = True
    prompt_format: str = "repo"
    log_level: str = "info"

    def model_spec(self):
        from .engine import ModelSpec

        return ModelSpec(self.model, self.quant, self.dtype, self.device, self.allow_download,
                         self.threads)

    def model_changed(self, other: Settings) -> bool:
        return any(getattr(self, k) != getattr(other, k) for k in MODEL_KEYS)

    def with_options(self, options: dict[str, Any] | None) -> tuple[Settings, list[str]]:
        """These settings updated from a camelCase or snake_case dict; problems listed."""
        updates, problems = {}, []
        known = {f.name: f for f in fields(self)}
        for key, value in (options or {}).items():
            name = _snake(key)
            if name in CLIENT_KEYS:
                continue
            if name not in known:
                problems.append(f"unknown setting '{key}'")
                continue
            try:
                updates[name] = _coerce(name, known[name].type, value)
            except ValueError as exc:
                problems.append(f"'{key}': {exc}")
        return dataclasses.replace(self, **updates), problems


def parse_settings(options: dict[str, Any] | None, base: Settings | None = None
                   ) -> tuple[Settings, str | None]:
    """Settings from `options`; a single user-facing message if any value was rejected."""
    if options is not None and not isinstance(options, dict):
        return base or Settings(), "sc2 settings must be an object; using defaults"
    settings, problems = (base or Settings()).with_options(options)
    if not problems:
        return settings, None
    return settings, "Invalid sc2 settings (defaults kept): " + "; ".join(problems)


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _coerce(name: str, annotation: str, value: Any) -> Any:
    if annotation in ("str | None", "int | None"):
        if value is None or value == "":
            return None
        annotation = annotation.removesuffix(" | None")
    if annotation == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    if annotation in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {value!r}")
        if annotation == "int" and value != int(value):
            raise ValueError(f"expected a whole number, got {value!r}")
        value = int(value) if annotation == "int" else float(value)
        low, high = RANGES.get(name, (float("-inf"), float("inf")))
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}..{high}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    if name in CHOICES and value not in CHOICES[name]:
        raise ValueError(f"{value!r} is not one of {', '.join(CHOICES[name])}")
    return value

"""Typed settings, the one source of every `sc2` setting: its type, range,
default and meaning. The CLI flags are built from these fields at run time; the
README's table and the VS Code contribution are generated from them
(`scripts/gen_settings.py`, checked by a test).

Layers, lowest first: defaults < command line < `initializationOptions` <
`workspace/didChangeConfiguration`. An invalid value never stops the server: it
is named in one message and keeps the value of the layer below, so a typo in a
settings file degrades to sensible behaviour.
"""

import dataclasses
import json
import re
import types
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from cattrs import Converter
from cattrs.errors import ClassValidationError
from cattrs.gen import make_dict_structure_fn, override


@dataclass(frozen=True)
class Range:
    """Inclusive bounds of a number setting, as in `Annotated[int, Range(64, 4096)]`."""

    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.low:g}..{self.high:g}"


@dataclass(frozen=True)
class Problem:
    """One rejected key, named as the user wrote it; `kept`: the value that stays."""

    key: str
    text: str
    kept: str | None = None


def setting(default: Any, doc: str, *, shown: str | None = None, flag: bool = True):
    """A field with what users read about it; `shown`: the default in words, where
    the value alone (a `None`) says nothing; `flag=False`: no subcommand flag."""
    return field(default=default, metadata={"doc": doc, "shown": shown, "flag": flag})


@dataclass(frozen=True)
class ModelSpec:
    """What is loaded and where: a change to any of these reloads the model. The
    engine takes exactly this (positional, `ModelSpec("random:tiny")`, reads well)."""

    model: str | None = setting(
        None, "Model: a local checkpoint folder (safetensors, e.g. a downloaded "
        "bigcode/starcoder2-3b), a hub id (needs allowDownload), or "
        "random:NAME with NAME tiny, starcoder2-3b, 7b or 15b (random weights, for testing).",
        shown="$SC2_MODEL, else the embedded model")
    quant: Literal["auto", "none", "int4", "int8-torch", "int8", "nf4"] = setting(
        "none", "Weight quantization: int4 (4-bit groups, our AVX512 kernel on CPUs that have "
        "it, else ATen's) and int8-torch (ATen's) are weight-only; int8 and nf4 bitsandbytes "
        "(nf4 computes in bf16); auto the fastest for the device.")
    dtype: Literal["auto", "bf16", "fp16", "fp32"] = setting(
        "auto", "Compute dtype; auto: bf16 for large models on bf16-capable hardware, else fp32.")
    device: Literal["auto", "cpu", "cuda", "mps"] = setting(
        "auto", "Device the model runs on; one that is not available falls back to cpu.")
    allow_download: bool = setting(
        False, "Let a hub id in model be downloaded into the Hugging Face cache "
        "(offline by default).")
    threads: Annotated[int, Range(0, 1024)] = setting(
        0, "CPU threads for torch; 0: one for small models, else all cores.")
    engine: Literal["local", "openai"] = setting(
        "local", "Where the model runs: local (in this process) or openai (an "
        "OpenAI-compatible server such as vLLM at endpoint, serving model; API key: "
        "$SC2_API_KEY).")
    endpoint: str | None = setting(
        None, "With engine openai: the server's base URL, e.g. http://127.0.0.1:8000/v1.",
        shown="none")
    tokenizer: str | None = setting(
        None, "With engine openai: the served model's tokenizer, a local folder or hub id "
        "(prompts are built and tokenized here).", shown="model")
    endpoint_timeout_ms: Annotated[int, Range(100, 600_000)] = setting(
        10_000, "With engine openai: the longest wait for the endpoint to connect or to send "
        "the next part of an answer, in milliseconds; then it counts as down.")


@dataclass(frozen=True, kw_only=True)
class Settings(ModelSpec):
    """Everything the server and `sc2-lsp complete` read, model first."""

    context_tokens: Annotated[int, Range(64, 4096)] = setting(
        2048, "Prompt budget in tokens, shared by cross-file snippets, prefix and suffix.")
    suffix_fraction: Annotated[float, Range(0.0, 0.9)] = setting(
        0.25, "At most this share of the prompt budget goes to the text after the cursor.")
    middle_lines: Annotated[int, Range(0, 7)] | None = setting(
        None, "Lines above the cursor's that open the middle (after `<fim_middle>`) rather than "
        "end the prefix; unset: what the model's config.json says (sc2_middle_lines), else 0.",
        shown="the model's")
    max_new_tokens: Annotated[int, Range(1, 512)] = setting(
        64, "Most tokens generated per suggestion.")
    multiline: Literal["auto", "always", "never"] = setting(
        "auto", "Multi-line suggestions: auto (decided from the syntax tree), always or never.")
    temperature: Annotated[float, Range(0.0, 2.0)] = setting(
        0.0, "Sampling temperature; 0 is greedy.")
    kv_reuse: bool = setting(True, "Reuse the model's KV cache from one keystroke to the next.")
    kv_cache_entries: Annotated[int, Range(1, 64)] = setting(
        4, "KV caches kept for reuse (one per recent prompt).")
    cache_size: Annotated[int, Range(0, 100_000)] = setting(
        256, "Completions kept in the server's cache (exact hits).")
    deadline_ms: Annotated[int, Range(50, 600_000)] = setting(
        4000, "Time limit of one completion in milliseconds; it returns what it has.")
    fallback_completion: bool = setting(
        True, "Answer `textDocument/completion` too, for clients without inline completion.")
    context: bool = setting(True, "Cross-file snippets in the prompt.")
    postprocess: bool = setting(
        True, "Post-processing: scope cut, suffix overlap, bracket balance, no new parse errors.")
    token_healing: bool = setting(True, "Token healing at the cursor.")
    prompt_format: Literal["repo", "file", "spm"] = setting(
        "repo", "Prompt format: repo-level FIM, file-level FIM or suffix-prefix-middle.")
    log_level: Literal["debug", "info", "warning", "error"] = setting(
        "info", "Server log level (`--log-file` logs to a file).", flag=False)

    def model_spec(self) -> ModelSpec:
        """The part that decides what is loaded; equal specs never reload."""
        return ModelSpec(**{f.name: getattr(self, f.name) for f in fields(ModelSpec)})

    def layered(self, options: dict[str, Any]) -> "tuple[Settings, list[Problem]]":
        """These settings with `options` (camelCase or snake_case keys) on top.

        Each invalid key keeps its value here and is listed; the rest apply."""
        updates, given = {}, {}
        known = {f.name for f in fields(self)}
        for key, value in options.items():
            name = snake(str(key))
            if name not in CLIENT_KEYS:
                updates[name], given[name] = value, str(key)
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        failed = {name: Problem(given[name], "unknown setting")
                  for name in updates if name not in known}
        try:
            settings = CONVERTER.structure({**current, **_without(updates, failed)}, Settings)
        except ClassValidationError as error:
            failed |= {note.name: Problem(given[note.name], str(exc), show(current[note.name]))
                       for exc, note in error.group_exceptions()[0]}
            settings = CONVERTER.structure({**current, **_without(updates, failed)}, Settings)
        return settings, [failed[name] for name in updates if name in failed]


# Client-side settings editors send along in the same section; not ours to judge.
CLIENT_KEYS = frozenset({"enable", "server_command", "languages", "trace"})


def from_editor(base: Settings, payload: Any, unset: Settings
                ) -> tuple[Settings | None, str | None]:
    """`base` with an editor's payload on top, nested (`{"sc2": {...}}`) or flat, and one
    message for all its problems. A null value unsets its key: it takes `unset`'s value
    (the command line's, else the default), so an editor that sends every key can clear
    one it set at start. None when the payload holds no settings object (a null says
    nothing; anything else is named in the message): nothing to apply."""
    section = payload.get("sc2", payload) if isinstance(payload, dict) else payload
    if payload is None:
        return None, None
    if not isinstance(section, dict):
        return None, f"sc2 settings must be an object, got {show(section)}; settings unchanged"
    known = {f.name for f in fields(Settings)}
    section = {key: getattr(unset, snake(str(key))) if value is None and
               snake(str(key)) in known else value for key, value in section.items()}
    settings, problems = base.layered(section)
    return settings, message(problems)


def message(problems: list[Problem]) -> str | None:
    """All problems in one line, each with the value kept in its place."""
    if not problems:
        return None
    return "Invalid sc2 settings: " + "; ".join(
        f"'{p.key}': {p.text}" + (f" (keeping {p.kept})" if p.kept else "") for p in problems)


def _without(values: dict, names) -> dict:
    return {name: value for name, value in values.items() if name not in names}


def snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def show(value: Any) -> str:
    """A value as the user wrote it: JSON."""
    return json.dumps(value, default=str)


# --------------------------------------------------------------------- types
@dataclass(frozen=True)
class Kind:
    """What a setting's annotation says, for the CLI and the generated docs."""

    type: type  # bool, int, float or str
    choices: tuple[str, ...] = ()
    range: Range | None = None
    optional: bool = False


def choices(name: str) -> tuple[str, ...]:
    return kinds()[name].choices


@cache
def kinds() -> dict[str, Kind]:
    """Every setting's kind, in declaration order (model first)."""
    return {name: _kind(hint) for name, hint in get_type_hints(Settings, include_extras=True)
            .items()}


def _kind(hint: Any) -> Kind:
    optional = _is_optional(hint)
    if optional:
        hint = _inner(hint)
    if get_origin(hint) is Literal:
        return Kind(str, get_args(hint), None, optional)
    if get_origin(hint) is Annotated:
        base, *extras = get_args(hint)
        return Kind(base, (), next((e for e in extras if isinstance(e, Range)), None), optional)
    return Kind(hint, (), None, optional)


def _is_optional(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint)


def _inner(hint: Any) -> Any:
    return next(arg for arg in get_args(hint) if arg is not type(None))


def _boolean(value: Any, _: type) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {show(value)}")
    return value


def _whole(value: Any, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ValueError(f"expected a whole number, got {show(value)}")
    return int(value)


def _number(value: Any, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {show(value)}")
    return float(value)


def _string(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {show(value)}")
    return value


def _choice(value: Any, hint: Any) -> str:
    if not isinstance(value, str) or value not in get_args(hint):
        raise ValueError(f"{show(value)} is not one of {', '.join(get_args(hint))}")
    return value


def _ranged_hook(converter: Converter, hint: Any):
    base, *extras = get_args(hint)
    bounds = next(e for e in extras if isinstance(e, Range))

    def structure(value: Any, _: type):
        number = converter.structure(value, base)
        if not bounds.low <= number <= bounds.high:
            raise ValueError(f"{show(value)} is outside {bounds}")
        return number
    return structure


def _optional_hook(converter: Converter, hint: Any):
    """`None` or an empty string (what clearing a text field leaves) is unset."""
    inner = _inner(hint)
    return lambda value, _: None if value in (None, "") else converter.structure(value, inner)


def _is_ranged(hint: Any) -> bool:
    return get_origin(hint) is Annotated and any(isinstance(e, Range) for e in get_args(hint))


def _dataclass_hook(converter: Converter, cls: type):
    """Fields structured by their full annotations: cattrs resolves string annotations
    (`from __future__ import annotations`) without `Annotated`, losing the `Range`."""
    hints = get_type_hints(cls, include_extras=True)
    return make_dict_structure_fn(cls, converter, **{
        name: override(struct_hook=converter.get_structure_hook(hint))
        for name, hint in hints.items()})


def make_converter() -> Converter:
    """A cattrs converter that is strict where editors are loose: `"false"` is not
    a bool, 2.5 not an int, and numbers respect their `Range`."""
    converter = Converter(forbid_extra_keys=True)
    converter.register_structure_hook_factory(dataclasses.is_dataclass,
                                              lambda t: _dataclass_hook(converter, t))
    for hint, hook in ((bool, _boolean), (int, _whole), (float, _number), (str, _string)):
        converter.register_structure_hook(hint, hook)
    converter.register_structure_hook_func(lambda t: get_origin(t) is Literal, _choice)
    converter.register_structure_hook_factory(_is_ranged,
                                              lambda t: _ranged_hook(converter, t))
    converter.register_structure_hook_factory(_is_optional,
                                              lambda t: _optional_hook(converter, t))
    return converter


CONVERTER = make_converter()

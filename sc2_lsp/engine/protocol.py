"""The one interface the pipeline and the session see: an engine turns prompt token ids
into a completion, whether the model runs in this process or on a team's server.

Everything else about an engine (its KV caches, its HTTP connection) stays behind it,
so a new kind of engine never touches the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .decoding import Generation, GenerationRequest


@dataclass(frozen=True)
class PromptHints:
    """What a model's config.json says about the prompts it does best with (the
    embedded model's carry both): the context it was trained on and the lines above
    the cursor's that should open the middle."""

    trained_context: int | None = None
    middle_lines: int | None = None

    @classmethod
    def from_config(cls, config) -> PromptHints:
        def hint(key: str) -> int | None:
            value = getattr(config, key, None)
            return int(value) if value else None

        return cls(hint("sc2_trained_context"), hint("sc2_middle_lines"))


class Engine(Protocol):
    tokenizer: object  # what the prompt builder tokenizes with
    hints: PromptHints
    kv_reuse: bool  # reuse what earlier prompts computed (off: every prompt from scratch)

    def generate(self, request: GenerationRequest) -> Generation:
        """The completion of one prompt; never raises for a failed call (stop reason
        "error" and an empty text instead)."""
        ...

    def describe(self) -> dict:
        """What `sc2/status` shows: engine, model, state, error, and engine specifics."""
        ...

    def close(self) -> None:
        """Let go of what the engine holds (threads, connections)."""
        ...

"""Engines: what turns prompt token ids into a completion, behind one protocol.

`LocalEngine` runs StarCoder2 in this process (KV-cache pool, decode loop);
`RemoteEngine` asks an OpenAI-compatible server (vLLM). Neither knows of LSP or of
prompts; `open_engine` picks one from the settings.
"""

from __future__ import annotations

from .decoding import Generation, GenerationRequest
from .errors import ModelLoadError
from .loading import LoadedModel, ModelSpec, embedded_model_path, load_model
from .local import LocalEngine
from .protocol import Engine, PromptHints
from .stopping import TextStop

__all__ = ["Engine", "Generation", "GenerationRequest", "LoadedModel", "LocalEngine",
           "ModelLoadError", "ModelSpec", "PromptHints", "TextStop", "embedded_model_path",
           "load_model", "open_engine"]


def open_engine(spec: ModelSpec, progress=None, *, kv_reuse: bool = True,
                cache_entries: int = 4) -> Engine:
    """The engine a `ModelSpec` asks for (`engine`: local | openai), ready to generate."""
    if spec.engine == "openai":
        from .remote import RemoteEngine

        return RemoteEngine.connect(spec.endpoint, spec.model, spec.tokenizer,
                                    timeout_s=spec.endpoint_timeout_ms / 1000,
                                    kv_reuse=kv_reuse, progress=progress)
    return LocalEngine.load(spec, progress, kv_reuse=kv_reuse, cache_entries=cache_entries)

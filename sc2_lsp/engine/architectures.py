"""StarCoder2 architectures for `random:NAME` models (docs/architecture.md, engine).

Random weights with the exact shapes of the released checkpoints let us measure
cost at real scale (prefill, decode, memory) on machines that cannot download
the real weights. `tiny` is a few-layer model for tests.
"""

from __future__ import annotations

from transformers import Starcoder2Config

_COMMON = dict(
    vocab_size=49152,
    max_position_embeddings=16384,
    sliding_window=4096,
    use_bias=True,
    hidden_act="gelu_pytorch_tanh",
    norm_epsilon=1e-5,
    bos_token_id=0,
    eos_token_id=0,
)

ARCHITECTURES: dict[str, dict] = {
    "tiny": dict(
        hidden_size=64, intermediate_size=256, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, rope_theta=10000.0,
    ),
    "starcoder2-3b": dict(
        hidden_size=3072, intermediate_size=12288, num_hidden_layers=30,
        num_attention_heads=24, num_key_value_heads=2, rope_theta=999999.4420358813,
    ),
    "starcoder2-7b": dict(
        hidden_size=4608, intermediate_size=18432, num_hidden_layers=32,
        num_attention_heads=36, num_key_value_heads=4, rope_theta=1e6,
    ),
    "starcoder2-15b": dict(
        hidden_size=6144, intermediate_size=24576, num_hidden_layers=40,
        num_attention_heads=48, num_key_value_heads=4, rope_theta=1e5,
    ),
}


def random_config(name: str, vocab_size: int | None = None, **overrides) -> Starcoder2Config:
    """The config of `random:NAME`; `tiny` takes the tokenizer's vocabulary size."""
    if name not in ARCHITECTURES:
        known = ", ".join(f"random:{n}" for n in ARCHITECTURES)
        raise ValueError(f"unknown random architecture 'random:{name}' (known: {known})")
    params = {**_COMMON, **ARCHITECTURES[name], **overrides}
    if name == "tiny" and vocab_size is not None:
        params["vocab_size"] = vocab_size
    return Starcoder2Config(**params)

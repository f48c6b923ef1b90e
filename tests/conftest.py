"""Shared fixtures: real tokenizers and real (tiny, random, fixed-seed) StarCoder2 models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
EMBEDDED = REPO / "model" / "sc2-mini"


@pytest.fixture(scope="session")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(EMBEDDED)


def tiny_model(tokenizer, seed: int = 0, **overrides):
    """A 2-layer Starcoder2ForCausalLM with random weights (fixed seed), in fp32."""
    import torch
    from transformers import Starcoder2ForCausalLM

    from sc2_lsp.engine.architectures import random_config

    torch.manual_seed(seed)
    config = random_config("tiny", vocab_size=len(tokenizer), **overrides)
    return Starcoder2ForCausalLM(config).eval()


@pytest.fixture(scope="session")
def tiny_loaded(tokenizer):
    """The tiny model with a 64-token sliding window, so long-prompt cases stay cheap."""
    import torch

    from sc2_lsp.engine import LoadedModel

    return LoadedModel(tiny_model(tokenizer, sliding_window=64), tokenizer, "tiny-test", "cpu",
                       torch.float32, "none")


@pytest.fixture(scope="session")
def code_ids(tokenizer) -> list[int]:
    """Real code, tokenized: the text a user would be typing."""
    text = (REPO / "sc2_lsp" / "engine" / "decoding.py").read_text()
    return tokenizer.encode(text, add_special_tokens=False)

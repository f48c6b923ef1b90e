"""The engine with real transformers models: KV reuse and speculation change
nothing in the greedy output; every stop rule stops; loading fails clearly."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from sc2_lsp.engine import (
    GenerationRequest,
    LoadedModel,
    LocalEngine,
    ModelLoadError,
    ModelSpec,
    TextStop,
    load_model,
)
from sc2_lsp.engine.forward import KVBuffers, LeanForward
from sc2_lsp.engine.kvcache import KVCachePool, common_prefix_length
from tests.conftest import tiny_model


def reference_greedy(model, prompt: list[int], n: int) -> list[int]:
    """Plain `model.generate`, the ground truth for greedy decoding."""
    out = model.generate(torch.tensor([prompt]), max_new_tokens=n, do_sample=False,
                         min_new_tokens=n, pad_token_id=0)
    return out[0, len(prompt):].tolist()


def typing_sequence(ids: list[int]) -> list[list[int]]:
    """Prompts as a user's edits make them: appends, a deletion, an edit in the
    middle, and prompts longer than the 64-token sliding window."""
    base = ids[:40]
    return [base, ids[:41], ids[:43], ids[:42],            # type, type, backspace
            ids[:20] + [ids[99]] + ids[21:44],              # edit in the middle
            ids[:150], ids[:152], ids[:151], ids[:120],      # beyond the window
            ids[:60] + ids[200:230]]


def test_cached_and_uncached_greedy_agree_token_for_token(tiny_loaded, code_ids):
    cached, fresh = LocalEngine(tiny_loaded), LocalEngine(tiny_loaded, kv_reuse=False)
    reused = []
    for prompt in typing_sequence(code_ids):
        a = cached.generate(GenerationRequest(prompt, max_new_tokens=12))
        b = fresh.generate(GenerationRequest(prompt, max_new_tokens=12, speculate=False))
        assert a.token_ids == b.token_ids == reference_greedy(tiny_loaded.model, prompt, 12)
        assert b.stats["reused_tokens"] == 0
        assert a.stats["prefilled_tokens"] == len(prompt) - a.stats["reused_tokens"]
        reused.append(a.stats["reused_tokens"])
    # Exact reuse: the common token prefix with the previous prompt; a prompt that is
    # wholly cached re-runs its last token, for the logits of the next one.
    assert reused == [0, 40, 41, 41, 20, 20, 150, 150, 119, 60]


@torch.inference_mode()
def test_lean_forward_gives_transformers_logits_in_pieces_with_crops(tiny_loaded, code_ids):
    """Prefill, one token, a chunk, a crop back and a chunk past the 64-token window: the
    logits are transformers' own for the whole sequence at once."""
    ids = code_ids[:150]
    reference = tiny_loaded.model(input_ids=torch.tensor([ids])).logits[0]  # [150, V]
    forward, kv = LeanForward(tiny_loaded.model), KVBuffers()
    pieces = [forward(kv, ids[:40], 40), forward(kv, ids[40:41], 1),
              forward(kv, ids[41:100], 59)[:49]]
    kv.crop(90)
    pieces.append(forward(kv, ids[90:150], 60))
    assert kv.length == 150
    torch.testing.assert_close(torch.cat(pieces), reference, atol=1e-5, rtol=1e-4)


@torch.inference_mode()
def test_lean_forward_on_bf16_steps_through_our_kernels_to_transformers_logits(tokenizer,
                                                                               code_ids):
    """A bf16 model's one-token steps run on our matrix-vector and attention kernels
    (head size 32): each step's logits are transformers' own, to bf16's precision, past the
    64-token window."""
    from sc2_lsp.engine import native

    model = tiny_model(tokenizer, hidden_size=128, intermediate_size=256,
                       num_attention_heads=4, num_key_value_heads=2).to(torch.bfloat16)
    ids = code_ids[:100]
    reference = model(input_ids=torch.tensor([ids])).logits[0, 40:].float()  # [60, V]
    forward, kv = LeanForward(model), KVBuffers()
    assert forward.native_attention == (native.unavailable() is None)
    steps = [forward(kv, ids[:41], 1)] + [forward(kv, [t], 1) for t in ids[41:]]
    got = torch.cat(steps).float()
    assert ((got - reference).norm(dim=-1) / reference.norm(dim=-1)).max() < 0.03


def test_transcript_text_is_the_decoded_text_token_by_token(tokenizer):
    """Incremental text joins UTF-8 characters split across byte-level tokens."""
    from sc2_lsp.engine.decoding import _Transcript
    from sc2_lsp.engine.healing import TokenTexts
    from sc2_lsp.engine.stopping import stop_token_ids

    ids = tokenizer.encode("s = 'é😀 naïve 中文'\nx = 1", add_special_tokens=False)
    transcript = _Transcript(TokenTexts(tokenizer, stop_token_ids(tokenizer)).texts,
                             tokenizer.decode)
    for n, token in enumerate(ids, 1):
        transcript.append(token)
        assert transcript.text == tokenizer.decode(ids[:n])


def test_speculation_gives_exactly_plain_greedy(tiny_loaded, code_ids):
    prompt = code_ids[:300]
    plain = LocalEngine(tiny_loaded).generate(GenerationRequest(prompt, 48, speculate=False))
    spec = LocalEngine(tiny_loaded).generate(GenerationRequest(prompt, 48, speculate=True))
    assert spec.token_ids == plain.token_ids
    assert spec.stats["generated_tokens"] == 48


def rigged(tokenizer, token_text: str) -> LoadedModel:
    """A real tiny model whose weights make every next token `token_text`:
    the final LayerNorm outputs a constant vector that only that row of the
    LM head answers to."""
    model = tiny_model(tokenizer)
    target = tokenizer.convert_tokens_to_ids(token_text)
    with torch.no_grad():
        model.model.norm.weight.zero_()
        model.model.norm.bias.fill_(1.0)
        model.lm_head.weight.zero_()
        model.lm_head.weight[target].fill_(1.0)
    return LoadedModel(model, tokenizer, "rigged", "cpu", torch.float32, "none")


@pytest.mark.parametrize("stop", ["<|endoftext|>", "<file_sep>", "<fim_prefix>", "<fim_middle>",
                                  "<fim_suffix>", "<fim_pad>"])
def test_stop_tokens_end_generation(tokenizer, code_ids, stop):
    gen = LocalEngine(rigged(tokenizer, stop)).generate(GenerationRequest(code_ids[:30], 16))
    assert (gen.text, gen.token_ids, gen.stop_reason) == ("", [], "eos")


def byte_token(tokenizer, char: str) -> str:
    return tokenizer.convert_ids_to_tokens(tokenizer.encode(char, add_special_tokens=False))[0]


def test_single_line_stops_at_the_first_newline(tokenizer, code_ids):
    engine = LocalEngine(rigged(tokenizer, byte_token(tokenizer, "\n")))
    gen = engine.generate(GenerationRequest(code_ids[:30], 16, stop=TextStop("single-line")))
    assert (gen.text, gen.stop_reason, gen.stats["generated_tokens"]) == ("", "stop-text", 1)


def test_max_new_tokens_bounds_generation(tokenizer, code_ids):
    engine = LocalEngine(rigged(tokenizer, byte_token(tokenizer, "x")))
    gen = engine.generate(GenerationRequest(code_ids[:30], 7, stop=TextStop("single-line")))
    assert (gen.text, gen.stop_reason) == ("x" * 7, "max-tokens")


def test_healing_forces_the_removed_text_first(tokenizer, code_ids):
    engine = LocalEngine(rigged(tokenizer, byte_token(tokenizer, "x")))
    gen = engine.generate(GenerationRequest(code_ids[:30], 12, forced_text="    ret",
                                            stop=TextStop("single-line")))
    everything = tokenizer.decode(gen.token_ids)
    assert everything.startswith("    ret") and gen.text == everything[len("    ret"):]
    assert gen.text == "x" * len(gen.text) and gen.text


@pytest.mark.parametrize("text, stop, expected", [
    ("a = 1\nb", TextStop("single-line"), "a = 1"),
    ("a = 1", TextStop("single-line"), None),
    ("x\n    y\n    z\nw", TextStop("multi-line", 4), "x\n    y\n    z"),
    ("x\n    y\n\n    z\n", TextStop("multi-line", 4), None),
    ("x\n    y\n  ", TextStop("multi-line", 4), None),
    ("x\n  y", TextStop("multi-line", 4), "x"),
    ("x\ny", TextStop("multi-line", None), None),
])
def test_text_stop_rules(text, stop, expected):
    assert stop.cut(text) == expected


class CancelAfter(threading.Event):
    """A cancel token that trips itself after `n` checks, i.e. mid-generation."""

    def __init__(self, n: int):
        super().__init__()
        self.left = n

    def is_set(self) -> bool:
        self.left -= 1
        return self.left < 0 or super().is_set()


def test_cancel_mid_generation_then_next_request_is_correct(tiny_loaded, code_ids):
    engine = LocalEngine(tiny_loaded)
    prompt = code_ids[:100]
    gen = engine.generate(GenerationRequest(prompt, 30, cancel=CancelAfter(5), speculate=False))
    assert gen.stop_reason == "cancelled" and 0 < len(gen.token_ids) < 30
    follow = code_ids[:104]
    nxt = engine.generate(GenerationRequest(follow, 10))
    assert nxt.stats["reused_tokens"] == 100
    assert nxt.token_ids == reference_greedy(tiny_loaded.model, follow, 10)


def test_cancel_during_prefill_keeps_cache_consistent(tiny_loaded, code_ids):
    engine = LocalEngine(tiny_loaded)
    from sc2_lsp.engine import decoding
    prompt = code_ids[: decoding.PREFILL_CHUNK * 2 + 10]
    gen = engine.generate(GenerationRequest(prompt, 5, cancel=CancelAfter(1)))
    assert gen.stop_reason == "cancelled" and gen.token_ids == []
    nxt = engine.generate(GenerationRequest(prompt, 5))
    assert nxt.stats["reused_tokens"] == decoding.PREFILL_CHUNK
    assert nxt.token_ids == reference_greedy(tiny_loaded.model, prompt, 5)


def test_deadline_stops_and_leaves_a_usable_cache(tiny_loaded, code_ids):
    engine = LocalEngine(tiny_loaded)
    gen = engine.generate(GenerationRequest(code_ids[:50], 10, deadline=time.monotonic() - 1))
    assert (gen.stop_reason, gen.token_ids) == ("deadline", [])
    nxt = engine.generate(GenerationRequest(code_ids[:50], 10))
    assert nxt.token_ids == reference_greedy(tiny_loaded.model, code_ids[:50], 10)


def test_pool_is_bounded_and_matches_longest_prefix():
    pool = KVCachePool(max_entries=2)
    assert common_prefix_length([1, 2, 3], [1, 2, 4]) == 2
    for tokens in ([1, 2, 3, 4], [7, 8, 9], [5, 6]):
        entry = pool.take(tokens)
        assert entry.tokens == []
        entry.tokens = list(tokens)  # bookkeeping only: the (empty) cache holds no tensors
        pool.give_back(entry)
    assert sorted(len(e.tokens) for e in pool._entries) == [2, 3]  # oldest evicted
    assert pool.take([7, 8, 1]).tokens == [7, 8]


@pytest.fixture(scope="module")
def unquantized():
    return load_model(ModelSpec("random:tiny", device="cpu"))


@pytest.mark.parametrize("quant", ["nf4", "int8"])
def test_quantized_models_load_and_generate_on_cpu(quant, code_ids, unquantized):
    """Smaller, and the engine's greedy decoding (KV reuse, lean forward) on quantized
    layers gives exactly what `generate` gives on the same quantized model."""
    loaded = load_model(ModelSpec("random:tiny", quant=quant, device="cpu"))
    assert loaded.quant == quant
    assert loaded.footprint_mb < unquantized.footprint_mb
    gen = LocalEngine(loaded).generate(GenerationRequest(code_ids[:40], 8))
    assert (gen.stop_reason, gen.stats["generated_tokens"]) == ("max-tokens", 8)
    assert gen.token_ids == reference_greedy(loaded.model, code_ids[:40], 8)


@pytest.fixture(scope="module", params=[("random:tiny", "int4"), ("random:tiny", "int8-torch"),
                                        (None, "int4"), (None, "int8-torch")],
                ids=lambda p: f"{p[0] or 'embedded'}-{p[1]}")
def packed(request) -> LoadedModel:
    """The tiny random model and the embedded model with torch-native packed weights."""
    model, quant = request.param
    messages = []
    loaded = load_model(ModelSpec(model, quant=quant, device="cpu"),
                        lambda pct, msg: messages.append(msg))
    assert loaded.quant == quant and not loaded.notes
    layers = loaded.model.config.num_hidden_layers
    assert f"quantizing layer {layers}/{layers} to {quant}" in messages
    assert ("preparing the int4 kernel (built once per machine)" in messages) == (quant == "int4")
    return loaded


def test_packed_models_generate_with_kv_reuse_exact(packed, code_ids):
    """int4 / int8-torch: cached and uncached greedy agree token for token (the typing
    sequence, with edits and prompts past the sliding window)."""
    cached, fresh = LocalEngine(packed), LocalEngine(packed, kv_reuse=False)
    for prompt in typing_sequence(code_ids)[3:8]:
        a = cached.generate(GenerationRequest(prompt, max_new_tokens=10))
        b = fresh.generate(GenerationRequest(prompt, max_new_tokens=10, speculate=False))
        assert a.token_ids == b.token_ids
        assert len(a.token_ids) == 10


def test_packed_models_speculate_exactly_greedy(packed, code_ids):
    prompt = code_ids[:300]
    plain = LocalEngine(packed).generate(GenerationRequest(prompt, 32, speculate=False))
    spec = LocalEngine(packed).generate(GenerationRequest(prompt, 32, speculate=True))
    assert spec.token_ids == plain.token_ids


def test_packed_weights_are_smaller_and_close_to_the_originals():
    """The embedded model's weights shrink (int4 < int8-torch < 65% of fp32: its fp32
    embedding stays), and a packed product stays close to the exact one, through the
    kernel (one row) and through the unpacked weight (a prefill's many bf16 rows)."""
    from sc2_lsp.engine.quantize import packed_linear

    dense = load_model(ModelSpec(None, device="cpu"))
    sizes = {q: load_model(ModelSpec(None, quant=q, device="cpu")).footprint_mb
             for q in ("int4", "int8-torch")}
    assert sizes["int4"] < sizes["int8-torch"] < 0.65 * dense.footprint_mb
    torch.manual_seed(0)
    weight, bias, x = torch.randn(192, 256), torch.randn(192), torch.randn(40, 256)
    exact = torch.nn.functional.linear(x, weight, bias)
    for kind, bound in (("int4", 0.1), ("int8-torch", 0.02)):
        for rows in (1, 40):  # the kernel, and the unpacked weight of a prefill
            got = packed_linear(kind, weight.bfloat16(), bias.bfloat16(), 64)(x[:rows].bfloat16())
            error = (got.float() - exact[:rows]).norm() / exact[:rows].norm()
            assert error < bound, (kind, rows, error)


def test_auto_quant_is_int4_for_large_models_on_a_cpu_only():
    """Decoding a large model on a CPU is bound by reading weights: int4 reads the fewest
    (and decodes fastest, bench runtime); a small model's step is overhead, kept exact."""
    from sc2_lsp.engine.loading import SMALL_MODEL_PARAMS, _auto_quant

    assert _auto_quant("auto", "cpu", 3_000_000_000) == "int4"
    assert _auto_quant("auto", "cpu", SMALL_MODEL_PARAMS) == "none"
    assert _auto_quant("auto", "cuda", 3_000_000_000) == "none"
    assert _auto_quant("nf4", "cpu", 3_000_000_000) == "nf4"
    assert load_model(ModelSpec("random:tiny", quant="auto", device="cpu")).quant == "none"


def test_int4_falls_back_with_one_message_when_layers_do_not_fit(tokenizer, code_ids):
    """Layer outputs of 48 fit no int4 block: int8-torch instead, said once."""
    model = tiny_model(tokenizer, hidden_size=48, intermediate_size=96, num_attention_heads=4,
                       num_key_value_heads=4)
    from sc2_lsp.engine.loading import _pack

    notes = []
    assert _pack(model, "int4", notes, lambda pct, msg: None) == "int8-torch"
    assert len(notes) == 1 and "int4 needs" in notes[0] and "int8-torch" in notes[0]
    loaded = LoadedModel(model, tokenizer, "odd", "cpu", torch.float32, "int8-torch")
    gen = LocalEngine(loaded).generate(GenerationRequest(code_ids[:40], 6))
    assert len(gen.token_ids) == 6


def test_random_architectures_are_exact():
    from sc2_lsp.engine.architectures import random_config
    c = random_config("starcoder2-3b")
    assert (c.hidden_size, c.intermediate_size, c.num_hidden_layers, c.num_attention_heads,
            c.num_key_value_heads, c.vocab_size, c.sliding_window) == (
        3072, 12288, 30, 24, 2, 49152, 4096)
    with pytest.raises(ValueError, match="random:huge"):
        random_config("huge")


def test_missing_folder_is_one_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match=str(tmp_path / "nope")):
        load_model(ModelSpec(str(tmp_path / "nope")))


def test_pickle_only_checkpoint_is_refused(tmp_path, tokenizer):
    model = tiny_model(tokenizer)
    model.config.save_pretrained(tmp_path)
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    with pytest.raises(ModelLoadError, match="no .safetensors"):
        load_model(ModelSpec(str(tmp_path)))


def test_corrupt_weights_name_the_path(tmp_path, tokenizer):
    tiny_model(tokenizer).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(ModelLoadError, match=str(tmp_path)):
        load_model(ModelSpec(str(tmp_path)))


def test_hub_id_offline_is_a_clear_error():
    with pytest.raises(ModelLoadError, match="downloads are off"):
        load_model(ModelSpec("bigcode/not-a-cached-model"))


def test_stop_rules_wait_until_the_healed_text_is_retyped(tokenizer, code_ids):
    """A healed "\n    " arrives in pieces; its newline is not the completion's."""
    engine = LocalEngine(rigged(tokenizer, byte_token(tokenizer, "x")))
    gen = engine.generate(GenerationRequest(code_ids[:30], 10, forced_text="\n    ",
                                            stop=TextStop("single-line")))
    assert gen.stop_reason == "max-tokens" and gen.text and set(gen.text) == {"x"}

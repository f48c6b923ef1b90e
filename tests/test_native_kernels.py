"""Our CPU kernels (engine/cpu_kernels.cpp), built on this machine: the int4 product equals
its own weights' exact product, computes every row alike however many come with it, and the
bf16 matrix-vector product is the exact one rounded; without a compiler int4 still loads,
on ATen's kernel, said once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from sc2_lsp.engine import native

pytestmark = pytest.mark.skipif(native.unavailable() is not None,
                                reason=f"no AVX512-BF16 kernels here: {native.unavailable()}")


@pytest.mark.parametrize("n,k,group,rows", [(64, 96, 32, 1), (192, 256, 64, 7),
                                            (48, 384, 128, 13), (16, 64, 32, 6)])
def test_int4_product_is_the_exact_product_of_its_weights(n, k, group, rows):
    """Against float64 on the packed weight (unpacked) and the bf16-rounded input: the only
    error left is fp32 summation, ~1e-6."""
    torch.manual_seed(n + k)
    weight, x = torch.randn(n, k) * 0.02, torch.randn(rows, k)
    packed, scales = native.pack_int4(weight, group)
    exact = x.bfloat16().double() @ native.unpack_int4(packed, scales, torch.float64).T
    got = native.int4_matmul(x, packed, scales, torch.float32)
    assert ((got.double() - exact).abs().max() / exact.abs().max()) < 1e-5
    assert torch.equal(native.int4_matmul(x.bfloat16(), packed, scales, torch.bfloat16),
                       got.bfloat16())


def test_int4_rows_are_computed_alike_however_many_run_together():
    """What makes a prefill and the decode steps after it agree bit for bit (rows 13 cover
    every register tile of the kernel: 6, 6, 1)."""
    torch.manual_seed(1)
    packed, scales = native.pack_int4(torch.randn(96, 256), 64)
    x = torch.randn(13, 256)
    together = native.int4_matmul(x, packed, scales, torch.float32)
    alone = torch.cat([native.int4_matmul(x[i:i + 1], packed, scales, torch.float32)
                       for i in range(13)])
    assert torch.equal(together, alone)
    assert torch.equal(native.int4_matmul(x[3:9], packed, scales, torch.float32), together[3:9])


def test_int4_packing_is_within_half_a_step_of_the_weights():
    torch.manual_seed(2)
    weight = torch.randn(32, 128)
    packed, scales = native.pack_int4(weight, 32)
    back = native.unpack_int4(packed, scales, torch.float32)
    d = scales[:, :, 0].permute(0, 2, 1).reshape(32, 4).float().repeat_interleave(32, 1)
    assert ((back - weight).abs() <= d / 2 + 1e-3 * weight.abs().max()).all()
    assert packed.dtype == torch.uint8 and packed.numel() == weight.numel() // 2


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32])
def test_matvec_is_the_exact_product_rounded(dtype):
    """Rows not a multiple of the kernel's 4, and rows further apart than they are long."""
    torch.manual_seed(3)
    wide = torch.randn(37, 160).to(dtype)
    weight, x = wide[:, :96], torch.randn(96).to(dtype)
    exact = weight.double() @ x.double()
    got = native.matvec(weight, x)
    assert got.dtype == dtype and got.shape == (37,)
    bound = 2**-8 if dtype == torch.bfloat16 else 1e-6
    assert ((got.double() - exact).abs() <= exact.abs() * bound + 1e-5).all()


def test_without_a_compiler_int4_loads_on_atens_kernel_and_says_so(tmp_path):
    script = (
        "import json\n"
        "from sc2_lsp.engine import GenerationRequest, LocalEngine, ModelSpec, load_model\n"
        "from sc2_lsp.engine.quantize import PackedLinear\n"
        "loaded = load_model(ModelSpec('random:tiny', quant='int4', device='cpu'))\n"
        "layouts = {m.layout for m in loaded.model.modules() if isinstance(m, PackedLinear)"
        " and m.kind == 'int4'}\n"
        "gen = LocalEngine(loaded).generate(GenerationRequest(list(range(5, 45)), 4))\n"
        "print(json.dumps([loaded.quant, sorted(layouts), loaded.notes, len(gen.token_ids)]))\n")
    env = {**os.environ, "CXX": "/bin/false", "XDG_CACHE_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, check=True, timeout=300)
    quant, layouts, notes, generated = json.loads(done.stdout.strip().splitlines()[-1])
    assert (quant, layouts, generated) == ("int4", ["aten"], 4)
    assert notes == ["int4 runs on ATen's slower kernel: compiling cpu_kernels.cpp failed: "
                     "(no output)"]
    assert not list((tmp_path / "sc2-lsp" / "kernels").glob("*.so"))


def test_the_built_library_is_cached_and_not_rebuilt():
    built = native._build(native._compiler())
    stamp = built.stat().st_mtime_ns
    assert built.parent == native.cache_dir() and built.name.startswith("cpu_kernels-")
    assert native._build(native._compiler()) == built and built.stat().st_mtime_ns == stamp


def test_int4_prefill_on_int8_activations_is_exact_for_its_codes():
    """a8: the activations become int8 codes per group (scale max|x| / 127, rounded to
    nearest even, as computed here in fp32); the rest is exact integer and fp32 sums."""
    torch.manual_seed(4)
    weight, x = torch.randn(64, 256) * 0.02, torch.randn(20, 256).bfloat16()
    packed, scales = native.pack_int4(weight, 128)
    groups = x.float().view(20, 2, 128)
    top = groups.abs().amax(-1, keepdim=True)
    inverse = torch.full_like(top, 127.0) / top  # (127.0 / top is reciprocal() * 127)
    codes = (groups * inverse).round()  # fp32 and nearest even, as the kernel computes it
    approx = (codes * (top / 127.0)).view(20, 256).double()
    exact = approx @ native.unpack_int4(packed, scales, torch.float64).T
    got = native.int4_matmul(x, packed, scales, torch.float32, a8=True)
    assert ((got.double() - exact).abs().max() / exact.abs().max()) < 1e-5
    plain = native.int4_matmul(x, packed, scales, torch.float32)
    assert 1e-4 < ((got - plain).norm() / plain.norm()) < 0.02  # int8 codes, not bf16


def test_int8_product_is_the_exact_product_of_its_codes():
    torch.manual_seed(5)
    weight, x = torch.randn(48, 96), torch.randn(3, 96)
    packed, scale = native.pack_int8(weight)
    codes = (weight / scale[:, None]).round().clamp(-127, 127)
    exact = x.double() @ (codes.double() * scale.double()[:, None]).T
    got = native.int8_matmul(x, packed, scale, torch.float32)
    assert ((got.double() - exact).abs().max() / exact.abs().max()) < 1e-6
    assert torch.equal(native.int8_matmul(x.bfloat16(), packed, scale, torch.float32),
                       native.int8_matmul(x.bfloat16().float(), packed, scale, torch.float32))


@pytest.mark.parametrize("length", [1, 17, 300])
def test_one_row_attention_is_the_exact_attention_rounded(length):
    """Grouped heads (12 queries per key head), keys a window of a longer buffer."""
    torch.manual_seed(length)
    keys, values = torch.randn(2, 512, 64).bfloat16(), torch.randn(2, 512, 64).bfloat16()
    keys, values = keys[:, 7:7 + length], values[:, 7:7 + length]
    q = torch.randn(24, 64).bfloat16()
    exact = torch.nn.functional.scaled_dot_product_attention(
        q.double().view(2, 12, 64), keys.double(), values.double(), scale=0.125)
    got = native.attend_one(q, keys, values, 0.125)
    assert ((got.double() - exact.reshape(24, 64)).abs() <= exact.reshape(24, 64).abs() * 2**-7
            + 1e-3).all()


def test_bias_and_gelu_are_applied_in_fp32_before_rounding():
    """The lean forward's MLP runs product, bias and GELU (tanh form) as one call."""
    torch.manual_seed(6)
    packed, scales = native.pack_int4(torch.randn(32, 128) * 0.05, 64)
    x, bias = torch.randn(5, 128), torch.randn(32)
    plain = native.int4_matmul(x, packed, scales, torch.float32)
    fused = native.int4_matmul(x, packed, scales, torch.float32, bias=bias, gelu=True)
    expected = torch.nn.functional.gelu(plain + bias, approximate="tanh")
    assert (fused - expected).abs().max() < 1e-6 * expected.abs().max() + 1e-7
    head, scale = native.pack_int8(torch.randn(48, 128))
    assert torch.equal(native.int8_matmul(x, head, scale, torch.float32, bias=bias.repeat(2)[:48]),
                       native.int8_matmul(x, head, scale, torch.float32) + bias.repeat(2)[:48])

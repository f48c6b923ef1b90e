"""Weight-only quantization: 4-bit group-wise (`int4`), 8-bit per row (`int8-torch`).

Decoding one token reads every weight once, so its speed is the bytes of the weights over
the memory bandwidth. On a CPU with AVX512-BF16, int4 runs on our own kernel (native.py,
cpu_kernels.cpp), which reads the packed weights about twice as fast as ATen's. Elsewhere
(CUDA, other CPUs, no compiler) int4 and int8-torch use the kernels PyTorch ships, the ones
gpt-fast and torchao's `Int4WeightOnlyConfig` / `Int8WeightOnlyConfig` run on
(`_weight_int4pack_mm_for_cpu`, `_weight_int4pack_mm` on CUDA, `_weight_int8pack_mm`);
they are called directly: torchao 0.18's wheel has no CPU kernels of its own and reaches
the same ops through tensor subclasses, whose dispatch costs more per call than a small
model's whole matrix-vector product.

Quantization happens once, at load, layer by layer: each bf16 weight is dropped as soon as its
packed copy exists, so loading needs the bf16 model plus one layer's temporaries. The q, k and
v projections are packed as one matrix (rows are quantized independently, so this changes no
value) and the lean forward runs them as one kernel call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from . import native

INT4, INT8 = "int4", "int8-torch"
PACKED_QUANTS = (INT4, INT8)
GROUP_SIZES = (128, 64, 32)  # int4 groups along the input dimension; the largest that fits
INT4_ROWS = 64  # the CPU int4 packing works on blocks of 64 output rows (AVX512; 32 on AVX2)
INT8_COLUMNS = 16  # the int8 kernel reads inputs 16 at a time (others read out of bounds)
KERNEL_ROWS = 16  # inputs with more rows run on the unpacked weight (see PackedLinear)

Report = Callable[[int, str], None]


class PackedLinear(nn.Module):
    """``x @ W.T + b`` with W packed for a kernel.

    Our int4 kernel (``layout == "native"``) takes any number of rows and computes each
    row alike, so it runs every input; a bf16 model's prefills (more than ``KERNEL_ROWS``
    rows) take their activations to int8, which doubles the products per instruction (a
    prefill is bound by products, a decode step by bytes). fp32 models, the small ones,
    keep every row on bf16 activations, so a position's values do not depend on how many
    tokens ran together.

    ATen's kernels are matrix-vector products at heart: they unpack the weight again for
    every block of 4 input rows, so a 512-token prefill chunk runs 9x slower than bf16
    (measured here). A bf16 model's inputs with more than ``KERNEL_ROWS`` rows therefore
    run one ordinary matrix product on the weight unpacked for the call. fp32 models (the
    small ones, where this costs little) use the kernel for every input: it computes each
    row alike however many rows come with it, so a position's values do not depend on how
    many tokens ran together, and cached and uncached decoding agree. The kernels' fast
    paths take bf16 inputs (fp32 ones are 20-60x slower), so other inputs are rounded."""

    def __init__(self, kind: str, packed: torch.Tensor, scales: torch.Tensor,
                 bias: torch.Tensor | None, in_features: int, group_size: int = 0,
                 compute_dtype: torch.dtype | None = None, layout: str = "aten") -> None:
        super().__init__()
        self.kind, self.group_size, self.layout = kind, group_size, layout
        self.in_features = in_features
        self.out_features = (packed.shape[0] * native.ROWS if layout == "native"
                             else scales.shape[-2 if kind == INT4 else 0])
        self.compute_dtype = compute_dtype or scales.dtype
        self.register_buffer("packed", packed)
        self.register_buffer("scales", scales)
        self.register_buffer("bias", bias if layout == "aten" else None)
        self.register_buffer("bias_fp32", None if bias is None or layout == "aten"
                             else bias.float().contiguous())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.layout == "native":
            return self.native_forward(x)
        h = x.reshape(-1, self.in_features)
        if h.shape[0] > KERNEL_ROWS and h.dtype == self.compute_dtype and (
                self.kind == INT8 or int4_unpackable(h.device)):
            y = self._unpacked_mm(h)
        else:
            y = self._kernel(h.to(self.compute_dtype)).to(x.dtype)
        if self.bias is not None:
            y += self.bias
        return y.reshape(*x.shape[:-1], self.out_features)

    def native_forward(self, x: torch.Tensor, gelu: bool = False) -> torch.Tensor:
        """Our kernels, the bias added (and, for the lean forward's MLP, GELU's tanh form
        applied) in fp32 before the result is rounded: one call where there were three."""
        h = x.reshape(-1, self.in_features)
        if h.dtype not in (torch.float32, torch.bfloat16):
            h = h.float()
        if self.kind == INT8:
            y = native.int8_matmul(h.contiguous(), self.packed, self.scales, h.dtype,
                                   self.bias_fp32)
        else:
            prefill = h.dtype == torch.bfloat16 and h.shape[0] > KERNEL_ROWS
            y = native.int4_matmul(h.contiguous(), self.packed, self.scales, h.dtype, prefill,
                                   self.bias_fp32, gelu)
        return y.to(x.dtype).reshape(*x.shape[:-1], self.out_features)

    def _kernel(self, h: torch.Tensor) -> torch.Tensor:
        if self.kind == INT8:
            return torch.ops.aten._weight_int8pack_mm(h, self.packed, self.scales)
        if h.is_cuda:
            return torch.ops.aten._weight_int4pack_mm(h, self.packed, self.group_size,
                                                      self.scales)
        return torch.ops.aten._weight_int4pack_mm_for_cpu(h, self.packed, self.group_size,
                                                          self.scales)

    def _unpacked_mm(self, h: torch.Tensor) -> torch.Tensor:
        if self.kind == INT8:  # per-row scales commute with the product
            return F.linear(h, self.packed.to(h.dtype)) * self.scales
        return F.linear(h, int4_unpacked(self.packed, self.scales, self.group_size, h.dtype))


class RowSlice(nn.Module):
    """Rows ``[start, stop)`` of a fused projection's output: keeps ``q_proj`` & co. callable
    (transformers' own forward, the naive bench baseline) once q, k and v are packed as one."""

    def __init__(self, fused: PackedLinear, start: int, stop: int) -> None:
        super().__init__()
        self.fused, self.start, self.stop = fused, start, stop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fused(x)[..., self.start:self.stop]


def packed_linear(kind: str, weight: torch.Tensor, bias: torch.Tensor | None,
                  group_size: int = 0, dtype: torch.dtype = torch.bfloat16,
                  layout: str = "aten") -> PackedLinear:
    """The packed form of one linear layer's weight ([out, in]), for ATen's kernels or
    (int4, ``layout="native"``) for ours."""
    if layout == "native":
        packed, scales = (native.pack_int4(weight, group_size) if kind == INT4
                          else native.pack_int8(weight))
        return PackedLinear(kind, packed, scales, bias, weight.shape[1], group_size,
                            torch.bfloat16, "native")
    if kind == INT8:
        codes, scales = native.int8_codes(weight)
        return PackedLinear(INT8, codes, scales.to(dtype), bias, weight.shape[1])
    packed, scales = _int4_packed(weight, group_size, dtype)
    return PackedLinear(INT4, packed, scales, bias, weight.shape[1], group_size)


def _int4_packed(weight: torch.Tensor, group_size: int, dtype: torch.dtype
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Asymmetric 4-bit groups as gpt-fast makes them: w ≈ (q - 8) * scale + zero, q in 0..15;
    scales and zeros as [in / group, out, 2]."""
    n, k = weight.shape
    groups = weight.float().reshape(n, k // group_size, group_size)
    low, high = groups.amin(dim=-1, keepdim=True), groups.amax(dim=-1, keepdim=True)
    scale = ((high - low) / 15).clamp_(min=1e-10)
    q = ((groups - low) / scale).round_().clamp_(0, 15).to(torch.int32).reshape(n, k)
    scales = torch.cat((scale, low + 8 * scale), dim=-1).transpose(0, 1).contiguous().to(dtype)
    if weight.is_cuda:
        q = (q[:, ::2] << 4 | q[:, 1::2]).to(torch.uint8)
        return torch.ops.aten._convert_weight_to_int4pack(q, _inner_k_tiles(k)), scales
    return torch.ops.aten._convert_weight_to_int4pack_for_cpu(q, 1), scales


def int4_unpacked(packed: torch.Tensor, scales: torch.Tensor, group_size: int,
                  dtype: torch.dtype) -> torch.Tensor:
    """The weight ([out, in]) of a CPU int4 packing, ``(q - 8) * scale + zero``.

    The packing (ATen's int4mm_kernel.cpp) stores blocks of B output rows (64 with AVX512,
    32 with AVX2) as [in, B / 2] bytes, byte c holding row c (low nibble) and row
    B / 2 + c (high nibble)."""
    n, k = packed.shape[0], packed.shape[1] * 2
    block = _int4_block()
    pairs = packed.view(n // block, k, block // 2).transpose(1, 2)  # [blocks, B / 2, in]
    w = torch.empty(n // block, 2, block // 2, k, dtype=dtype, device=packed.device)
    w[:, 0] = pairs & 15
    w[:, 1] = pairs >> 4
    scale = scales[..., 0].t().to(dtype)[..., None]  # [out, in / group, 1]
    zero = scales[..., 1].t().to(dtype)[..., None] - 8 * scale
    groups = w.view(n, k // group_size, group_size)
    return groups.mul_(scale).add_(zero).view(n, k)


def _int4_block() -> int:
    return 64 if torch.backends.cpu.get_cpu_capability().startswith("AVX512") else 32


@functools.cache
def _int4_layout_known() -> bool:
    """Whether `int4_unpacked` reads this CPU's packing: checked once on a probe."""
    q = torch.randint(0, 16, (128, 64), dtype=torch.int32)
    packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(q, 1)
    ones = torch.ones(2, 128, 2, dtype=torch.float32)
    ones[..., 1] = 8.0  # scale 1, zero 8: the unpacked weight is q itself
    return bool((int4_unpacked(packed, ones, 32, torch.float32) == q).all())


def int4_unpackable(device: torch.device) -> bool:
    return device.type == "cpu" and _int4_layout_known()


def _inner_k_tiles(k: int) -> int:
    return next(t for t in (8, 4, 2) if k % (16 * t) == 0)


def target_linears(model) -> list[tuple[nn.Module, str, nn.Linear]]:
    """(parent, attribute, linear) of every projection in the decoder layers and the LM head."""
    found = []
    for layer in model.model.layers:
        for parent, names in ((layer.self_attn, ("q_proj", "k_proj", "v_proj", "o_proj")),
                              (layer.mlp, ("c_fc", "c_proj"))):
            found += [(parent, name, getattr(parent, name)) for name in names]
    return found + [(model, "lm_head", model.lm_head)]


def int4_layout(device: str = "cpu") -> tuple[str, str | None]:
    """Which int4 kernel runs on ``device``: ("native", None), or ("aten", why not ours)."""
    if device != "cpu":
        return "aten", None
    why = native.unavailable()
    return ("aten", why) if why else ("native", None)


def int4_group_size(model, layout: str = "aten") -> int | None:
    """The largest int4 group size every layer fits, None if some layer fits none."""
    shapes = _packed_shapes(model)
    rows = native.ROWS if layout == "native" else INT4_ROWS
    if any(out % rows for _, out in shapes):
        return None
    return next((g for g in GROUP_SIZES if all(k % g == 0 for k, _ in shapes)), None)


def _packed_shapes(model) -> list[tuple[int, int]]:
    """(in, out) of the int4 matrices: q, k and v fused, the rest as they are."""
    shapes = []
    for layer in model.model.layers:
        attn, mlp = layer.self_attn, layer.mlp
        fused = sum(p.out_features for p in (attn.q_proj, attn.k_proj, attn.v_proj))
        shapes += [(attn.q_proj.in_features, fused)] + [
            (p.in_features, p.out_features) for p in (attn.o_proj, mlp.c_fc, mlp.c_proj)]
    return shapes


def fits_int8(model) -> bool:
    return all(lin.in_features % INT8_COLUMNS == 0 for _, _, lin in target_linears(model))


def fallback(model, kind: str, device: str = "cpu") -> tuple[str, list[str]]:
    """The packed quantization this model can take when `kind` was asked: (kind, notes)."""
    if kind == INT4:
        layout, why = int4_layout(device)
        notes = [f"int4 runs on ATen's slower kernel: {why}"] if why else []
        if int4_group_size(model, layout) is not None:
            return kind, notes
        rows = native.ROWS if layout == "native" else INT4_ROWS
        sizes = sorted(set(_packed_shapes(model)))
        other = INT8 if fits_int8(model) else "none"
        return other, [f"int4 needs layer inputs a multiple of {GROUP_SIZES[-1]} and outputs a "
                       f"multiple of {rows} (this model's (in, out): {sizes}); "
                       f"loading {other} instead"]
    if kind == INT8 and not fits_int8(model):
        return "none", [f"int8-torch needs layer inputs a multiple of {INT8_COLUMNS}; "
                        "loading unquantized"]
    return kind, []


@torch.no_grad()
def quantize_model(model, kind: str, report: Report, start: int = 40, end: int = 85) -> None:
    """Replace the model's projections by packed ones, in place, one layer at a time.

    With `int4` the LM head is packed to 8 bits, as llama.cpp's Q4_K_M keeps its output
    matrix at 6: it is the largest single matrix and the one every logit comes from. It
    only ever sees the rows whose logits are wanted (one per step), so with our int4
    kernel it runs on our 8-bit matrix-vector kernel too."""
    dtype = torch.bfloat16 if model.dtype == torch.float32 else model.dtype
    layout = int4_layout(model.device.type)[0] if kind == INT4 else "aten"
    group = int4_group_size(model, layout) if kind == INT4 else 0
    pack = functools.partial(packed_linear, kind, group_size=group, dtype=dtype, layout=layout)
    layers = model.model.layers
    for i, layer in enumerate(layers):
        report(start + (end - start) * i // len(layers),
               f"quantizing layer {i + 1}/{len(layers)} to {kind}")
        _fuse_qkv(layer.self_attn, pack)
        for parent, name in ((layer.self_attn, "o_proj"), (layer.mlp, "c_fc"),
                             (layer.mlp, "c_proj")):
            linear = getattr(parent, name)
            setattr(parent, name, pack(linear.weight, linear.bias))
    head = model.lm_head
    ours = layout == "native" and head.out_features % native.ROWS == 0
    model.lm_head = packed_linear(INT8, head.weight, head.bias, 0, dtype,
                                  "native" if ours else "aten")
    model.config.tie_word_embeddings = False  # the head is no longer the embedding's weight


def _fuse_qkv(attn: nn.Module, pack: Callable[..., PackedLinear]) -> None:
    parts = [attn.q_proj, attn.k_proj, attn.v_proj]
    weight = torch.cat([p.weight for p in parts])
    bias = torch.cat([p.bias for p in parts]) if parts[0].bias is not None else None
    attn.qkv_proj = fused = pack(weight, bias)
    stop = 0
    for name, part in zip(("q_proj", "k_proj", "v_proj"), parts, strict=True):
        start, stop = stop, stop + part.out_features
        setattr(attn, name, RowSlice(fused, start, stop))

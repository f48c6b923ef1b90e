"""StarCoder2's forward pass, lean: the model's own modules, our own KV buffers.

Transformers' ``Starcoder2ForCausalLM.forward`` spends milliseconds of Python per call
(mask builders, output wrappers, cache objects), and the decode loop calls it once per
token: on a small model that is most of a keystroke's latency. This is the same arithmetic
with nothing around it — embed, then per layer LayerNorm → attention (RoPE, grouped-query,
sliding window) → residual → LayerNorm → MLP → residual, final LayerNorm, LM head — calling
the model's own ``nn.Module``s, so bitsandbytes-quantized linears work unchanged. Keys and
values live in preallocated per-layer buffers that a crop only shortens.

A decode step is one token, so what it costs beyond reading the weights is the number of
torch calls: q, k and v are one matrix-vector product (fused here for plain linears, packed
fused by quantize.py), RoPE is a lookup in a table grown by doubling and applied to queries
and keys at once, and plain linears run one token through our matrix-vector kernel
(native.py; ``addmv`` where it cannot run).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from transformers.activations import GELUTanh

from . import native
from .quantize import INT4, PackedLinear

Projection = Callable[[torch.Tensor], torch.Tensor]


class KVBuffers:
    """Keys and values of one token sequence for every layer; positions ``[0, length)``.

    Buffers grow by doubling, so appending a token is a copy into place, and cropping
    (a rejected draft, a prompt that diverged) only moves ``length`` back.
    """

    def __init__(self) -> None:
        self.keys: list[torch.Tensor] = []  # per layer [kv_heads, capacity, head_dim]
        self.values: list[torch.Tensor] = []
        self.length = 0

    def crop(self, length: int) -> None:
        self.length = min(self.length, max(length, 0))

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Write k, v ([kv_heads, n, head_dim]) after ``length``; all keys and values so far."""
        end = self.length + k.shape[1]
        if layer == len(self.keys):
            self.keys.append(k.new_empty(k.shape[0], max(end, 64), k.shape[2]))
            self.values.append(v.new_empty(v.shape[0], max(end, 64), v.shape[2]))
        elif end > self.keys[layer].shape[1]:
            self.keys[layer] = _grown(self.keys[layer], self.length, end)
            self.values[layer] = _grown(self.values[layer], self.length, end)
        self.keys[layer][:, self.length:end] = k
        self.values[layer][:, self.length:end] = v
        return self.keys[layer][:, :end], self.values[layer][:, :end]


def _grown(buffer: torch.Tensor, used: int, needed: int) -> torch.Tensor:
    bigger = buffer.new_empty(buffer.shape[0], max(needed, 2 * buffer.shape[1]), buffer.shape[2])
    bigger[:, :used] = buffer[:, :used]
    return bigger


class LeanForward:
    """Logits for new tokens appended to a ``KVBuffers`` (a ``Starcoder2ForCausalLM``'s)."""

    def __init__(self, model) -> None:
        config = model.config
        self.embed = model.model.embed_tokens
        self.layers = [_Layer(layer) for layer in model.model.layers]
        self.norm, self.head = model.model.norm, _projection(model.lm_head)
        rotary = model.model.rotary_emb
        self.inv_freq = rotary.inv_freq.float()  # [head_dim / 2]
        self.rope_scale = float(getattr(rotary, "attention_scaling", 1.0))
        self.heads, self.kv_heads = config.num_attention_heads, config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.window = config.sliding_window or 1 << 62
        self.device = self.inv_freq.device
        self.row_by_row = _batch_invariant_linears(model)
        self.native_attention = (self.device.type == "cpu" and self.head_dim % 32 == 0
                                 and self.head_dim <= 256 and native.unavailable() is None)
        self._cos = self._sin = torch.empty(0, self.head_dim)  # RoPE tables, [positions, d]

    def __call__(self, kv: KVBuffers, ids: list[int], keep: int) -> torch.Tensor:
        """Run ``ids`` after the cached positions; logits of the last ``keep`` ([keep, V])."""
        start, n = kv.length, len(ids)
        x = self.embed(torch.tensor(ids, device=self.device))  # [n, D]
        cos, sin = self._rope(start, n, x.dtype)  # [n, 1, d]
        mask = None if n == 1 or self.row_by_row else self._mask(start, n)  # [n, start + n]
        for i, layer in enumerate(self.layers):
            x += self._attention(layer, layer.norm1(x), kv, i, cos, sin, mask)
            x += layer.proj(layer.fc_act(layer.norm2(x)))
        kv.length = start + n
        return self.head(self.norm(x[-keep:]))  # [keep, V]

    def _attention(self, layer: _Layer, h: torch.Tensor, kv: KVBuffers, i: int,
                   cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor | None
                   ) -> torch.Tensor:
        n, heads, rotated = h.shape[0], self.heads, self.heads + self.kv_heads
        qkv = layer.qkv(h).view(n, rotated + self.kv_heads, self.head_dim)  # [n, H + 2Hkv, d]
        qk = _rotated(qkv[:, :rotated], cos, sin)  # [n, H + Hkv, d]
        keys, values = kv.append(i, qk[:, heads:].transpose(0, 1),  # [Hkv, start + n, d]
                                 qkv[:, rotated:].transpose(0, 1))
        q = qk[:, :heads].transpose(0, 1)  # [H, n, d]
        if mask is None:  # row by row, each exactly as a one-token step computes it
            rows = [self._one_row(q[:, j:j + 1], keys, values, kv.length + j, layer)
                    for j in range(n)]
            out = rows[0] if n == 1 else torch.cat(rows, dim=1)
        else:
            out = F.scaled_dot_product_attention(  # [H, n, d]
                q[None], keys[None], values[None], attn_mask=mask, scale=layer.scaling,
                enable_gqa=heads != self.kv_heads)[0]
        return layer.o(out.transpose(0, 1).reshape(n, heads * self.head_dim))

    def _one_row(self, q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, position: int,
                 layer: _Layer) -> torch.Tensor:
        """Attention of the query at ``position`` ([H, 1, d]) over its window of keys: our
        kernel for bf16 (native.py; torch's bf16 products cost 3x more for this shape),
        else three batched products over the query heads grouped by their key head,
        cheaper for one row than the fused kernel's setup."""
        low = max(0, position + 1 - self.window)
        keys, values = keys[:, low:position + 1], values[:, low:position + 1]  # [Hkv, L, d]
        if self.native_attention and q.dtype == torch.bfloat16:
            return native.attend_one(q.reshape(self.heads, self.head_dim).contiguous(), keys,
                                     values, layer.scaling)[:, None]  # [H, 1, d]
        grouped = q.reshape(self.kv_heads, -1, self.head_dim)  # [Hkv, H / Hkv, d]
        scores = torch.bmm(grouped, keys.transpose(1, 2)).mul_(layer.scaling)  # [Hkv, H/Hkv, L]
        return torch.bmm(scores.softmax(-1), values).view(self.heads, 1, self.head_dim)

    def _rope(self, start: int, n: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """cos and signed sin of positions [start, start + n) ([n, 1, d]), from tables that
        grow by doubling, so a decode step computes no trigonometry."""
        end = start + n
        if end > self._cos.shape[0] or self._cos.dtype != dtype:
            self._cos, self._sin = self._tables(max(end, 2 * self._cos.shape[0], 256), dtype)
        return self._cos[start:end, None], self._sin[start:end, None]

    def _tables(self, size: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        positions = torch.arange(size, device=self.device, dtype=torch.float32)
        freqs = positions[:, None] * self.inv_freq[None, :]  # [size, d / 2]
        angles = torch.cat((freqs, freqs), dim=-1)  # [size, d]
        sin = angles.sin() * self.rope_scale
        half = self.head_dim // 2
        sin[:, :half].neg_()  # rotate_half(x) * sin == swap_halves(x) * signed sin
        return (angles.cos() * self.rope_scale).to(dtype), sin.to(dtype)

    def _mask(self, start: int, n: int) -> torch.Tensor:
        """Causal and sliding-window mask (True = attend)."""
        window = self.window
        q = torch.arange(start, start + n, device=self.device)[:, None]  # [n, 1]
        k = torch.arange(start + n, device=self.device)[None, :]  # [1, start + n]
        return (k <= q) & (k > q - window)  # [n, start + n]


class _Layer:
    """One decoder layer's callables, looked up once instead of on every token."""

    def __init__(self, layer) -> None:
        attn, mlp = layer.self_attn, layer.mlp
        self.norm1, self.norm2 = layer.input_layernorm, layer.post_attention_layernorm
        self.qkv, self.o, self.scaling = _qkv_projection(attn), _projection(attn.o_proj), \
            attn.scaling
        self.fc_act, self.proj = _fc_act(mlp.c_fc, mlp.act), _projection(mlp.c_proj)


def _fc_act(fc: nn.Module, act: nn.Module) -> Projection:
    """The MLP's first product and its activation: one kernel call when the product is our
    int4 one and the activation GELU's tanh form (StarCoder2's), else two calls."""
    fused = (isinstance(fc, PackedLinear) and fc.layout == "native" and fc.kind == INT4
             and isinstance(act, GELUTanh))
    if fused:
        return lambda h: fc.native_forward(h, gelu=True)
    project = _projection(fc)
    return lambda h: act(project(h))


def _batch_invariant_linears(model) -> bool:
    """Whether every row of a projection is computed alike however many rows run with it:
    so with the torch-native packed kernels on fp32 activations (see quantize.py), whose
    bf16 rounding of each input would turn attention's tiny batch-size-dependent
    differences into different tokens. Such models run attention one query row at a time,
    so a prefill computes each position exactly as a decode step does."""
    packed = any(isinstance(m, PackedLinear) for m in model.modules())
    return packed and model.model.embed_tokens.weight.dtype == torch.float32


def _projection(module: nn.Module) -> Projection:
    """A plain linear as ``_dense``; anything else (packed, bitsandbytes) as the module."""
    return _dense(module.weight, module.bias) if type(module) is nn.Linear else module


def _dense(weight: torch.Tensor, bias: torch.Tensor | None) -> Projection:
    """One row through a matrix-vector product: our kernel (native.py), which reads the
    weights at the memory's speed, where it runs, else ``addmv``."""
    ours = (weight.dtype in (torch.bfloat16, torch.float32) and weight.device.type == "cpu"
            and weight.shape[1] % 32 == 0 and weight.stride(1) == 1
            and native.unavailable() is None)

    def project(x: torch.Tensor) -> torch.Tensor:  # [n, in] -> [n, out]
        if x.shape[0] != 1:
            return F.linear(x, weight, bias)
        if ours and x.dtype == weight.dtype:
            y = native.matvec(weight, x[0].contiguous())
            return (y if bias is None else y.add_(bias))[None]
        if bias is None:
            return torch.mv(weight, x[0])[None]
        return torch.addmv(bias, weight, x[0])[None]
    return project


@torch.no_grad()
def _qkv_projection(attn: nn.Module) -> Projection:
    """q, k and v as one product: the packed fused projection, else plain linears fused
    here (their weights become views of the fused matrix, so nothing is stored twice and
    the model's own forward still works), else (bitsandbytes) three calls."""
    if hasattr(attn, "qkv_proj"):
        return attn.qkv_proj
    parts = [attn.q_proj, attn.k_proj, attn.v_proj]
    if not all(type(p) is nn.Linear for p in parts):
        return lambda h: torch.cat([p(h) for p in parts], dim=-1)
    if not hasattr(attn, "fused_qkv"):  # fused by an earlier engine on the same model
        attn.fused_qkv = _fused(parts)
    return _dense(*attn.fused_qkv)


def _fused(parts: list[nn.Linear]) -> tuple[torch.Tensor, torch.Tensor | None]:
    weight = torch.cat([p.weight for p in parts])
    bias = torch.cat([p.bias for p in parts]) if parts[0].bias is not None else None
    stop = 0
    for p in parts:
        start, stop = stop, stop + p.out_features
        p.weight = nn.Parameter(weight[start:stop], requires_grad=False)
        if bias is not None:
            p.bias = nn.Parameter(bias[start:stop], requires_grad=False)
    return weight, bias


def _rotated(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """RoPE on [n, heads, d] with each position's cos and signed sin ([n, 1, d])."""
    return x * cos + x.unflatten(-1, (2, -1)).flip(-2).flatten(-2) * sin

"""StarCoder2's forward pass, lean: the model's own modules, our own KV buffers.

Transformers' ``Starcoder2ForCausalLM.forward`` spends milliseconds of Python per call
(mask builders, output wrappers, cache objects), and the decode loop calls it once per
token: on a small model that is most of a keystroke's latency. This is the same arithmetic
with nothing around it — embed, then per layer LayerNorm → attention (RoPE, grouped-query,
sliding window) → residual → LayerNorm → MLP → residual, final LayerNorm, LM head — calling
the model's own ``nn.Module``s, so bitsandbytes-quantized linears work unchanged. Keys and
values live in preallocated per-layer buffers that a crop only shortens.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


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
        self.embed, self.layers = model.model.embed_tokens, model.model.layers
        self.norm, self.head = model.model.norm, model.lm_head
        rotary = model.model.rotary_emb
        self.inv_freq = rotary.inv_freq.float()  # [head_dim / 2]
        self.rope_scale = float(getattr(rotary, "attention_scaling", 1.0))
        self.heads, self.kv_heads = config.num_attention_heads, config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.window = config.sliding_window
        self.device = self.inv_freq.device

    def __call__(self, kv: KVBuffers, ids: list[int], keep: int) -> torch.Tensor:
        """Run ``ids`` after the cached positions; logits of the last ``keep`` ([keep, V])."""
        start, n = kv.length, len(ids)
        x = self.embed(torch.tensor(ids, device=self.device))  # [n, D]
        cos, sin = self._rope(start, n, x.dtype)  # [n, head_dim]
        mask = self._mask(start, n)  # [n, start + n] or None
        for i, layer in enumerate(self.layers):
            h = layer.input_layernorm(x)
            x = x + self._attention(layer.self_attn, h, kv, i, cos, sin, mask)
            mlp = layer.mlp
            x = x + mlp.c_proj(mlp.act(mlp.c_fc(layer.post_attention_layernorm(x))))
        kv.length = start + n
        return self.head(self.norm(x[-keep:]))  # [keep, V]

    def _attention(self, attn, h: torch.Tensor, kv: KVBuffers, layer: int, cos: torch.Tensor,
                   sin: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        n = h.shape[0]
        q = attn.q_proj(h).view(n, self.heads, self.head_dim).transpose(0, 1)  # [H, n, d]
        k = attn.k_proj(h).view(n, self.kv_heads, self.head_dim).transpose(0, 1)  # [Hkv, n, d]
        v = attn.v_proj(h).view(n, self.kv_heads, self.head_dim).transpose(0, 1)
        keys, values = kv.append(layer, _rotated(k, cos, sin), v)  # [Hkv, start + n, d]
        out = F.scaled_dot_product_attention(  # [1, H, n, d]
            _rotated(q, cos, sin)[None], keys[None], values[None], attn_mask=mask,
            scale=attn.scaling, enable_gqa=self.heads != self.kv_heads)
        return attn.o_proj(out[0].transpose(0, 1).reshape(n, self.heads * self.head_dim))

    def _rope(self, start: int, n: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        positions = torch.arange(start, start + n, device=self.device, dtype=torch.float32)
        freqs = positions[:, None] * self.inv_freq[None, :]  # [n, d / 2]
        angles = torch.cat((freqs, freqs), dim=-1)  # [n, d]
        return ((angles.cos() * self.rope_scale).to(dtype),
                (angles.sin() * self.rope_scale).to(dtype))

    def _mask(self, start: int, n: int) -> torch.Tensor | None:
        """Causal and sliding-window mask (True = attend); None when nothing is masked."""
        window = self.window or start + n + 1
        if n == 1 and start < window:
            return None
        q = torch.arange(start, start + n, device=self.device)[:, None]  # [n, 1]
        k = torch.arange(start + n, device=self.device)[None, :]  # [1, start + n]
        return (k <= q) & (k > q - window)  # [n, start + n]


def _rotated(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """RoPE on [heads, n, d] with the cos/sin of each position ([n, d])."""
    half = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin

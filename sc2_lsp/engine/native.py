"""Our CPU kernels (cpu_kernels.cpp: a decode step's products), built on this machine at
first use.

It is a plain C++ file with no torch headers, so it builds in about a second with the
system's g++ and loads through ctypes; compiled with ``-fopenmp`` it shares the OpenMP
runtime torch has already loaded (same soname), so its threads are torch's threads and the
two never fight over the cores. The library is cached under ``~/.cache/sc2-lsp/kernels``
by a hash of the source, the flags and the compiler, written to a temporary name and
renamed, so concurrent servers never load half a file.

Nothing here is required: without g++ or without AVX512-BF16, `unavailable()` says why and
int4 layers run on ATen's kernel and bf16 ones on torch's.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import torch

SOURCE = Path(__file__).with_name("cpu_kernels.cpp")
FLAGS = ["-O3", "-std=c++17", "-shared", "-fPIC", "-fopenmp", "-mavx512f", "-mavx512bw",
         "-mavx512vl", "-mavx512bf16", "-mavx512vnni", "-mf16c", "-mfma"]
CPU_FEATURES = ("avx512f", "avx512bw", "avx512vl", "avx512_bf16", "avx512_vnni", "f16c", "fma")
ROWS = 16  # the kernel's block of output rows


class NativeUnavailable(RuntimeError):
    """Why the kernel cannot run here (one sentence, shown once)."""


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "sc2-lsp" / "kernels"


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return set(line.partition(":")[2].split())


def _compiler() -> str:
    cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if not cxx:
        raise NativeUnavailable("no C++ compiler (g++) on PATH")
    return cxx


def _build(cxx: str) -> Path:
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
    key = hashlib.sha256(SOURCE.read_bytes() + " ".join(FLAGS).encode() + version.encode())
    target = cache_dir() / f"cpu_kernels-{key.hexdigest()[:16]}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    done = subprocess.run([cxx, *FLAGS, str(SOURCE), "-o", tmp], capture_output=True, text=True)
    if done.returncode != 0:
        os.unlink(tmp)
        lines = done.stderr.strip().splitlines()
        first = next((line for line in lines if "error" in line), lines[0] if lines
                     else "(no output)")
        raise NativeUnavailable(f"compiling {SOURCE.name} failed: {first}")
    os.replace(tmp, target)
    return target


@functools.cache
def _library() -> ctypes.CDLL | NativeUnavailable:
    missing = [f for f in CPU_FEATURES if f not in _cpu_flags()]
    if missing:
        return NativeUnavailable(f"this CPU lacks {', '.join(missing)}")
    try:
        lib = ctypes.CDLL(str(_build(_compiler())))
    except (NativeUnavailable, OSError) as err:
        return err if isinstance(err, NativeUnavailable) else NativeUnavailable(str(err))
    fn = lib.sc2_int4_matmul
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int64, ctypes.c_int64,
                   ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                   ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                   ctypes.c_int]
    fn = lib.sc2_int8_matmul
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int64, ctypes.c_int64,
                   ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
                   ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    fn = lib.sc2_attend_one
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                   ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                   ctypes.c_float, ctypes.c_void_p, ctypes.c_int]
    fn = lib.sc2_matvec
    fn.restype = None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64,
                   ctypes.c_int64, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
    return lib


def unavailable() -> str | None:
    """None when the kernels are built and loaded (building them now if needed), else why not."""
    lib = _library()
    return str(lib) if isinstance(lib, NativeUnavailable) else None


def _loaded() -> ctypes.CDLL:
    lib = _library()
    if isinstance(lib, NativeUnavailable):
        raise lib
    return lib


def attend_one(q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
               scale: float) -> torch.Tensor:
    """Attention of one query row: q [H, d] contiguous, keys and values [Hkv, L, d] with
    rows contiguous (views of a longer buffer are fine), all bf16: [H, d] bf16."""
    heads, d = q.shape
    kv_heads, length, _ = keys.shape
    assert keys.stride()[1:] == (d, 1) and values.stride() == keys.stride()
    out = torch.empty(heads, d, dtype=torch.bfloat16)
    status = _loaded().sc2_attend_one(q.data_ptr(), heads, kv_heads, d, keys.data_ptr(),
                                      values.data_ptr(), keys.stride(0), length, scale,
                                      out.data_ptr(), torch.get_num_threads())
    if status != 0:
        raise MemoryError(f"attention kernel: no memory for {length} positions")
    return out


def matvec(weight: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """weight [N, K] (rows contiguous) times x [K] (contiguous), both bf16 or both fp32:
    [N] in their dtype. K % 32 == 0."""
    n, k = weight.shape
    out = torch.empty(n, dtype=weight.dtype)
    fp32 = weight.dtype == torch.float32
    _loaded().sc2_matvec(x.data_ptr(), k, weight.data_ptr(), n, weight.stride(0),
                         out.data_ptr(), not fp32, fp32, torch.get_num_threads())
    return out


def int4_matmul(x: torch.Tensor, packed: torch.Tensor, scales: torch.Tensor,
                out_dtype: torch.dtype, a8: bool = False, bias: torch.Tensor | None = None,
                gelu: bool = False) -> torch.Tensor:
    """x [M, K] (fp32 or bf16, contiguous) times the packed weight ([N, K]) transposed:
    [M, N] in ``out_dtype`` (fp32 or bf16). ``a8``: x rounded to int8 codes per group
    (twice the products per instruction, for prefills) instead of to bf16. ``bias`` (fp32,
    [N]) is added and ``gelu`` (tanh form) applied before the result is rounded."""
    lib = _loaded()
    m, k = x.shape
    n = packed.shape[0] * ROWS
    out = torch.empty(m, n, dtype=out_dtype)
    status = lib.sc2_int4_matmul(x.data_ptr(), x.dtype == torch.bfloat16, m, k,
                                 k // scales.shape[1], packed.data_ptr(), scales.data_ptr(), n,
                                 out.data_ptr(), out_dtype == torch.bfloat16, a8,
                                 _pointer(bias), gelu, torch.get_num_threads())
    if status != 0:
        raise MemoryError(f"int4 kernel: no memory for a [{m}, {k}] input")
    return out


def _pointer(bias: torch.Tensor | None) -> int | None:
    if bias is None:
        return None
    assert bias.dtype == torch.float32 and bias.is_contiguous()
    return bias.data_ptr()


def int8_matmul(x: torch.Tensor, packed: torch.Tensor, scale: torch.Tensor,
                out_dtype: torch.dtype, bias: torch.Tensor | None = None) -> torch.Tensor:
    """x [M, K] (fp32 or bf16, contiguous) times a `pack_int8` weight ([N, K]) transposed,
    plus ``bias`` (fp32, [N])."""
    m, k = x.shape
    n = scale.shape[0]
    out = torch.empty(m, n, dtype=out_dtype)
    status = _loaded().sc2_int8_matmul(x.data_ptr(), x.dtype == torch.bfloat16, m, k,
                                       packed.data_ptr(), scale.data_ptr(), n, out.data_ptr(),
                                       out_dtype == torch.bfloat16, _pointer(bias),
                                       torch.get_num_threads())
    if status != 0:
        raise MemoryError(f"int8 kernel: no memory for a [{m}, {k}] input")
    return out


def int8_codes(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric 8-bit codes per row, w ≈ scale[n] * code: codes [N, K] int8 (|code| <= 127)
    and scale [N] fp32, for our int8 kernel and ATen's alike."""
    w = weight.float()
    scale = (w.abs().amax(dim=1) / 127).clamp_(min=1e-10)
    return (w / scale[:, None]).round_().clamp_(-127, 127).to(torch.int8), scale


def pack_int8(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`int8_codes` laid out for our kernel: packed [N / 16, K * 16] int8 (16 rows' codes of
    one input side by side) and scale [N] fp32. N % 16 == 0."""
    n, k = weight.shape
    codes, scale = int8_codes(weight)
    packed = codes.view(n // ROWS, ROWS, k).transpose(1, 2).reshape(n // ROWS, -1).contiguous()
    return packed, scale


def pack_int4(weight: torch.Tensor, group: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The kernel's form of ``weight`` ([N, K], N % 16 == 0, K % group == 0): asymmetric
    4-bit groups, w ≈ d q + m with q in 0..15 and d, m in fp16 (quantized with the rounded
    d and m, so the stored values are the ones the codes were chosen for).

    Returns packed [N / 16, K * 8] uint8 and scales [N / 16, K / group, 2, 16] fp16
    (layout: cpu_kernels.cpp)."""
    n, k = weight.shape
    groups = weight.float().reshape(n, k // group, group)
    low, high = groups.amin(dim=-1), groups.amax(dim=-1)  # [N, K / group]
    d = ((high - low) / 15).half()
    m = low.half()
    safe = torch.where(d.float() > 0, d.float(), torch.ones_like(low))
    q = ((groups - m.float()[..., None]) / safe[..., None]).round_().clamp_(0, 15)
    q = q.to(torch.uint8).reshape(n // ROWS, ROWS, k // 4, 2, 2)  # [block, row, step, half, e]
    lo, hi = q[:, :, :, 0].transpose(1, 2), q[:, :, :, 1].transpose(1, 2)  # [block, step, row, e]
    packed = (lo | hi << 4).reshape(n // ROWS, -1).contiguous()
    scales = torch.stack((d, m), dim=-1)  # [N, K / group, 2]
    scales = scales.reshape(n // ROWS, ROWS, k // group, 2).permute(0, 2, 3, 1).contiguous()
    return packed, scales


def unpack_int4(packed: torch.Tensor, scales: torch.Tensor, dtype: torch.dtype
                ) -> torch.Tensor:
    """The weight ([N, K]) a `pack_int4` packing stands for, d q + m."""
    blocks, steps = packed.shape[0], packed.shape[1] // (2 * ROWS)
    pairs = packed.view(blocks, steps, ROWS, 2)
    q = torch.stack((pairs & 15, pairs >> 4), dim=3)  # [block, step, row, half, e]
    q = q.permute(0, 2, 1, 3, 4).reshape(blocks * ROWS, steps * 4)  # [N, K]
    d, m = scales.permute(0, 3, 1, 2).reshape(blocks * ROWS, -1, 2).to(dtype).unbind(-1)
    w = q.view(q.shape[0], d.shape[1], -1).to(dtype) * d[..., None] + m[..., None]  # [N, K / G, G]
    return w.view(q.shape)

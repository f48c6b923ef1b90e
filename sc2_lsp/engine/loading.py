"""Loading a StarCoder2 model safely: local folder, hub id, embedded or random.

Every path goes through `from_pretrained` with safetensors only, no remote code
and no network unless the user opted in, so the embedded model is loaded by
exactly the code that loads `bigcode/starcoder2-3b` on a user's machine.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..config import ModelSpec, choices
from .architectures import random_config
from .errors import ModelLoadError
from .quantize import PACKED_QUANTS, fallback, quantize_model

log = logging.getLogger(__name__)

Progress = Callable[[int, str], None]
EMBEDDED_NAME = "sc2-mini"
# int4, int8-torch: torch-native weight-only (quantize.py); int8, nf4: bitsandbytes.
# auto: the fastest exact-enough choice for the device and the model's size.
QUANTS = choices("quant")
BNB_QUANTS = ("int8", "nf4")
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
DEVICES = choices("device")


@dataclass
class LoadedModel:
    model: torch.nn.Module
    tokenizer: object
    name: str
    device: str
    dtype: torch.dtype
    quant: str
    notes: list[str] = field(default_factory=list)  # fallbacks the user should hear about

    @property
    def footprint_mb(self) -> float:
        return self.model.get_memory_footprint() / 2**20


def embedded_model_path() -> Path:
    """The shipped default model: in the installed wheel, else in the checkout's `model/`."""
    candidates = [
        Path(__file__).resolve().parent.parent / "_model",
        Path(__file__).resolve().parents[2] / "model" / EMBEDDED_NAME,
    ]
    for path in candidates:
        if (path / "tokenizer.json").exists():
            return path
    return candidates[-1]


def resolve_model_name(model: str | None) -> str:
    return model or os.environ.get("SC2_MODEL") or str(embedded_model_path())


def load_model(spec: ModelSpec, progress: Progress | None = None) -> LoadedModel:
    """Load the model and tokenizer named by `spec`, reporting progress as (percent, message)."""
    report = progress or (lambda pct, msg: None)
    name = resolve_model_name(spec.model)
    notes: list[str] = []
    device = _resolve_device(spec.device, notes)
    quant = _resolve_quant(spec.quant, device, notes)
    report(5, f"loading {name}")
    if name.startswith("random:"):
        loaded = _load_random(name, spec, device, quant, notes, report)
    else:
        loaded = _load_pretrained(name, name, spec, device, quant, notes, report)
    loaded.model.eval()
    _set_threads(spec.threads, loaded.model)
    report(100, f"{loaded.name} ready on {device}")
    for note in notes:
        log.warning(note)
    return loaded


SMALL_MODEL_PARAMS = 50_000_000


def _set_threads(threads: int, model: torch.nn.Module) -> None:
    """CPU threads: as asked, else one for small models, torch's default for large ones.

    A small model's steps are too short to split across cores; with other work on
    the machine, the threads of one step wait on each other (measured here: one
    generate of the embedded model, 12.7 s with 2 threads on a loaded machine, 1.0 s
    with 1)."""
    if threads <= 0:
        small = sum(p.numel() for p in model.parameters()) < SMALL_MODEL_PARAMS
        threads = 1 if small else 0
    if threads > 0:
        torch.set_num_threads(threads)


def _resolve_device(device: str, notes: list[str]) -> str:
    if device not in DEVICES:
        raise ModelLoadError(f"unknown device '{device}' (choose {', '.join(DEVICES)})")
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if device == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if (device == "cuda" and not cuda) or (device == "mps" and not mps):
        notes.append(f"device '{device}' is not available here; using cpu")
        return "cpu"
    return device


def _resolve_quant(quant: str, device: str, notes: list[str]) -> str:
    if quant not in QUANTS:
        raise ModelLoadError(f"unknown quantization '{quant}' (choose {', '.join(QUANTS)})")
    if quant in ("none", "auto"):
        return quant
    if device == "mps":
        notes.append(f"quantization '{quant}' is not supported on mps; loading unquantized")
        return "none"
    if quant in PACKED_QUANTS:
        return quant
    try:
        import bitsandbytes  # noqa: F401
    except Exception as exc:  # an absent or broken native library
        notes.append(f"bitsandbytes is unavailable ({exc}); loading unquantized")
        return "none"
    return quant


def _auto_quant(quant: str, device: str, n_params: int) -> str:
    """`auto`: int4 for a large model on a CPU, where decoding is bound by reading the
    weights and int4 reads a quarter of bf16's bytes; else unquantized (a small model's
    step is Python overhead, and exact weights cost nothing there)."""
    if quant != "auto":
        return quant
    return "int4" if device == "cpu" and n_params > SMALL_MODEL_PARAMS else "none"


def _pack(model, quant: str, notes: list[str], report: Progress) -> str:
    """Quantize in place with a torch-native kind (or its fallback); the kind applied."""
    if quant not in PACKED_QUANTS:
        return quant
    if quant == "int4" and model.device.type == "cpu":
        report(40, "preparing the int4 kernel (built once per machine)")
    kind, said = fallback(model, quant, model.device.type)
    notes += said
    if kind != "none":
        quantize_model(model, kind, report)
    return kind


def _resolve_dtype(requested: str, device: str, n_params: int) -> torch.dtype:
    """`auto`: bf16 where it pays (large models, bf16-capable hardware), else fp32.

    Small models (the embedded one) run faster in fp32 on CPU: their cost is
    Python overhead, not memory bandwidth.
    """
    if requested != "auto":
        if requested not in DTYPES:
            raise ModelLoadError(f"unknown dtype '{requested}' (choose auto, {', '.join(DTYPES)})")
        return DTYPES[requested]
    if device == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.bfloat16 if n_params > 300_000_000 and _cpu_has_bf16() else torch.float32


def _cpu_has_bf16() -> bool:
    try:
        return bool(torch.backends.cpu.get_cpu_capability() in ("AVX512", "AMX")) or bool(
            torch.cpu._is_avx512_bf16_supported()
        )
    except AttributeError:
        return False


def _estimate_params(config) -> int:
    h, i, n, v = (config.hidden_size, config.intermediate_size,
                  config.num_hidden_layers, config.vocab_size)
    return n * (4 * h * h + 2 * h * i) + v * h


def _quantization_config(quant: str, dtype: torch.dtype):
    from transformers import BitsAndBytesConfig

    if quant == "int8":
        return BitsAndBytesConfig(load_in_8bit=True)
    compute = torch.bfloat16 if dtype != torch.float16 else torch.float16
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                              bnb_4bit_compute_dtype=compute)


def load_tokenizer(source: str, local_only: bool):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(source, local_files_only=local_only,
                                             trust_remote_code=False)
    except Exception as exc:
        raise ModelLoadError(f"cannot load the tokenizer from '{source}': {_short(exc)}") from exc


def _load_pretrained(source: str, name: str, spec: ModelSpec, device: str, quant: str,
                     notes: list[str], report: Progress, tokenizer_source: str | None = None
                     ) -> LoadedModel:
    from transformers import AutoConfig, AutoModelForCausalLM

    local_only = not (spec.allow_download or os.environ.get("SC2_ALLOW_DOWNLOAD") == "1")
    _check_source(source, local_only)
    try:
        config = AutoConfig.from_pretrained(source, local_files_only=local_only,
                                            trust_remote_code=False)
    except Exception as exc:
        raise ModelLoadError(f"cannot read the model config at '{source}': {_short(exc)}") from exc
    if getattr(config, "model_type", None) != "starcoder2":
        raise ModelLoadError(f"'{source}' is a {config.model_type} model, not StarCoder2")
    quant = _auto_quant(quant, device, _estimate_params(config))
    dtype = _resolve_dtype(spec.dtype, device, _estimate_params(config))
    report(20, "reading weights")
    kwargs = dict(dtype=dtype, use_safetensors=True, trust_remote_code=False,
                  local_files_only=local_only)
    if quant in BNB_QUANTS:
        kwargs["quantization_config"] = _quantization_config(quant, dtype)
        kwargs["device_map"] = device
    try:
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except Exception as exc:
        raise ModelLoadError(f"cannot load the weights at '{source}': {_short(exc)}") from exc
    if quant not in BNB_QUANTS:
        model.to(device)
        quant = _pack(model, quant, notes, report)
    report(85, "loading tokenizer")
    tokenizer = load_tokenizer(tokenizer_source or source, local_only)
    return LoadedModel(model, tokenizer, name, device, dtype, quant, notes)


def _check_source(source: str, local_only: bool) -> None:
    """A path that looks local must be a complete safetensors checkpoint; name it if not."""
    path = Path(source).expanduser()
    looks_local = path.exists() or source.startswith((".", "/", "~")) or source.count("/") > 1
    if not looks_local:
        if local_only and not _in_hub_cache(source):
            raise ModelLoadError(
                f"model '{source}' is not in the local Hugging Face cache and downloads are off "
                "(set SC2_ALLOW_DOWNLOAD=1 to allow, or pass a local folder)")
        return
    if not path.is_dir():
        raise ModelLoadError(f"model folder '{path}' does not exist")
    if not (path / "config.json").exists():
        raise ModelLoadError(f"model folder '{path}' has no config.json")
    if not list(path.glob("*.safetensors")):
        raise ModelLoadError(f"model folder '{path}' has no .safetensors weights "
                             "(pickle checkpoints are refused)")


def _in_hub_cache(repo_id: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)


def _load_random(name: str, spec: ModelSpec, device: str, quant: str, notes: list[str],
                 report: Progress) -> LoadedModel:
    """Random weights (fixed seed) with the real architecture, the embedded tokenizer.

    bitsandbytes-quantized random models are saved to a temporary safetensors folder
    and loaded back, so they are quantized by the same path as a real checkpoint; the
    torch-native kinds quantize the loaded model in place on either path.
    """
    from transformers import Starcoder2ForCausalLM

    tokenizer_source = str(embedded_model_path())
    tokenizer = load_tokenizer(tokenizer_source, True)
    config = random_config(name.removeprefix("random:"), vocab_size=len(tokenizer))
    quant = _auto_quant(quant, device, _estimate_params(config))
    dtype = _resolve_dtype(spec.dtype, device, _estimate_params(config))
    report(15, "initialising random weights")
    torch.manual_seed(0)
    model = Starcoder2ForCausalLM._from_config(config, dtype=dtype)  # no fp32 copy first
    if quant not in BNB_QUANTS:
        model.to(device)
        quant = _pack(model, quant, notes, report)
        return LoadedModel(model, tokenizer, name, device, dtype, quant, notes)
    with tempfile.TemporaryDirectory(prefix="sc2-random-") as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        del model
        return _load_pretrained(tmp, name, spec, device, quant, notes, report,
                                tokenizer_source=tokenizer_source)


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

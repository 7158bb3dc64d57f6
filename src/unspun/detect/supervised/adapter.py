"""Low-rank adapters (LoRA, trained with peft) on the encoder blocks the detector pools: a
fine-tuning cheap enough for a CPU, whose trained weights are small enough to ship with a detector.

Training sees the same pooled representation the head reads (mean of each pooled block, each
normalised), so the adapter learns what separates the labels in exactly those vectors. At load
time the low-rank updates are merged into the encoder's weights (W + alpha/r * B @ A) without
importing peft, so a detector with an adapter costs nothing extra to run.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from unspun.detect.supervised.finetune import training_batches
from unspun.errors import ConfigError
from unspun.models.encoder import load_token_encoder

ADAPTER_DIR = "adapter"
WEIGHTS_FILE = "adapter_model.safetensors"
# Rank 0 means full rank: every weight of the adapted blocks is trained and the difference to the
# encoder's own weights is saved (float16), so the file is the project's trained update, never the
# encoder's weights themselves.
DELTA_FILE = "delta.safetensors"
DELTA_FORMAT = "unspun.block-delta/1"
DELTA_LEARNING_RATE = 1e-4
RANK = 16
ALPHA = 32
EPOCHS = 2
BATCH_SIZE = 16
LEARNING_RATE = 5e-4
# Training windows are shorter than scoring windows: the cost grows with the length, and the first
# 128 tokens of a text already carry its style (benchmarks/detector_generalisation.py --adapt).
TRAIN_LENGTH = 128
# Cosine of pooled unit vectors lies in -1..1; the scale gives the linear layer logits of a useful
# size from the first step.
SCALE = 8.0
TARGET_MODULES = ["query", "key", "value", "dense"]


def adapted_blocks(layers: Sequence[int]) -> list[int]:
    """Blocks (0-based) that produce the pooled hidden states ``layers`` (hidden state k is the
    output of block k-1), and every block between them."""
    low, high = min(layers), max(layers)
    return list(range(max(0, low - 1), high))


def train_adapter(
    model_id: str,
    texts: Sequence[str],
    labels: np.ndarray,
    layers: Sequence[int],
    out_dir: Path,
    *,
    epochs: int = EPOCHS,
    max_length: int = TRAIN_LENGTH,
    device: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    seed: int = 0,
    rank: int = RANK,
    learning_rate: float | None = None,
) -> Path:
    """Train LoRA adapters on the pooled blocks of ``model_id`` to separate ``labels`` (True =
    machine); save them in ``out_dir`` (peft's format) and return it. The update's scale
    (alpha / rank) stays ALPHA / RANK whatever the rank. ``rank=0`` trains the blocks' weights in
    full and saves their difference to the encoder's weights (DELTA_FILE)."""
    import torch

    torch.manual_seed(seed)
    tokenizer, model = load_token_encoder(model_id)
    blocks = getattr(getattr(model, "encoder", None), "layer", None)
    if blocks is None:
        raise ConfigError(f"{model_id}: adapters need a BERT-like encoder (model.encoder.layer)")
    layers = [int(x) for x in layers]
    model.encoder.layer = blocks[: max(layers)]  # blocks above the pooled ones never matter
    if rank > 0:
        trained = _with_lora(model, model_id, layers, rank)
        original = {}
    else:
        trained = model
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        for block in adapted_blocks(layers):
            for parameter in model.encoder.layer[block].parameters():
                parameter.requires_grad_(True)
        original = {
            name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad
        }
    if learning_rate is None:
        learning_rate = LEARNING_RATE if rank > 0 else DELTA_LEARNING_RATE
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    width = int(model.config.hidden_size)
    classifier = torch.nn.Linear(width * len(layers), 1)
    trained.to(device).train()
    classifier.to(device).train()
    parameters = [p for p in trained.parameters() if p.requires_grad]
    parameters += list(classifier.parameters())
    optimiser = torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=0.01)
    steps = max(1, epochs * ((len(texts) + BATCH_SIZE - 1) // BATCH_SIZE))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1 - step / steps)
    labels = np.asarray(labels, dtype=bool)
    share = float(labels.mean())
    if share in (0.0, 1.0):
        raise ConfigError("adapter training needs both human and machine texts")
    # Each class carries half of the loss, whatever the balance of the training data.
    class_weight = torch.tensor([0.5 / (1 - share), 0.5 / share], device=device)
    for step, (rows, batch) in enumerate(
        training_batches(
            tokenizer,
            texts,
            epochs=epochs,
            max_length=max_length,
            device=device,
            seed=seed,
            batch_size=BATCH_SIZE,
        ),
        start=1,
    ):
        states = trained(**batch, output_hidden_states=True).hidden_states
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = [pooled_unit(states[k], mask) for k in layers]
        logits = classifier(torch.cat(pooled, dim=-1) * SCALE).squeeze(-1)
        targets = torch.tensor(labels[rows], dtype=torch.float32, device=device)
        weights = class_weight[targets.long()]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, weight=weights)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimiser.step()
        schedule.step()
        if progress:
            progress("training adapters", step, steps)
    out_dir.mkdir(parents=True, exist_ok=True)
    trained.to("cpu")
    if rank > 0:
        trained.save_pretrained(str(out_dir))
        # peft also writes a model-card template; the detector's own files describe it.
        (out_dir / "README.md").unlink(missing_ok=True)
    else:
        _save_delta(model, original, model_id, out_dir)
    return out_dir


def _with_lora(model, model_id: str, layers: Sequence[int], rank: int):  # noqa: ANN001, ANN202
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=rank,
        lora_alpha=max(1, ALPHA * rank // RANK),
        lora_dropout=0.05,
        target_modules=TARGET_MODULES,
        layers_to_transform=adapted_blocks(layers),
        layers_pattern="layer",
        bias="none",
    )
    try:
        with warnings.catch_warnings():  # a deprecation notice between peft and transformers
            warnings.simplefilter("ignore", FutureWarning)
            return get_peft_model(model, config)
    except ValueError as exc:
        raise ConfigError(f"{model_id}: cannot place adapters: {exc}") from None


def _save_delta(model, original: dict, model_id: str, out_dir: Path) -> None:  # noqa: ANN001
    from safetensors.torch import save_file

    params = dict(model.named_parameters())
    deltas = {
        name: (params[name].detach() - before).half().contiguous()
        for name, before in original.items()
    }
    save_file(deltas, str(out_dir / DELTA_FILE))
    config = {"format": DELTA_FORMAT, "base_model": model_id, "parameters": len(deltas)}
    (out_dir / "adapter_config.json").write_text(json.dumps(config, indent=1) + "\n")


def weights_file(adapter_dir: Path) -> Path:
    """The file holding an adapter's trained weights (low-rank or full-rank delta)."""
    delta = adapter_dir / DELTA_FILE
    return delta if delta.is_file() else adapter_dir / WEIGHTS_FILE


def pooled_unit(hidden, mask):  # noqa: ANN001, ANN201
    """Mean of the unmasked token vectors, scaled to unit length (torch tensors)."""
    summed = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
    return summed / summed.norm(dim=-1, keepdim=True).clamp(min=1e-6)


def merge_adapter(model, adapter_dir: Path) -> int:  # noqa: ANN001
    """Add the trained low-rank updates in ``adapter_dir`` into ``model``'s linear weights; return
    how many layers were updated. Raises ConfigError when the files do not fit the model."""
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
        tensors = load_file(str(weights_file(adapter_dir)))
        if config.get("format") == DELTA_FORMAT:
            return _add_delta(model, tensors, adapter_dir)
        scale = float(config["lora_alpha"]) / float(config["r"])
    except (OSError, ValueError, KeyError, AttributeError, SafetensorError) as exc:
        raise ConfigError(f"{adapter_dir} is not a readable adapter: {exc}") from None
    modules = dict(model.named_modules())
    merged = 0
    for key, down in tensors.items():
        if not key.endswith(".lora_A.weight"):
            continue
        prefix = key[: -len(".lora_A.weight")]
        up = tensors.get(f"{prefix}.lora_B.weight")
        # peft names modules from the wrapped model: "base_model.model.<name in the model>".
        name = prefix.removeprefix("base_model.model.")
        target = modules.get(name)
        if up is None or target is None or not isinstance(target, torch.nn.Linear):
            raise ConfigError(f"{adapter_dir}: adapter layer {name!r} does not fit this encoder")
        update = (up.float() @ down.float()) * scale
        if update.shape != target.weight.shape:
            raise ConfigError(f"{adapter_dir}: adapter layer {name!r} has the wrong shape")
        with torch.no_grad():
            target.weight += update.to(target.weight.dtype)
        merged += 1
    if not merged:
        raise ConfigError(f"{adapter_dir}: the adapter holds no layers")
    return merged


def _add_delta(model, tensors: dict, adapter_dir: Path) -> int:  # noqa: ANN001
    import torch

    params = dict(model.named_parameters())
    for name, delta in tensors.items():
        target = params.get(name)
        if target is None or target.shape != delta.shape:
            raise ConfigError(f"{adapter_dir}: delta {name!r} does not fit this encoder")
    if not tensors:
        raise ConfigError(f"{adapter_dir}: the adapter holds no layers")
    with torch.no_grad():
        for name, delta in tensors.items():
            params[name] += delta.to(params[name].dtype)
    return len(tensors)

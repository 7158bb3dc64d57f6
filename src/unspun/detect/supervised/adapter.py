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
) -> Path:
    """Train LoRA adapters on the pooled blocks of ``model_id`` to separate ``labels`` (True =
    machine); save them in ``out_dir`` (peft's format) and return it."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    tokenizer, model = load_token_encoder(model_id)
    blocks = getattr(getattr(model, "encoder", None), "layer", None)
    if blocks is None:
        raise ConfigError(f"{model_id}: adapters need a BERT-like encoder (model.encoder.layer)")
    layers = [int(x) for x in layers]
    model.encoder.layer = blocks[: max(layers)]  # blocks above the pooled ones never matter
    config = LoraConfig(
        r=RANK,
        lora_alpha=ALPHA,
        lora_dropout=0.05,
        target_modules=TARGET_MODULES,
        layers_to_transform=adapted_blocks(layers),
        layers_pattern="layer",
        bias="none",
    )
    try:
        with warnings.catch_warnings():  # a deprecation notice between peft and transformers
            warnings.simplefilter("ignore", FutureWarning)
            peft_model = get_peft_model(model, config)
    except ValueError as exc:
        raise ConfigError(f"{model_id}: cannot place adapters: {exc}") from None
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    width = int(model.config.hidden_size)
    classifier = torch.nn.Linear(width * len(layers), 1)
    peft_model.to(device).train()
    classifier.to(device).train()
    parameters = [p for p in peft_model.parameters() if p.requires_grad]
    parameters += list(classifier.parameters())
    optimiser = torch.optim.AdamW(parameters, lr=LEARNING_RATE, weight_decay=0.01)
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
        states = peft_model(**batch, output_hidden_states=True).hidden_states
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
    peft_model.to("cpu").save_pretrained(str(out_dir))
    # peft also writes a model-card template; the detector's own files describe it.
    (out_dir / "README.md").unlink(missing_ok=True)
    return out_dir


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
        tensors = load_file(str(adapter_dir / WEIGHTS_FILE))
        scale = float(config["lora_alpha"]) / float(config["r"])
    except (OSError, ValueError, KeyError, SafetensorError) as exc:
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

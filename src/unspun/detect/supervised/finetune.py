"""Full fine-tuning of the encoder (mean pooling + linear layer) before the head is fitted: the
stronger option for users with a GPU; it runs on CPU but slowly, so ``train`` picks it on GPU."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from unspun.models.encoder import load_token_encoder

EPOCHS = 2
BATCH_SIZE = 16
LEARNING_RATE = 2e-5


def fine_tune_encoder(
    model_id: str,
    texts: Sequence[str],
    labels: np.ndarray,
    out_dir: Path,
    *,
    device: str | None = None,
    max_length: int = 256,
    epochs: int = EPOCHS,
    progress: Callable[[str, int, int], None] | None = None,
    seed: int = 0,
) -> Path:
    """Fine-tune ``model_id`` to separate the labels; save model and tokenizer in ``out_dir``."""
    import torch

    torch.manual_seed(seed)
    tokenizer, encoder = load_token_encoder(model_id)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    classifier = torch.nn.Linear(encoder.config.hidden_size, 1)
    encoder.to(device).train()
    classifier.to(device).train()
    parameters = list(encoder.parameters()) + list(classifier.parameters())
    optimiser = torch.optim.AdamW(parameters, lr=LEARNING_RATE, weight_decay=0.01)
    use_bf16 = device.startswith("cuda") and torch.cuda.is_bf16_supported()
    targets = torch.tensor(np.asarray(labels, dtype=np.float32))
    positives = float(targets.sum())
    pos_weight = torch.tensor((len(targets) - positives) / max(1.0, positives), device=device)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    steps = epochs * ((len(texts) + BATCH_SIZE - 1) // BATCH_SIZE)
    for step, (rows, batch) in enumerate(
        training_batches(
            tokenizer, texts, epochs=epochs, max_length=max_length, device=device, seed=seed
        ),
        start=1,
    ):
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_bf16):
            hidden = encoder(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            logits = classifier(pooled.float()).squeeze(-1)
        loss = loss_fn(logits, targets[rows].to(device))
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimiser.step()
        if progress:
            progress("fine-tuning encoder", step, steps)
    encoder.eval().to("cpu")
    out_dir.mkdir(parents=True, exist_ok=True)
    encoder.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def training_batches(
    tokenizer,  # noqa: ANN001
    texts: Sequence[str],
    *,
    epochs: int,
    max_length: int,
    device: str,
    seed: int,
    batch_size: int = BATCH_SIZE,
) -> Iterator[tuple[np.ndarray, Any]]:
    """(row indices, tokenised batch on ``device``) for each step of ``epochs`` shuffled passes."""
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(texts))
        for begin in range(0, len(order), batch_size):
            rows = order[begin : begin + batch_size]
            batch = tokenizer(
                [texts[i] for i in rows],
                truncation=True,
                max_length=max_length,
                padding=True,
                return_tensors="pt",
            ).to(device)
            yield rows, batch

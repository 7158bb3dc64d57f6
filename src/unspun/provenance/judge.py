"""The claim judge: a cross-encoder that reads (source evidence, claim) and says whether the
evidence supports the claim, says nothing about it, or contradicts it.

It is the packaged all-MiniLM-L6-v2 reading both texts in one pass, with low-rank updates on every
linear layer of its six blocks and a three-way head, trained by ``unspun train --kind claims``
(provenance/judge_train.py) on FactCC-style rule changes of human news sentences, a current model's
rewrites aligned with their originals, and pairs written for the project. Only the trained updates
and the head ship (src/unspun/data/claims-judge/, under 1 MB); the base weights come from the
packaged MiniLM. At load time the updates are merged into the weights, so the judge costs one
MiniLM forward pass per claim.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from unspun.errors import ModelUnavailable

JUDGE_DIR = Path(__file__).resolve().parent.parent / "data" / "claims-judge"
WEIGHTS_FILE = "judge.safetensors"
CONFIG_FILE = "judge.json"
FORMAT = "unspun.claim-judge/1"
LABELS = ("entailment", "neutral", "contradiction")
# The linear layers of a BERT block that get low-rank updates (module names inside each block).
TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
MAX_LENGTH = 128
BATCH_SIZE = 16


def pair_inputs(tokenizer, pairs: Sequence[tuple[str, str]], max_length: int = MAX_LENGTH):  # noqa: ANN001, ANN201
    """Tokenised (evidence, claim) pairs; the longer of the two is cut when the pair is too long."""
    return tokenizer(
        [premise for premise, _ in pairs],
        [claim for _, claim in pairs],
        truncation="longest_first" if max_length else False,
        max_length=max_length,
        padding=True,
        return_tensors="pt",
    )


def pooled(hidden, mask):  # noqa: ANN001, ANN201
    """The [CLS] vector next to the mean of the token vectors: what the head reads."""
    import torch

    weights = mask.unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)
    return torch.cat([hidden[:, 0], mean], dim=-1)


class ClaimJudge:
    """The trained judge; ``probabilities`` gives P(entailment, neutral, contradiction) per pair."""

    def __init__(self, directory: Path = JUDGE_DIR) -> None:
        import torch
        from safetensors.torch import load_file

        from unspun.models.encoder import load_token_encoder

        directory = Path(directory)
        try:
            config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
            tensors = load_file(str(directory / WEIGHTS_FILE))
        except (OSError, ValueError) as exc:
            raise ModelUnavailable(f"claim judge in {directory} cannot be read: {exc}") from None
        if config.get("format") != FORMAT:
            raise ModelUnavailable(f"claim judge in {directory} has an unknown format")
        self.config = config
        self.version = str(config.get("version", "?"))
        self.thresholds: dict[str, float] = dict(config.get("thresholds", {}))
        self.max_length = int(config.get("max_length", MAX_LENGTH))
        self.tokenizer, self.model = load_token_encoder(config["base_model"])
        scale = float(config["alpha"]) / float(config["rank"])
        with torch.no_grad():
            for name, module in self.model.named_modules():
                a = tensors.get(f"{name}.lora_a")
                if a is None:
                    continue
                b = tensors[f"{name}.lora_b"]
                module.weight += scale * (b.float() @ a.float())
        self.head = torch.nn.Linear(tensors["head.weight"].shape[1], len(LABELS))
        with torch.no_grad():
            self.head.weight.copy_(tensors["head.weight"].float())
            self.head.bias.copy_(tensors["head.bias"].float())
        self.model.eval()
        self.head.eval()
        self._lock = threading.Lock()

    def probabilities(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """(n, 3) probabilities of entailment, neutral and contradiction, in the order given."""
        import torch

        if not pairs:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
        with self._lock, torch.inference_mode():
            for begin in range(0, len(order), BATCH_SIZE):
                rows = order[begin : begin + BATCH_SIZE]
                batch = pair_inputs(self.tokenizer, [pairs[i] for i in rows], self.max_length)
                hidden = self.model(**batch).last_hidden_state
                logits = self.head(pooled(hidden, batch["attention_mask"]))
                out[rows] = torch.softmax(logits.float(), dim=-1).numpy()
        return out


@lru_cache(maxsize=2)
def packaged_judge(directory: str = str(JUDGE_DIR)) -> ClaimJudge:
    """The judge that ships with unspun, loaded once per process."""
    return ClaimJudge(Path(directory))

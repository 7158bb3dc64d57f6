"""A standardised logistic-regression head over [embedding, style features], stored as plain arrays
(no pickle) so a shipped head is small, inspectable and safe to load."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class LinearHead:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def logits(self, inputs: np.ndarray) -> np.ndarray:
        standardised = (np.asarray(inputs, dtype=np.float64) - self.mean) / self.scale
        # Each row summed on its own (not a BLAS matrix product, whose blocking can depend on the
        # number of rows): a text's logit is bit for bit the same whatever else is in the batch.
        return (standardised * self.coef).sum(axis=1) + self.intercept

    @classmethod
    def fit(
        cls,
        inputs: np.ndarray,
        labels: np.ndarray,
        *,
        regularisation: float = 0.05,
        sample_weight: np.ndarray | None = None,
    ) -> LinearHead:
        from sklearn.linear_model import LogisticRegression

        inputs = np.asarray(inputs, dtype=np.float64)
        mean = inputs.mean(axis=0)
        scale = inputs.std(axis=0)
        scale[scale < 1e-8] = 1.0
        model = LogisticRegression(C=regularisation, max_iter=2000, class_weight="balanced")
        model.fit((inputs - mean) / scale, labels.astype(int), sample_weight=sample_weight)
        return cls(mean, scale, model.coef_[0].astype(np.float64), float(model.intercept_[0]))

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}_mean": self.mean,
            f"{prefix}_scale": self.scale,
            f"{prefix}_coef": self.coef,
            f"{prefix}_intercept": np.asarray([self.intercept]),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> LinearHead:
        return cls(
            arrays[f"{prefix}_mean"],
            arrays[f"{prefix}_scale"],
            arrays[f"{prefix}_coef"],
            float(arrays[f"{prefix}_intercept"][0]),
        )


def save_heads(path: Path, **heads: LinearHead) -> None:
    arrays: dict[str, np.ndarray] = {}
    for prefix, head in heads.items():
        arrays.update(head.to_arrays(prefix))
    with path.open("wb") as handle:
        np.savez_compressed(handle, **arrays)


def load_heads(path: Path, *prefixes: str) -> list[LinearHead]:
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    return [LinearHead.from_arrays(arrays, prefix) for prefix in prefixes]

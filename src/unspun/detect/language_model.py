"""The language-model detector (unspun's default): one causal LM reads the text, the distributions
of its tokens' statistics become a few numbers (``lmfeatures``), and a small logistic head trained
by ``unspun train --kind language-model`` weighs them. Only the head and its calibration are
shipped; the model is the packaged Gemma 3 270M (or whichever LM the head was trained on)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from unspun.detect.lmfeatures import FEATURES, token_features
from unspun.detect.saved import (
    load_calibration,
    load_shipped,
    package_directory,
    read_trained,
    save_trained,
)
from unspun.detect.supervised.head import LinearHead
from unspun.detect.zeroshot.common import LMDetector
from unspun.detect.zeroshot.lm import TokenTable
from unspun.errors import ConfigError

KIND = "language-model"
# Tokens read per text: the beginning of an article carries the signal, and the cost of the
# 262k-word output layer grows with every token (2 cores: ~1.3 s for 256 tokens in float32).
DEFAULT_MAX_TOKENS = 256


class LanguageModelDetector(LMDetector):
    """Load with ``LanguageModelDetector.load(directory)``.

    The document score is the head's logit over the features of the text's first ``max_tokens``
    tokens (a stated truncation: reports carry ``tokens_not_scored``); a passage's score is the
    same head over its own tokens. The token evidence shown per word is the LM's, GLTR-style.
    The compute dtype (bfloat16 on CPUs that have it, else float32) is not part of the settings
    a calibration is tied to: benchmarks/lm_dtype.py measures that it does not change verdicts.
    """

    name = KIND
    needs_variance = True

    def __init__(
        self,
        directory: Path,
        config: dict[str, Any],
        head: LinearHead,
        *,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int | None = None,
    ) -> None:
        self.directory = directory
        self.config = config
        self.head = head
        window = int(config.get("max_length", DEFAULT_MAX_TOKENS))
        super().__init__(
            {"model": config["model"]},
            primary="model",
            # The model samples for itself (Fast-DetectGPT's variance feature): no second pass.
            reference="model",
            device=device,
            dtype=dtype,
            max_length=window,
            stride=max(1, window // 2),
            batch_size=batch_size,
            max_tokens=int(config.get("max_tokens", DEFAULT_MAX_TOKENS)),
        )
        self.version = str(config.get("version", "unversioned"))
        self.calibration = load_calibration(directory)

    @staticmethod
    def settings_of(config: dict[str, Any]) -> dict[str, Any]:
        """What a calibration of a detector with this ``detector.json`` is tied to."""
        return {
            "model": config["model"],
            "head": config["head_sha1"],
            "max_tokens": int(config.get("max_tokens", DEFAULT_MAX_TOKENS)),
            "max_length": int(config.get("max_length", DEFAULT_MAX_TOKENS)),
        }

    @property
    def settings(self) -> dict[str, Any]:
        return self.settings_of(self.config)

    def feature_settings(self) -> dict[str, Any]:
        """Everything that changes the features (the dtype too: bfloat16 moves the last digits)."""
        return {
            "model": self.primary.name,
            "dtype": self.primary.dtype_name,
            "max_tokens": self.max_tokens,
            "max_length": self.max_length,
            "stride": self.stride,
        }

    @property
    def dtype_name(self) -> str:
        return self.primary.dtype_name

    def features(self, texts: Sequence[str]) -> np.ndarray:
        """The head's input rows of ``texts``, as ``unspun train`` fits them."""
        return np.stack([self.table_features(t) for t in self.tables(list(texts))])

    def table_features(self, table: TokenTable) -> np.ndarray:
        return token_features(table, np.flatnonzero(~table.special))

    @property
    def head_columns(self) -> list[int]:
        """Which FEATURES the head reads (detector.json ``head_features``; default: all)."""
        names = self.config.get("head_features") or list(FEATURES)
        return [FEATURES.index(name) for name in names]

    def _reduce(self, table: TokenTable, index: np.ndarray) -> tuple[float, dict[str, float]]:
        values = token_features(table, index)
        if not np.isfinite(values).all():
            return float("nan"), {}
        logit = float(self.head.logits(values[None, self.head_columns])[0])
        shown = ("mean_logprob", "mean_log_rank", "mean_entropy", "fast_detectgpt")
        return logit, {name: float(values[FEATURES.index(name)]) for name in shown}

    def save(self, directory: Path) -> None:
        self.config = save_trained(
            directory, type(self), self.config, {"document": self.head}, self.calibration
        )

    @classmethod
    def load(
        cls,
        directory: Path,
        *,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int | None = None,
    ) -> LanguageModelDetector:
        """``device``, ``dtype``, ``batch_size``: how the model runs (the model, window and head
        are the trained ones)."""
        config, (head,) = read_trained(directory, cls, "document", name=KIND)
        unknown = set(config.get("head_features") or ()) - set(FEATURES)
        if list(config.get("features", [])) != list(FEATURES) or unknown:
            raise ConfigError(
                f"{directory}: trained on features {config.get('features')}, this unspun "
                f"computes {list(FEATURES)}; retrain it with this version"
            )
        return cls(directory, config, head, device=device, dtype=dtype, batch_size=batch_size)


def shipped_directory() -> Path:
    """The head trained by this project on ../shared/data/detect, shipped inside the package."""
    return package_directory(KIND)


def shipped_detector(
    *, device: str | None = None, dtype: str | None = None, batch_size: int | None = None
) -> LanguageModelDetector:
    """The language-model detector shipped with unspun (registry name ``language-model``)."""
    return load_shipped(
        LanguageModelDetector,
        shipped_directory(),
        KIND,
        device=device,
        dtype=dtype,
        batch_size=batch_size,
    )

"""What every language-model detector shares: model options, settings for calibration, saving and
loading, and turning per-token statistics into document, passage and token-level evidence."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from unspun.article.sentences import passage_windows
from unspun.detect.base import PassageScore, Scores, TokenEvidence
from unspun.detect.registry import DETECTOR_FILE, kind_matches, kind_of, write_detector_file
from unspun.detect.zeroshot.lm import TokenTable, check_window, token_tables
from unspun.errors import ConfigError
from unspun.models.causal import CausalLM, check_same_tokenizer, load_causal_lm

DEFAULT_MAX_LENGTH = 512


class LMDetector:
    """Base of the zero-shot detectors: holds the models and the window settings.

    Subclasses set ``name``, map each model role to the keyword parameter that names its model
    (``model_parameters``, so ``save`` can write the options that rebuild the detector) and
    implement ``_reduce``: the raw statistics of a set of scored tokens -> (score, raw values),
    higher = more machine. ``primary`` is the model whose log-probability, rank and entropy are
    shown per token.
    """

    name = "lm"
    version = "zeroshot/1"
    # Whether _reduce reads TokenTable.cross_var (it costs two more passes over the logits).
    needs_variance = False
    model_parameters: dict[str, str] = {}

    def __init__(
        self,
        models: dict[str, str],
        *,
        primary: str,
        reference: str | None = None,
        device: str | None = None,
        dtype: str | None = None,
        max_length: int | None = None,
        stride: int | None = None,
        batch_size: int | None = None,
        max_tokens: int | None = None,
    ) -> None:
        loaded = {
            role: load_causal_lm(mid, device=device, dtype=dtype) for role, mid in models.items()
        }
        first = next(iter(loaded.values()))
        for lm in loaded.values():
            check_same_tokenizer(first, lm)
            if lm.device != first.device:  # pragma: no cover - one device option for all models
                raise ConfigError("paired models must be on the same device")
        self.models: dict[str, CausalLM] = loaded
        self.primary = loaded[primary]
        self.reference = loaded[reference] if reference else None
        limits = [lm.max_positions for lm in loaded.values() if lm.max_positions]
        limit = min(limits) if limits else None
        self.max_length = int(max_length or min(DEFAULT_MAX_LENGTH, limit or DEFAULT_MAX_LENGTH))
        self.stride = int(stride or max(1, self.max_length // 2))
        check_window(self.max_length, self.stride, limit)
        # Texts per call to the models; each window still runs alone (see lm.py), so this only
        # bounds how much token evidence is held at once, never what a text scores.
        self.batch_size = int(batch_size or 8)
        if max_tokens is not None and max_tokens < 1:
            raise ConfigError(f"max_tokens must be at least 1, got {max_tokens}")
        self.max_tokens = max_tokens
        self._dtype_option = dtype

    @property
    def settings(self) -> dict[str, Any]:
        """Everything that changes a score: method, exact model names, dtype, window, stride."""
        return {
            "method": self.name,
            "models": {role: lm.name for role, lm in self.models.items()},
            "dtype": self.primary.dtype_name,
            "max_length": self.max_length,
            "stride": self.stride,
            **({"max_tokens": self.max_tokens} if self.max_tokens else {}),
        }

    def tables(self, texts: Sequence[str]) -> list[TokenTable]:
        tables: list[TokenTable] = []
        for begin in range(0, len(texts), self.batch_size):
            tables.extend(
                token_tables(
                    texts[begin : begin + self.batch_size],
                    self.primary,
                    self.reference,
                    max_length=self.max_length,
                    stride=self.stride,
                    variance=self.needs_variance,
                    max_tokens=self.max_tokens,
                )
            )
        return tables

    def score(self, texts: Sequence[str], *, passages: bool = True) -> list[Scores]:
        return [
            self.scores_from_table(text, table, passages=passages)
            for text, table in zip(texts, self.tables(list(texts)), strict=True)
        ]

    def scores_from_table(self, text: str, table: TokenTable, *, passages: bool = True) -> Scores:
        counted = np.flatnonzero(~table.special)
        document, raw = self._reduce(table, counted) if len(counted) else (float("nan"), {})
        raw = dict(raw)
        raw["tokens"] = float(len(counted))
        if table.truncated:
            raw["tokens_not_scored"] = float(table.truncated)
        passage_scores = self._passages(text, table, counted) if passages else []
        # Plain Python numbers first: converting numpy scalars one by one dominates otherwise.
        tokens = [
            TokenEvidence(start, end, text[start:end], logprob, rank, entropy)
            for start, end, logprob, rank, entropy in zip(
                table.starts[counted].tolist(),
                table.ends[counted].tolist(),
                table.logprob[counted].tolist(),
                table.rank[counted].tolist(),
                table.entropy[counted].tolist(),
                strict=True,
            )
        ]
        return Scores(document=float(document), passages=passage_scores, tokens=tokens, raw=raw)

    def _passages(self, text: str, table: TokenTable, counted: np.ndarray) -> list[PassageScore]:
        result = []
        starts = table.starts[counted]
        for start, end in passage_windows(text):
            inside = counted[(starts >= start) & (starts < end)]
            if len(inside):
                value, _ = self._reduce(table, inside)
                if np.isfinite(value):
                    result.append(PassageScore(start, end, float(value)))
        return result

    def _reduce(self, table: TokenTable, index: np.ndarray) -> tuple[float, dict[str, float]]:
        raise NotImplementedError

    def save(self, directory: Path) -> None:
        """A zero-shot detector has no trained state: save the options that rebuild it (the
        models by id or absolute path, the window and the dtype if one was chosen)."""
        options: dict[str, Any] = {
            parameter: self.models[role].name for role, parameter in self.model_parameters.items()
        }
        options.update(max_length=self.max_length, stride=self.stride, max_tokens=self.max_tokens)
        if self._dtype_option is not None:
            options["dtype"] = self._dtype_option
        data = {
            "kind": kind_of(type(self)),
            "name": self.name,
            "options": options,
            "settings": self.settings,
        }
        directory.mkdir(parents=True, exist_ok=True)
        write_detector_file(directory, data)

    @classmethod
    def load(
        cls,
        directory: Path,
        *,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int | None = None,
    ) -> LMDetector:
        """Rebuild a zero-shot detector from what ``save`` wrote; ``device``, ``dtype`` and
        ``batch_size`` say how the models run."""
        try:
            data = json.loads((directory / DETECTOR_FILE).read_text(encoding="utf-8"))
            options = dict(data["options"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{directory} is not a saved unspun detector: {exc}") from None
        if not kind_matches(data.get("kind"), cls):
            raise ConfigError(f"{directory} holds a {data.get('kind')!r} detector, not {cls.name}")
        if dtype is not None:
            options["dtype"] = dtype
        return cls(**options, device=device, batch_size=batch_size)

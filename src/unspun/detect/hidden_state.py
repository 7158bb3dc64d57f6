"""The hidden-state detector: a causal LM reads the text, the mean of its hidden states at a few
layers is the text's representation, and a logistic head trained on paired human and machine
news (``unspun train --kind hidden-state``) weighs it. The model runs only up to the deepest layer
the head reads, so neither the upper layers nor the 262k-word output layer are ever computed.

A passage's score is the same head over the mean of the passage's own tokens, so the highlights
say which part of the text moved the score. Only the head and its calibration are shipped; the
model is the packaged Gemma 3 270M."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from unspun.article.sentences import passage_windows
from unspun.detect.base import PassageScore, Scores
from unspun.detect.saved import (
    DETECTOR_FILE,
    load_calibration,
    load_shipped,
    package_directory,
    read_trained,
    save_trained,
)
from unspun.detect.supervised.head import LinearHead
from unspun.errors import ConfigError
from unspun.models.causal import CausalLM, load_causal_lm

KIND = "hidden-state"
# Tokens read per text: the whole of nearly every news article (a 600-word article is ~800
# tokens); the report says how many were left unread beyond it.
DEFAULT_MAX_TOKENS = 1024
DEFAULT_LAYERS = (6, 10, 12)


class _Reached(Exception):
    """Raised by a forward hook once the deepest wanted layer has run: the rest is not needed."""


class TokenStates:
    """Hidden states of one text's tokens at the detector's layers, float32 [tokens, layers x
    width] (the BOS token left out), with each token's character span in the scored text."""

    def __init__(self, states: np.ndarray, starts: np.ndarray, ends: np.ndarray, unread: int):
        self.states = states
        self.starts = starts
        self.ends = ends
        self.unread = unread

    def __len__(self) -> int:
        return len(self.states)

    def mean(self, index: np.ndarray | slice | None = None) -> np.ndarray:
        rows = self.states if index is None else self.states[index]
        return rows.mean(axis=0)


def read_states(lm: CausalLM, text: str, layers: Sequence[int], max_tokens: int) -> TokenStates:
    """One forward pass over the first ``max_tokens`` tokens of ``text``, stopped after the
    deepest of ``layers`` (1 = the first decoder layer's output). The text runs alone, unpadded,
    so its states do not depend on anything else being scored."""
    import torch

    encoded = lm.tokenizer(
        text,
        add_special_tokens=True,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        return_attention_mask=False,
        verbose=False,
    )
    ids = np.asarray(encoded["input_ids"], dtype=np.int64)
    offsets = np.asarray(encoded["offset_mapping"], dtype=np.int64).reshape(-1, 2)
    special = np.asarray(encoded["special_tokens_mask"], dtype=bool)
    used = min(len(ids), max_tokens + int(special[:1].any()))
    keep = np.flatnonzero(~special[:used])
    width = len(layers) * int(lm.model.config.hidden_size)
    if len(keep) == 0:
        empty = np.zeros((0, width), dtype=np.float32)
        return TokenStates(empty, np.zeros(0, np.int64), np.zeros(0, np.int64), len(ids) - used)
    base, blocks = decoder_blocks(lm)
    deepest = max(layers)
    if min(layers) < 1 or deepest > len(blocks):
        raise ConfigError(f"layers must be between 1 and {len(blocks)}, got {list(layers)}")
    captured: dict[int, Any] = {}

    def hook(number: int):  # noqa: ANN202
        def capture(_module, _inputs, output) -> None:  # noqa: ANN001
            captured[number] = output[0] if isinstance(output, tuple) else output
            if number == deepest:
                raise _Reached

        return capture

    handles = [blocks[n - 1].register_forward_hook(hook(n)) for n in sorted(set(layers))]
    try:
        with torch.inference_mode():
            row = torch.from_numpy(ids[:used]).unsqueeze(0).to(lm.device)
            with contextlib.suppress(_Reached):
                base(input_ids=row, use_cache=False)
    finally:
        for handle in handles:
            handle.remove()
    states = torch.cat([captured[n][0, keep] for n in layers], dim=-1).float().cpu().numpy()
    return TokenStates(states, offsets[keep, 0], offsets[keep, 1], len(ids) - used)


def decoder_blocks(lm: CausalLM) -> tuple[Any, Sequence[Any]]:
    """The base model (below the output layer) and its list of decoder blocks: ``layers`` in
    Llama/Gemma-style models, ``h`` in GPT-2-style ones."""
    base = getattr(lm.model, "base_model", lm.model)
    for name in ("layers", "h"):
        blocks = getattr(base, name, None)
        if blocks is not None:
            return base, blocks
    raise ConfigError(f"{lm.name}: cannot find its decoder layers (not a Llama/Gemma/GPT-2 model)")


class HiddenStateDetector:
    """Load with ``HiddenStateDetector.load(directory)`` or ``shipped_detector()``.

    The document score is the head's logit over the mean hidden state of the text's first
    ``max_tokens`` tokens; higher = more likely machine-written. A detector trained with
    generator families has one head per family (each fitted on all the human texts against that
    family's machine texts); its score is the largest of the heads' logits, each first put on a
    common scale by its own out-of-fold human scores (``(logit - shift) / spread``, shift = their
    99th percentile, spread = their standard deviation), so a text one family's style gives away
    is not averaged out by the others.
    """

    name = KIND

    def __init__(
        self,
        directory: Path,
        config: dict[str, Any],
        head: LinearHead | Sequence[LinearHead],
        *,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int | None = None,
    ) -> None:
        self.directory = directory
        self.config = config
        self.heads = [head] if isinstance(head, LinearHead) else list(head)
        families = config.get("families") or []
        if families and len(families) != len(self.heads):
            raise ConfigError(
                f"{directory}: {len(families)} generator families but {len(self.heads)} heads"
            )
        self.layers = tuple(int(n) for n in config.get("layers", DEFAULT_LAYERS))
        self.max_tokens = int(config.get("max_tokens", DEFAULT_MAX_TOKENS))
        if self.max_tokens < 1:
            raise ConfigError(f"max_tokens must be at least 1, got {self.max_tokens}")
        self.primary = load_causal_lm(config["model"], device=device, dtype=dtype)
        width = len(self.layers) * int(self.primary.model.config.hidden_size)
        for one in self.heads:
            if len(one.coef) not in (0, width):
                raise ConfigError(
                    f"{directory}: the head reads {len(one.coef)} values, but {config['model']} "
                    f"at layers {list(self.layers)} gives {width}; retrain it for this model"
                )
        # Texts are read one at a time (see read_states); kept for the detector interface.
        self.batch_size = int(batch_size or 8)
        self.version = str(config.get("version", "unversioned"))
        self.calibration = load_calibration(directory)

    @property
    def head(self) -> LinearHead:
        """The only head (a detector without generator families)."""
        if len(self.heads) != 1:
            raise ConfigError(f"{self.directory}: {len(self.heads)} heads; use logits()")
        return self.heads[0]

    @head.setter
    def head(self, value: LinearHead) -> None:
        self.heads = [value]

    def logits(self, means: np.ndarray) -> np.ndarray:
        """The score of each row of mean states: the head's logit, or with generator families
        the largest of the heads' logits, each on its human scores' scale."""
        families = self.config.get("families") or []
        if not families:
            return self.heads[0].logits(means)
        return np.max(
            [
                (one.logits(means) - float(family["shift"])) / float(family["spread"])
                for one, family in zip(self.heads, families, strict=True)
            ],
            axis=0,
        )

    @staticmethod
    def settings_of(config: dict[str, Any]) -> dict[str, Any]:
        """What a calibration of a detector with this ``detector.json`` is tied to."""
        return {
            "model": config["model"],
            "head": config["head_sha1"],
            "layers": [int(n) for n in config.get("layers", DEFAULT_LAYERS)],
            "max_tokens": int(config.get("max_tokens", DEFAULT_MAX_TOKENS)),
        }

    @property
    def settings(self) -> dict[str, Any]:
        return self.settings_of(self.config)

    def feature_settings(self) -> dict[str, Any]:
        """Everything that changes the pooled states (the dtype moves their last digits)."""
        return {
            "method": KIND,
            "model": self.primary.name,
            "dtype": self.primary.dtype_name,
            "layers": list(self.layers),
            "max_tokens": self.max_tokens,
        }

    @property
    def dtype_name(self) -> str:
        return self.primary.dtype_name

    def states(self, text: str) -> TokenStates:
        return read_states(self.primary, text, self.layers, self.max_tokens)

    def features(self, texts: Sequence[str]) -> np.ndarray:
        """The head's input rows (mean hidden states) of ``texts``, as training fits them."""
        width = len(self.layers) * int(self.primary.model.config.hidden_size)
        rows = []
        for text in texts:
            states = self.states(text)
            rows.append(states.mean() if len(states) else np.full(width, np.nan))
        return np.stack(rows) if rows else np.zeros((0, width))

    def score(self, texts: Sequence[str], *, passages: bool = True) -> list[Scores]:
        return [self._score(text, passages=passages) for text in texts]

    def _score(self, text: str, *, passages: bool) -> Scores:
        states = self.states(text)
        raw: dict[str, float] = {"tokens": float(len(states))}
        if states.unread:
            raw["tokens_not_scored"] = float(states.unread)
        if len(states) == 0:
            return Scores(document=float("nan"), raw=raw)
        document = float(self.logits(states.mean()[None, :])[0])
        found = self._passages(text, states) if passages else []
        return Scores(document=document, passages=found, tokens=None, raw=raw)

    def _passages(self, text: str, states: TokenStates) -> list[PassageScore]:
        result = []
        for start, end in passage_windows(text):
            inside = np.flatnonzero((states.starts >= start) & (states.starts < end))
            if len(inside):
                value = float(self.logits(states.mean(inside)[None, :])[0])
                result.append(PassageScore(start, end, value))
        return result

    def save(self, directory: Path) -> None:
        names = head_names(len(self.config.get("families") or []))
        self.config = save_trained(
            directory,
            type(self),
            self.config,
            dict(zip(names, self.heads, strict=True)),
            self.calibration,
        )

    @classmethod
    def load(
        cls,
        directory: Path,
        *,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int | None = None,
    ) -> HiddenStateDetector:
        """``device``, ``dtype``, ``batch_size``: how the model runs (the model, layers, window
        and head are the trained ones)."""
        try:
            families = json.loads((directory / DETECTOR_FILE).read_text("utf-8")).get("families")
        except (OSError, ValueError, AttributeError):
            families = None  # read_trained says what is wrong with the file
        names = head_names(len(families or []))
        config, heads = read_trained(directory, cls, *names, name=KIND)
        return cls(directory, config, heads, device=device, dtype=dtype, batch_size=batch_size)


def head_names(families: int) -> list[str]:
    """The heads' names in the saved file: ``document``, or ``family0``... with families."""
    return [f"family{k}" for k in range(families)] if families else ["document"]


def shipped_directory() -> Path:
    """The heads trained by this project on ../shared/data/detect, shipped inside the package."""
    return package_directory(KIND)


def shipped_detector(
    *, device: str | None = None, dtype: str | None = None, batch_size: int | None = None
) -> HiddenStateDetector:
    """The hidden-state detector shipped with unspun (registry name ``hidden-state``, the
    default)."""
    return load_shipped(
        HiddenStateDetector,
        shipped_directory(),
        KIND,
        device=device,
        dtype=dtype,
        batch_size=batch_size,
    )

"""The supervised detector: a frozen (or fine-tuned) encoder's pooled token embeddings plus style
features, read by a small logistic head; documents and passages are scored in one encoder pass."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from unspun.article.sentences import passage_windows
from unspun.detect.base import PassageScore, Scores
from unspun.detect.saved import (
    DETECTOR_FILE,
    file_sha1,
    load_calibration,
    read_trained,
    save_trained,
)
from unspun.detect.supervised.embedding import PoolingEncoder
from unspun.detect.supervised.features import log_length, style_features
from unspun.detect.supervised.head import LinearHead
from unspun.errors import ConfigError

NAME = "supervised"


def model_inputs(embeddings: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """The head's input rows: [embedding, style features, log word count] per text."""
    extra = np.stack(
        [np.concatenate([style_features(t), [log_length(t)]]).astype(np.float32) for t in texts]
    )
    return np.hstack([np.asarray(embeddings, dtype=np.float32), extra])


class SupervisedDetector:
    """Load with ``SupervisedDetector.load(directory)``; ``unspun train`` makes one."""

    name = NAME

    def __init__(
        self,
        directory: Path,
        config: dict[str, Any],
        document_head: LinearHead,
        passage_head: LinearHead,
        *,
        device: str | None = None,
        batch_size: int = 32,
        encoder: PoolingEncoder | None = None,
    ) -> None:
        self.directory = directory
        self.config = config
        self.document_head = document_head
        self.passage_head = passage_head
        self.batch_size = batch_size
        self._device = device
        self._encoder = encoder
        self.version = str(config.get("version", "unversioned"))
        self.calibration = load_calibration(directory)

    @property
    def settings(self) -> dict[str, Any]:
        return {"encoder": self.config["encoder"], "head": self.config["head_sha1"]}

    @property
    def encoder(self) -> PoolingEncoder:
        if self._encoder is None:
            from unspun.models import traced

            model_id = self.config["encoder"]
            local = self.directory / model_id
            settings = {
                "encoder": model_id,
                "local": traced.directory_fingerprint(local) if local.is_dir() else None,
                "adapter_sha1": self.config.get("adapter_sha1"),
                "max_length": int(self.config.get("max_length", 256)),
                "quantize": bool(self.config.get("quantize", False)),
                "layers": list(self.config.get("layers", (-1,))),
            }
            self._encoder = PoolingEncoder(
                str(local) if local.is_dir() else model_id,
                max_length=settings["max_length"],
                device=self._device,
                quantize=settings["quantize"],
                layers=tuple(settings["layers"]),
                adapter=str(self.directory / self.config["adapter"])
                if self.config.get("adapter")
                else None,
                cache_key=traced.cache_key(settings),
            )
        return self._encoder

    def score(self, texts: Sequence[str], *, passages: bool = True) -> list[Scores]:
        if not texts:
            return []
        per_passage = int(self.config.get("sentences_per_passage", 2))
        spans = [
            passage_windows(t, sentences_per_passage=per_passage) if passages else [] for t in texts
        ]
        pooled = self.encoder.pool(texts, spans, batch_size=self.batch_size)
        documents = self.document_head.logits(
            model_inputs(np.stack([p.document for p in pooled]), texts)
        )
        results = []
        for text, text_spans, pool, logit in zip(texts, spans, pooled, documents, strict=True):
            passage_scores: list[PassageScore] = []
            if text_spans:
                passage_texts = [text[s:e] for s, e in text_spans]
                logits = self.passage_head.logits(model_inputs(pool.passages, passage_texts))
                passage_scores = [
                    PassageScore(s, e, float(v))
                    for (s, e), v in zip(text_spans, logits, strict=True)
                ]
            results.append(
                Scores(
                    document=float(logit),
                    probability=float(1 / (1 + np.exp(-logit))),
                    passages=passage_scores,
                )
            )
        return results

    def save(self, directory: Path) -> None:
        # The adapter and a fine-tuned encoder live inside the trained directory: a copy
        # elsewhere needs them too.
        for part in (self.config.get("adapter"), self.config.get("encoder")):
            source = self.directory / part if part else None
            if (
                source is not None
                and source.is_dir()
                and source.resolve() != (directory / part).resolve()
            ):
                shutil.copytree(source, directory / part, dirs_exist_ok=True)
        self.config = save_trained(
            directory,
            type(self),
            self.config,
            {"document": self.document_head, "passage": self.passage_head},
            self.calibration,
        )

    @classmethod
    def load(
        cls, directory: Path, *, device: str | None = None, batch_size: int | None = None
    ) -> SupervisedDetector:
        """``device``, ``batch_size``: where and how many texts at once the encoder reads (the
        encoder and heads are the trained ones)."""
        config, (document_head, passage_head) = read_trained(
            directory, cls, "document", "passage", name=NAME, modified_hint=" (modified?)"
        )
        adapter = config.get("adapter")
        if adapter:
            from unspun.detect.supervised.adapter import weights_file

            weights = weights_file(directory / adapter)
            if not weights.is_file() or config.get("adapter_sha1") != file_sha1(weights):
                raise ConfigError(
                    f"{directory}: the adapter does not match {DETECTOR_FILE} "
                    "(missing or modified?)"
                )
        return cls(
            directory,
            config,
            document_head,
            passage_head,
            device=device,
            **({"batch_size": batch_size} if batch_size is not None else {}),
        )

"""The supervised detector: a frozen (or fine-tuned) encoder's pooled token embeddings plus style
features, read by a small logistic head; documents and passages are scored in one encoder pass."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from unspun.article.sentences import passage_windows
from unspun.detect.base import PassageScore, Scores
from unspun.detect.calibration import CALIBRATION_FILE, Calibration
from unspun.detect.supervised.embedding import PoolingEncoder
from unspun.detect.supervised.features import log_length, style_features
from unspun.detect.supervised.head import LinearHead, load_heads, save_heads
from unspun.errors import ConfigError

DETECTOR_FILE = "detector.json"
HEAD_FILE = "head.npz"
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
        calibration_path = directory / CALIBRATION_FILE
        self.calibration = (
            Calibration.load(calibration_path) if calibration_path.is_file() else None
        )

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
        directory.mkdir(parents=True, exist_ok=True)
        save_heads(directory / HEAD_FILE, document=self.document_head, passage=self.passage_head)
        config = dict(self.config, head_sha1=file_sha1(directory / HEAD_FILE))
        (directory / DETECTOR_FILE).write_text(
            json.dumps(config, indent=1) + "\n", encoding="utf-8"
        )
        self.config = config
        if self.calibration is not None:
            self.calibration.save(directory / CALIBRATION_FILE)

    @classmethod
    def load(cls, directory: Path, **options: Any) -> SupervisedDetector:
        try:
            config = json.loads((directory / DETECTOR_FILE).read_text(encoding="utf-8"))
            document_head, passage_head = load_heads(directory / HEAD_FILE, "document", "passage")
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(f"{directory} is not a trained unspun detector: {exc}") from None
        if config.get("kind") != "supervised":
            raise ConfigError(
                f"{directory} holds a {config.get('kind')!r} detector, not supervised"
            )
        if config.get("head_sha1") != file_sha1(directory / HEAD_FILE):
            raise ConfigError(
                f"{directory}: {HEAD_FILE} does not match {DETECTOR_FILE} (modified?)"
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
        allowed = {"device", "batch_size"}
        unknown = set(options) - allowed
        if unknown:
            raise ConfigError(
                f"the supervised detector does not take {', '.join(sorted(unknown))}; "
                "those options belong to the zero-shot detectors"
            )
        return cls(directory, config, document_head, passage_head, **options)


def file_sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()[:16]

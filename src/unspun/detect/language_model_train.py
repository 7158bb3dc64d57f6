"""Training the language-model detector: read every labelled text once with the LM (a feature cache
makes a re-run cheap), fit the logistic head, and calibrate it on out-of-fold human scores."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from unspun.detect.calibration import Calibration
from unspun.detect.data import LabelledText, pair_key
from unspun.detect.language_model import (
    DEFAULT_MAX_TOKENS,
    KIND,
    LanguageModelDetector,
)
from unspun.detect.lmfeatures import FEATURES
from unspun.detect.registry import write_detector_file
from unspun.detect.supervised.head import LinearHead
from unspun.errors import ConfigError, MalformedInput
from unspun.models.packaged import PACKAGED_LM

Progress = Callable[[str, int, int], None]
FOLDS = 5
# Few features and many texts: mild regularisation (sklearn's C) is enough.
REGULARISATION = 1.0


class FeatureCache:
    """Feature rows of texts already read with exactly these settings, in an append-only JSONL
    file under unspun's cache (a crashed run keeps what it finished). Keyed by the text's sha1."""

    def __init__(self, settings: dict[str, Any]) -> None:
        from unspun.models.traced import cache_root

        described = json.dumps({**settings, "features": list(FEATURES)}, sort_keys=True)
        key = hashlib.sha1(described.encode()).hexdigest()[:20]
        root = cache_root()
        self.path = root / "lm-features" / f"{key}.jsonl" if root is not None else None
        self.rows: dict[str, list[float]] = {}
        if self.path is not None and self.path.is_file():
            from unspun.jsonl import iter_lines, parse_line

            for line in iter_lines(self.path):
                try:
                    entry = parse_line(line, str(self.path))
                    self.rows[entry["sha1"]] = entry["features"]
                except (MalformedInput, KeyError, TypeError):
                    continue  # a line cut short by a crash

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def get(self, text: str) -> list[float] | None:
        return self.rows.get(self.key(text))

    def put(self, text: str, features: np.ndarray) -> None:
        sha1 = self.key(text)
        self.rows[sha1] = [float(x) for x in features]
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps({"sha1": sha1, "features": self.rows[sha1]}) + "\n")
        except OSError:
            self.path = None  # an unwritable cache only costs the next run its speed-up


def read_features(
    detector: LanguageModelDetector,
    texts: Sequence[str],
    *,
    progress: Progress | None = None,
) -> np.ndarray:
    cache = FeatureCache(detector.feature_settings())
    rows = []
    for done, text in enumerate(texts):
        cached = cache.get(text)
        if cached is None:
            cached = detector.features([text])[0]
            cache.put(text, cached)
        rows.append(np.asarray(cached, dtype=np.float64))
        if progress:
            progress("reading texts with the language model", done + 1, len(texts))
    return np.stack(rows) if rows else np.zeros((0, len(FEATURES)))


def out_of_fold_logits(
    features: np.ndarray, labels: np.ndarray, groups: Sequence[str], regularisation: float
) -> np.ndarray:
    """Each text's logit from a head that never saw its pair (GroupKFold)."""
    from sklearn.model_selection import GroupKFold

    scores = np.full(len(labels), np.nan)
    folds = min(FOLDS, len(set(groups)))
    for train, test in GroupKFold(n_splits=folds).split(features, labels, np.asarray(groups)):
        head = LinearHead.fit(features[train], labels[train], regularisation=regularisation)
        scores[test] = head.logits(features[test])
    return scores


def train_language_model(
    records: list[LabelledText],
    out_dir: Path,
    *,
    model: str = PACKAGED_LM,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    target_fpr: float = 0.01,
    device: str | None = None,
    regularisation: float = REGULARISATION,
    head_features: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Fit, calibrate and save a language-model detector in ``out_dir``; return a summary.

    The head is fitted on every text. Its calibration's human reference scores are cross-fitted:
    each human text is scored by a head trained on the other folds, never on its own pair
    (pairs never straddle folds), so the reference is as large as the human training data.
    """
    head_features = list(head_features or FEATURES)
    unknown = sorted(set(head_features) - set(FEATURES))
    if unknown or not head_features:
        raise ConfigError(
            f"unknown feature(s) {', '.join(unknown) or '(none given)'}: choose from "
            f"{', '.join(FEATURES)}"
        )
    columns = [FEATURES.index(name) for name in head_features]
    labels = np.asarray([r.is_machine for r in records])
    if len(set(labels.tolist())) < 2:
        raise ConfigError("training needs both 'human' and 'machine' examples")
    groups = [pair_key(r) for r in records]
    if len(set(groups)) < 2:
        raise ConfigError("training needs texts from at least two pairs")
    config: dict[str, Any] = {
        "kind": KIND,
        "name": KIND,
        "model": model,
        "max_tokens": max_tokens,
        "max_length": max_tokens,
        "features": list(FEATURES),
        "head_features": head_features,
        "regularisation": regularisation,
    }
    width = len(columns)
    placeholder = LinearHead(np.zeros(width), np.ones(width), np.zeros(width), 0.0)
    detector = LanguageModelDetector(
        out_dir, {**config, "head_sha1": ""}, placeholder, device=device
    )
    features = read_features(detector, [r.text for r in records], progress=progress)
    usable = np.isfinite(features).all(axis=1)
    if usable.sum() < len(records):
        features, labels = features[usable], labels[usable]
        groups = [g for g, keep in zip(groups, usable, strict=True) if keep]
        records = [r for r, keep in zip(records, usable, strict=True) if keep]
    if progress:
        progress("fitting the head", 0, 1)
    oof = out_of_fold_logits(features[:, columns], labels, groups, regularisation)
    head = LinearHead.fit(features[:, columns], labels, regularisation=regularisation)
    if progress:
        progress("fitting the head", 1, 1)
    detector.head = head
    detector.config = dict(
        config,
        trained=datetime.now(UTC).strftime("%Y-%m-%d"),
        training_data=_describe(records),
        coefficients=dict(zip(head_features, (round(float(c), 4) for c in head.coef), strict=True)),
    )
    detector.calibration = None
    detector.save(out_dir)
    config = detector.config
    config["version"] = f"{Path(model).name}-{config['trained']}-{config['head_sha1'][:8]}"
    write_detector_file(out_dir, config)
    humans = np.flatnonzero(~labels)
    calibration = Calibration(
        detector=KIND,
        settings=LanguageModelDetector.settings_of(config),
        human_scores=oof[humans].tolist(),
        reference="human news, encyclopedia, fiction and Q&A texts, each scored out of fold",
        human_domains=[records[i].domain for i in humans],
        meta={"target_fpr": target_fpr, "source": f"{FOLDS}-fold cross-fitted human texts"},
    )
    calibration.save(out_dir / "calibration.json")
    from sklearn.metrics import roc_auc_score

    lowest = math.ceil(1e6 / calibration.n) / 1e6
    threshold = calibration.threshold(target_fpr) if target_fpr * calibration.n >= 1 else None
    summary: dict[str, Any] = {
        "out": str(out_dir),
        "version": config["version"],
        "n_train": len(records),
        "out_of_fold_auroc": round(float(roc_auc_score(labels, oof)), 4),
        "threshold_logit": threshold,
        "calibration_human_texts": calibration.n,
        "lowest_target_fpr": lowest,
    }
    if threshold is not None:
        flagged = float((oof[labels] >= threshold).mean())
        summary["out_of_fold_tpr_at_target_fpr"] = round(flagged, 4)
    else:
        summary["warning"] = (
            f"{calibration.n} human texts cannot show a false-positive rate of {target_fpr:g}: "
            f"use --target-fpr {lowest:g} or more, or train on more human text"
        )
    return summary


def _describe(records: Sequence[LabelledText]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        key = f"{record.domain}/{record.generator if record.is_machine else 'human'}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))

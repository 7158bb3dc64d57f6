"""``unspun train``: fit the supervised detector on labelled JSONL, hold out pairs, calibrate."""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from unspun.article.sentences import passage_windows
from unspun.detect.calibration import Calibration
from unspun.detect.data import LabelledText, pair_key
from unspun.detect.registry import write_detector_file
from unspun.detect.supervised.adapter import ADAPTER_DIR, train_adapter, weights_file
from unspun.detect.supervised.augment import EDIT_SEED, EDITED_WEIGHT, edited_copy
from unspun.detect.supervised.embedding import PoolingEncoder
from unspun.detect.supervised.head import LinearHead
from unspun.detect.supervised.model import (
    NAME,
    SupervisedDetector,
    file_sha1,
    model_inputs,
)
from unspun.errors import ConfigError
from unspun.models.encoder import DEFAULT_ENCODER

Progress = Callable[[str, int, int], None]
HELDOUT_SHARE = 0.15
# With adapters the training texts' scores are biased low (the encoder has learned them), so the
# calibration rests on held-out humans alone: hold out more of them.
ADAPTED_HELDOUT_SHARE = 0.25
FOLDS = 5
REGULARISATION = 0.05
SENTENCES_PER_PASSAGE = 2


def default_layers(depth: int) -> tuple[int, ...]:
    """Hidden states pooled for the head: the middle of the encoder, (3, 4) for 6 blocks, (6, 8)
    for 12, (12, 16) for 24. They generalise best across generators and domains
    (benchmarks/detector_generalisation.py)."""
    return tuple(sorted({max(1, round(depth * 3 / 6)), max(1, round(depth * 4 / 6))}))


@dataclass
class Featurised:
    """Head inputs for a set of texts: one row per document, one per passage (with its owner).

    ``edited``: optional head inputs of an edited copy of each document (``augment.py``), NaN for
    documents without one; the document head trains on them next to the originals.
    """

    documents: np.ndarray
    passages: np.ndarray
    passage_owner: np.ndarray
    edited: np.ndarray | None = None


def featurise(
    encoder: PoolingEncoder,
    texts: Sequence[str],
    *,
    passages: bool = True,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> Featurised:
    documents, passage_rows, owners = [], [], []
    for begin in range(0, len(texts), batch_size):
        chunk = list(texts[begin : begin + batch_size])
        spans = [
            passage_windows(t, sentences_per_passage=SENTENCES_PER_PASSAGE) if passages else []
            for t in chunk
        ]
        pooled = encoder.pool(chunk, spans)
        documents.append(model_inputs(np.stack([p.document for p in pooled]), chunk))
        for offset, (text, text_spans, pool) in enumerate(zip(chunk, spans, pooled, strict=True)):
            if text_spans:
                passage_rows.append(model_inputs(pool.passages, [text[s:e] for s, e in text_spans]))
                owners.extend([begin + offset] * len(text_spans))
        if progress:
            progress("embedding texts", min(begin + batch_size, len(texts)), len(texts))
    width = documents[0].shape[1] if documents else 0
    return Featurised(
        documents=np.vstack(documents) if documents else np.zeros((0, width)),
        passages=np.vstack(passage_rows) if passage_rows else np.zeros((0, width)),
        passage_owner=np.asarray(owners, dtype=np.int64),
    )


def fit_heads(
    features: Featurised, labels: np.ndarray, rows: np.ndarray
) -> tuple[LinearHead, LinearHead]:
    """Fit the document head on ``rows`` and the passage head on those rows' passages."""
    document_head = fit_document_head(features, labels, rows)
    in_rows = np.isin(features.passage_owner, rows)
    if in_rows.sum() >= 10 and len(set(labels[features.passage_owner[in_rows]])) == 2:
        passage_head = LinearHead.fit(
            features.passages[in_rows],
            labels[features.passage_owner[in_rows]],
            regularisation=REGULARISATION,
        )
    else:  # too little text for passages: score passages with the document head
        passage_head = document_head
    return document_head, passage_head


def fit_document_head(features: Featurised, labels: np.ndarray, rows: np.ndarray) -> LinearHead:
    """The document head on ``rows``, plus the edited copies of those rows that have one, each
    weighted EDITED_WEIGHT."""
    inputs, targets = features.documents[rows], labels[rows]
    weights = np.ones(len(rows))
    if features.edited is not None:
        with_copy = rows[~np.isnan(features.edited[rows, 0])]
        inputs = np.vstack([inputs, features.edited[with_copy]])
        targets = np.concatenate([targets, labels[with_copy]])
        weights = np.concatenate([weights, np.full(len(with_copy), EDITED_WEIGHT)])
    return LinearHead.fit(inputs, targets, regularisation=REGULARISATION, sample_weight=weights)


def add_edited_copies(
    features: Featurised,
    encoder: PoolingEncoder,
    texts: Sequence[str],
    rows: np.ndarray,
    *,
    progress: Progress | None = None,
) -> None:
    """Featurise one edited copy (typos, dropped articles) of each text in ``rows``."""
    rng = random.Random(EDIT_SEED)
    copies = [edited_copy(texts[i], rng) for i in rows]
    edited = np.full(features.documents.shape, np.nan)
    if len(rows):
        edited[rows] = featurise(encoder, copies, passages=False, progress=progress).documents
    features.edited = edited


def is_heldout(key: str, share: float = HELDOUT_SHARE) -> bool:
    """Deterministic split by pair: a pair is always on the same side, whatever the file order."""
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def out_of_fold_logits(
    features: Featurised, labels: np.ndarray, groups: Sequence[str], rows: np.ndarray
) -> np.ndarray:
    """Document logits for ``rows``, each from a head that never saw its pair (GroupKFold)."""
    from sklearn.model_selection import GroupKFold

    scores = np.full(len(labels), np.nan)
    group_array = np.asarray(groups)[rows]
    folds = min(FOLDS, len(set(group_array)))
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(rows, labels[rows], group_array):
        head = fit_document_head(features, labels, rows[train_idx])
        scores[rows[test_idx]] = head.logits(features.documents[rows[test_idx]])
    return scores


def fit_platt(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e6, max_iter=1000).fit(logits.reshape(-1, 1), labels.astype(int))
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def train_detector(
    records: list[LabelledText],
    out_dir: Path,
    *,
    encoder: str = DEFAULT_ENCODER,
    fine_tune: bool | None = None,
    adapt: bool | None = None,
    target_fpr: float = 0.01,
    device: str | None = None,
    quantize: bool | None = None,
    max_length: int = 256,
    layers: Sequence[int] | None = None,
    augment: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train, calibrate and save a supervised detector in ``out_dir``; return a summary.

    ``augment``: the document head also trains on an edited copy (typos, dropped articles) of each
    training text (``augment.py``), so cheap word-level edits do not hide machine text.

    Pairs (a human text and the machine texts made from it) never straddle a split. About 15 % of
    pairs are held out: the summary's metrics come from them. The calibration's human reference
    scores are out-of-fold scores of the training humans plus the held-out humans' scores; with
    adapters (``adapt``, the default unless the whole encoder is fine-tuned) about 25 % of pairs
    are held out and the calibration uses the held-out texts only.
    """
    import torch

    labels = np.asarray([r.is_machine for r in records])
    if len(set(labels.tolist())) < 2:
        raise ConfigError("training needs both 'human' and 'machine' examples")
    has_gpu = torch.cuda.is_available() and device != "cpu"
    if fine_tune is None:
        fine_tune = has_gpu
    if adapt is None:
        adapt = not fine_tune
    if adapt and fine_tune:
        raise ConfigError("choose adapters or full fine-tuning, not both")
    groups = [pair_key(r) for r in records]
    share = ADAPTED_HELDOUT_SHARE if adapt else HELDOUT_SHARE
    heldout = np.asarray([is_heldout(g, share) for g in groups])
    if heldout.all() or (~heldout).sum() < 10 or len(set(labels[~heldout].tolist())) < 2:
        heldout[:] = False  # too little data to hold any out
    train_rows, heldout_rows = np.flatnonzero(~heldout), np.flatnonzero(heldout)
    if adapt and (len(heldout_rows) < 10 or len(set(labels[heldout_rows].tolist())) < 2):
        raise ConfigError(
            "too little data to calibrate an adapted detector on held-out pairs; "
            "train with --no-adapt"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    encoder_ref = encoder
    if fine_tune:
        from unspun.detect.supervised.finetune import fine_tune_encoder

        fine_tune_encoder(
            encoder,
            [records[i].text for i in train_rows],
            labels[train_rows],
            out_dir / "encoder",
            device=device,
            max_length=max_length,
            progress=progress,
        )
        encoder_ref = "encoder"
    if quantize is None:
        quantize = not has_gpu
    from transformers import AutoConfig

    from unspun.normalize import normalize

    source = str(out_dir / "encoder") if fine_tune else encoder
    if layers is None:
        layers = default_layers(_encoder_depth(source, AutoConfig))
    # Train on the text the pipeline will score: normalised (look-alikes, spacing, quotes).
    texts = [normalize(r.text).text for r in records]
    adapter = None
    if adapt:
        train_adapter(
            source,
            [texts[i] for i in train_rows],
            labels[train_rows],
            layers,
            out_dir / ADAPTER_DIR,
            device=device,
            progress=progress,
        )
        adapter = ADAPTER_DIR
    pooling = PoolingEncoder(
        source,
        max_length=max_length,
        device=device,
        quantize=quantize,
        layers=layers,
        adapter=str(out_dir / adapter) if adapter else None,
    )
    features = featurise(pooling, texts, progress=progress)
    if augment:
        add_edited_copies(features, pooling, texts, train_rows, progress=progress)
    if progress:
        progress("fitting heads", 0, 1)
    document_head, passage_head = fit_heads(features, labels, train_rows)
    final = document_head.logits(features.documents)
    if adapt:
        # Texts the adapter trained on score too confidently: calibrate on held-out pairs only.
        reference_rows = np.asarray([i for i in heldout_rows if not labels[i]], dtype=np.int64)
        human_reference = final[reference_rows]
        platt = fit_platt(final[heldout_rows], labels[heldout_rows])
    else:
        oof = out_of_fold_logits(features, labels, groups, train_rows)
        reference_rows = np.asarray(
            [i for i in [*train_rows, *heldout_rows] if not labels[i]], dtype=np.int64
        )
        human_reference = np.concatenate(
            [oof[train_rows][~labels[train_rows]], final[heldout_rows][~labels[heldout_rows]]]
        )
        platt = fit_platt(oof[train_rows], labels[train_rows])
    domains = [records[i].domain for i in reference_rows]
    if progress:
        progress("fitting heads", 1, 1)
    config = {
        "kind": "supervised",
        "name": NAME,
        "encoder": encoder_ref,
        "base_encoder": encoder,
        "fine_tuned": bool(fine_tune),
        "adapter": adapter,
        "adapter_sha1": file_sha1(weights_file(out_dir / adapter)) if adapter else None,
        "max_length": max_length,
        "quantize": bool(quantize),
        "layers": list(pooling.layers),
        "sentences_per_passage": SENTENCES_PER_PASSAGE,
        "regularisation": REGULARISATION,
        "edited_copies": {"seed": EDIT_SEED, "weight": EDITED_WEIGHT} if augment else None,
        "trained": datetime.now(UTC).strftime("%Y-%m-%d"),
        "training_data": _describe(records, train_rows),
        "heldout_pairs": len({groups[i] for i in heldout_rows}),
    }
    detector = SupervisedDetector(out_dir, config, document_head, passage_head, encoder=pooling)
    detector.save(out_dir)  # writes head + detector.json (with the head's hash)
    config = detector.config
    config["version"] = f"{Path(encoder).name}-{config['trained']}-{config['head_sha1'][:8]}"
    write_detector_file(out_dir, config)
    calibration = Calibration(
        detector=NAME,
        settings={"encoder": encoder_ref, "head": config["head_sha1"]},
        human_scores=human_reference.tolist(),
        platt=platt,
        reference="held-out human news, encyclopedia, fiction and Q&A texts",
        human_domains=domains,
        meta={
            "target_fpr": target_fpr,
            "source": "held-out human texts" if adapt else "out-of-fold + held-out human texts",
        },
    )
    calibration.save(out_dir / "calibration.json")
    # Rounded up, so the figure itself is a target the calibration can show.
    lowest = math.ceil(1e6 / calibration.n) / 1e6
    summary = {
        "out": str(out_dir),
        "version": config["version"],
        "n_train": int(len(train_rows)),
        "n_heldout": int(len(heldout_rows)),
        "fine_tuned": bool(fine_tune),
        "adapted": bool(adapt),
        "edited_copies": bool(augment),
        "threshold_logit": calibration.threshold(target_fpr)
        if target_fpr * calibration.n >= 1
        else None,
        "calibration_human_texts": calibration.n,
        "lowest_target_fpr": lowest,
    }
    if summary["threshold_logit"] is None:
        summary["warning"] = (
            f"{calibration.n} human reference texts cannot show a false-positive rate of "
            f"{target_fpr:g}: use this detector with --target-fpr {lowest:g} or more, "
            "or train on more human text"
            + ("" if not adapt else " (--no-adapt also calibrates on the training humans)")
        )
    if len(heldout_rows) and len(set(labels[heldout_rows].tolist())) == 2:
        summary.update(_heldout_metrics(final[heldout_rows], labels[heldout_rows]))
    return summary


def _encoder_depth(source: str, auto_config: Any) -> int:
    from unspun.models.hub import resolve

    def load(name: str, local_only: bool) -> Any:
        return auto_config.from_pretrained(name, local_files_only=local_only)

    from unspun.models.encoder import FALLBACKS

    return int(resolve(source, load, fallbacks=FALLBACKS).num_hidden_layers)


def _heldout_metrics(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    human = np.sort(scores[~labels])
    allowed = math.floor(0.01 * len(human))
    threshold = human[::-1][allowed] if allowed < len(human) else -np.inf
    return {
        "heldout_auroc": round(float(roc_auc_score(labels, scores)), 4),
        "heldout_tpr_at_1pct_fpr": round(float((scores[labels] > threshold).mean()), 4),
    }


def _describe(records: list[LabelledText], rows: np.ndarray) -> dict[str, int]:
    counts = Counter(f"{records[i].domain}/{records[i].generator}" for i in rows)
    return dict(sorted(counts.items()))

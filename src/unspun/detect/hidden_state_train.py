"""Training the hidden-state detector: read every labelled text once with the LM (a cache of pooled
states makes a re-run cheap), fit the logistic head on windows that do not let length decide, pick
its regularisation by cross-validation grouped by pair, and calibrate it on out-of-fold human
scores.

Length is the trap of paired detection data: the machine texts are often longer than their human
originals, and a head that learns "long means machine" flags every long human article. So each
machine text is also read cut to the length of its human original (same number of tokens), and
long human texts are made by joining two human texts of one domain (``long_humans``): the head
sees short and long texts on both sides.

One linear head over every generator learns the most plentiful style and blurs the rest (measured:
adding the older generators' texts to a current model's cost 0.1 AUROC on current-model news).
``families`` gives each named group of generators its own head (all the human texts against that
group's machine texts) and one more head for the generators not named; the detector scores the
largest of them, each on the scale of its own out-of-fold human scores.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from unspun.detect.calibration import Calibration
from unspun.detect.data import LabelledText, pair_key
from unspun.detect.hidden_state import (
    DEFAULT_LAYERS,
    DEFAULT_MAX_TOKENS,
    KIND,
    HiddenStateDetector,
    TokenStates,
)
from unspun.detect.registry import write_detector_file
from unspun.detect.supervised.head import LinearHead
from unspun.errors import ConfigError
from unspun.models.packaged import PACKAGED_LM

Progress = Callable[[str, int, int], None]
FOLDS = 5
# Candidate inverse regularisation strengths (sklearn's C) for the standardised head; chosen by
# grouped cross-validation on the training data, never on a validation set.
REGULARISATIONS = (0.003, 0.01, 0.03, 0.1)
LONG_HUMANS_PER_DOMAIN = 60


class PooledCache:
    """Mean hidden states of texts already read with exactly these settings, in an append-only
    binary file under unspun's cache (a crashed run keeps what it finished; a record cut short by
    a crash is ignored). A record is a text's sha1, a token count and the mean over that many
    first tokens; the mean over the whole text is stored with minus its length, so the length is
    known without reading the text again."""

    def __init__(self, settings: dict[str, Any], width: int) -> None:
        from unspun.models.traced import cache_root

        described = json.dumps(settings, sort_keys=True)
        key = hashlib.sha1(described.encode()).hexdigest()[:20]
        root = cache_root()
        self.record = np.dtype([("sha1", "S20"), ("tokens", "<i4"), ("mean", "<f4", (width,))])
        self.path = root / "hidden-states" / f"{key}.bin" if root is not None else None
        self.whole: dict[bytes, tuple[int, np.ndarray]] = {}
        self.cut: dict[tuple[bytes, int], np.ndarray] = {}
        if self.path is not None and self.path.is_file():
            raw = self.path.read_bytes()
            complete = len(raw) - len(raw) % self.record.itemsize
            for entry in np.frombuffer(raw[:complete], dtype=self.record):
                self._keep(bytes(entry["sha1"]), int(entry["tokens"]), entry["mean"].copy())

    def _keep(self, sha1: bytes, tokens: int, mean: np.ndarray) -> None:
        if tokens <= 0:
            self.whole[sha1] = (-tokens, mean)
        else:
            self.cut[(sha1, tokens)] = mean

    @staticmethod
    def digest(text: str) -> bytes:
        return hashlib.sha1(text.encode("utf-8")).digest()

    def put(self, sha1: bytes, tokens: int, mean: np.ndarray) -> None:
        """``tokens`` > 0: the mean over the first ``tokens`` tokens; <= 0: over the whole text
        of ``-tokens`` tokens."""
        mean = np.asarray(mean, dtype=np.float32)
        self._keep(sha1, tokens, mean)
        if self.path is None:
            return
        entry = np.zeros(1, dtype=self.record)
        entry["sha1"], entry["tokens"], entry["mean"] = sha1, tokens, mean
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as handle:
                handle.write(entry.tobytes())
        except OSError:
            self.path = None  # an unwritable cache only costs the next run its speed-up


def pooled(
    detector: HiddenStateDetector,
    texts: Sequence[str],
    cuts: Sequence[int | None],
    *,
    progress: Progress | None = None,
    stage: str = "reading texts with the language model",
) -> list[tuple[int, np.ndarray, np.ndarray | None]]:
    """For each text: the number of tokens read, the mean state over all of them and, when
    ``cuts[i]`` is a token count below that, the mean over the first ``cuts[i]`` tokens (else
    None), from at most one forward pass per text."""
    width = len(detector.layers) * int(detector.primary.model.config.hidden_size)
    cache = PooledCache(detector.feature_settings(), width)
    found = []
    for done, (text, cut) in enumerate(zip(texts, cuts, strict=True)):
        sha1 = cache.digest(text)
        states: TokenStates | None = None
        if sha1 not in cache.whole:
            states = detector.states(text)
            whole = states.mean() if len(states) else np.full(width, np.nan)
            cache.put(sha1, -len(states), whole)
        n, whole = cache.whole[sha1]
        part = None
        if cut is not None and 0 < cut < n:
            if (sha1, cut) not in cache.cut:
                states = states or detector.states(text)
                cache.put(sha1, cut, states.mean(slice(0, cut)))
            part = cache.cut[(sha1, cut)]
        found.append((n, whole, part))
        if progress:
            progress(stage, done + 1, len(texts))
    return found


def fold_of(group: str, folds: int = FOLDS) -> int:
    """A pair's fold, fixed by its key (not by the order of the data), so long human texts can be
    joined inside one fold and every run splits the same way."""
    return int(hashlib.sha1(group.encode("utf-8")).hexdigest(), 16) % folds


def long_human_texts(
    records: Sequence[LabelledText], *, per_domain: int, seed: int
) -> list[tuple[str, str, int]]:
    """(text, domain, fold) of human texts made long by joining two human texts of one domain
    and one fold, seeded."""
    rng = random.Random(seed)
    by_domain: dict[str, dict[int, list[LabelledText]]] = {}
    for record in records:
        if not record.is_machine:
            folds = by_domain.setdefault(record.domain, {})
            folds.setdefault(fold_of(pair_key(record)), []).append(record)
    made = []
    for domain, folds in sorted(by_domain.items()):
        usable = sorted(fold for fold, group in folds.items() if len(group) >= 2)
        for k in range(per_domain if usable else 0):
            fold = usable[k % len(usable)]
            first, second = rng.sample(folds[fold], 2)
            made.append((f"{first.text} {second.text}", domain, fold))
    return made


@dataclass
class TrainingRows:
    """The head's training matrix: one row per window, with its label, fold (by pair), weight and
    source: the index of its record, -1 for a joined human text, -2 for a machine text's window
    cut to its human original's length (whose record is ``cut_of``); ``generators``: a machine
    row's generator ("" for human rows)."""

    matrix: np.ndarray
    labels: np.ndarray
    folds: np.ndarray
    weights: np.ndarray
    generators: np.ndarray
    source: np.ndarray
    cut_of: np.ndarray
    tokens: np.ndarray
    joined: int


def training_rows(
    detector: HiddenStateDetector,
    records: Sequence[LabelledText],
    *,
    long_humans: int = LONG_HUMANS_PER_DOMAIN,
    seed: int = 0,
    progress: Progress | None = None,
) -> TrainingRows:
    """Read every record (humans first: a machine text is also read cut to its human original's
    number of tokens) and the joined long human texts, and lay out the rows (see TrainingRows)."""
    groups = [pair_key(r) for r in records]
    extra = long_human_texts(records, per_domain=long_humans, seed=seed) if long_humans else []
    humans = [i for i, record in enumerate(records) if not record.is_machine]
    machines = [i for i, record in enumerate(records) if record.is_machine]
    human_reads = pooled(
        detector,
        [records[i].text for i in humans],
        [None] * len(humans),
        progress=progress,
        stage="reading human texts with the language model",
    )
    read = dict(zip(humans, human_reads, strict=True))
    human_tokens: dict[str, int] = {}
    for i in humans:
        human_tokens.setdefault(groups[i], read[i][0])
    machine_reads = pooled(
        detector,
        [records[i].text for i in machines],
        [human_tokens.get(groups[i]) for i in machines],
        progress=progress,
        stage="reading machine texts with the language model",
    )
    read.update(zip(machines, machine_reads, strict=True))
    joined = pooled(
        detector,
        [text for text, _, _ in extra],
        [None] * len(extra),
        progress=progress,
        stage="reading joined human texts",
    )
    # (mean, machine?, fold, weight, source, record it was cut from, tokens)
    rows: list[tuple[np.ndarray, bool, int, float, int, int, int]] = []
    for i, record in enumerate(records):
        n, whole, part = read[i]
        fold = fold_of(groups[i])
        if part is not None:
            cut = human_tokens[groups[i]]
            rows += [(whole, True, fold, 0.5, i, -1, n), (part, True, fold, 0.5, -2, i, cut)]
        else:
            rows.append((whole, record.is_machine, fold, 1.0, i, -1, n))
    for (n, whole, _), (_, _, fold) in zip(joined, extra, strict=True):
        rows.append((whole, False, fold, 1.0, -1, -1, n))
    rows = [row for row in rows if np.isfinite(row[0]).all()]
    return TrainingRows(
        matrix=np.stack([row[0] for row in rows]),
        labels=np.asarray([row[1] for row in rows]),
        folds=np.asarray([row[2] for row in rows]),
        weights=np.asarray([row[3] for row in rows]),
        generators=np.asarray(
            [
                records[row[4] if row[4] >= 0 else row[5]].generator if row[1] else ""
                for row in rows
            ],
            dtype=object,
        ),
        source=np.asarray([row[4] for row in rows]),
        cut_of=np.asarray([row[5] for row in rows]),
        tokens=np.asarray([row[6] for row in rows]),
        joined=len(extra),
    )


def family_members(generators: Sequence[str], families: Sequence[Sequence[str]]) -> list[list[str]]:
    """The generators of each head: the named families, then (if any are left) one family of the
    generators not named. A name that has no machine text is a ConfigError."""
    present = sorted({g for g in generators if g})
    named = [g for family in families for g in family]
    unknown = sorted(set(named) - set(present))
    if unknown:
        raise ConfigError(
            f"--family: no machine texts of {', '.join(unknown)} in the training data "
            f"(its generators: {', '.join(present)})"
        )
    if len(set(named)) != len(named):
        raise ConfigError("--family: a generator is named in two families")
    members = [sorted(family) for family in families]
    rest = [g for g in present if g not in named]
    return members + [rest] if rest else members


def family_scale(human_scores: np.ndarray) -> tuple[float, float]:
    """(shift, spread) that put a head's logits on its human texts' scale: the 99th percentile
    of its out-of-fold human scores goes to 0, their standard deviation to 1."""
    finite = human_scores[np.isfinite(human_scores)]
    return float(np.percentile(finite, 99)), float(max(np.std(finite), 1e-6))


def _subset(rows: TrainingRows, mask: np.ndarray) -> TrainingRows:
    return TrainingRows(
        matrix=rows.matrix[mask],
        labels=rows.labels[mask],
        folds=rows.folds[mask],
        weights=rows.weights[mask],
        generators=rows.generators[mask],
        source=rows.source[mask],
        cut_of=rows.cut_of[mask],
        tokens=rows.tokens[mask],
        joined=rows.joined,
    )


def choose_regularisation(
    rows: TrainingRows, progress: Progress | None = None
) -> tuple[float, dict[float, float]]:
    """The C of the best pooled out-of-fold AUROC (ties: the stronger regularisation)."""
    found = {}
    for candidate in REGULARISATIONS:
        scores = out_of_fold(
            rows.matrix, rows.labels, rows.weights, rows.folds, candidate, progress
        )
        found[candidate] = _auroc(rows.labels, scores)
    return max(found, key=lambda c: (found[c], -c)), found


def train_hidden_state(
    records: list[LabelledText],
    out_dir: Path,
    *,
    model: str = PACKAGED_LM,
    layers: Sequence[int] = DEFAULT_LAYERS,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    target_fpr: float = 0.01,
    device: str | None = None,
    dtype: str | None = None,
    regularisation: float | None = None,
    long_humans: int = LONG_HUMANS_PER_DOMAIN,
    seed: int = 0,
    families: Sequence[Sequence[str]] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Fit, calibrate and save a hidden-state detector in ``out_dir``; return a summary.

    Rows: every human text whole; every machine text whole and, when its pair has a human text,
    cut to that text's number of tokens (each at half weight); ``long_humans`` joined human texts
    per domain. ``regularisation`` (None: chosen by grouped cross-validation). The calibration's
    human reference scores are out of fold: each human text scored by a head that never saw its
    pair.
    """
    labels = np.asarray([r.is_machine for r in records])
    if len(set(labels.tolist())) < 2:
        raise ConfigError("training needs both 'human' and 'machine' examples")
    groups = [pair_key(r) for r in records]
    if len(set(groups)) < FOLDS:
        raise ConfigError(f"training needs texts from at least {FOLDS} pairs")
    layers = [int(n) for n in layers]
    config: dict[str, Any] = {
        "kind": KIND,
        "name": KIND,
        "model": model,
        "layers": layers,
        "max_tokens": int(max_tokens),
    }
    detector = HiddenStateDetector(
        out_dir,
        {**config, "head_sha1": ""},
        LinearHead(np.zeros(0), np.ones(0), np.zeros(0), 0.0),
        device=device,
        dtype=dtype,
    )
    members = (
        family_members([r.generator for r in records if r.is_machine], families)
        if families
        else None
    )  # a wrong name is an error before an hour of reading
    rows = training_rows(detector, records, long_humans=long_humans, seed=seed, progress=progress)
    matrix, row_labels, row_folds = rows.matrix, rows.labels, rows.folds
    weights, row_records, joined = rows.weights, rows.source, rows.joined
    real_humans = ~row_labels & (row_records >= 0)

    subsets = (
        [~row_labels | np.isin(rows.generators, family) for family in members]
        if members
        else [np.ones(len(row_labels), dtype=bool)]
    )
    heads, chosen_c, cv_auroc, family_config, parts = [], [], {}, [], []
    for k, subset in enumerate(subsets):
        part = _subset(rows, subset)
        chosen = regularisation
        if chosen is None:
            chosen, found = choose_regularisation(part, progress)
            cv_auroc.update({f"{k}:{c}" if members else str(c): a for c, a in found.items()})
        # Every row scored by this family's head fitted without the row's fold.
        oof_k = out_of_fold(
            matrix, row_labels, weights, row_folds, chosen, progress, train_rows=subset
        )
        heads.append(
            LinearHead.fit(
                matrix[subset],
                row_labels[subset],
                regularisation=chosen,
                sample_weight=weights[subset],
            )
        )
        chosen_c.append(chosen)
        parts.append(oof_k)
        if members:
            shift, spread = family_scale(oof_k[real_humans])
            family_config.append(
                {
                    "generators": members[k],
                    "regularisation": chosen,
                    "shift": shift,
                    "spread": spread,
                }
            )
    if members:
        oof = np.max(
            [
                (scores - f["shift"]) / f["spread"]
                for scores, f in zip(parts, family_config, strict=True)
            ],
            axis=0,
        )
    else:
        oof = parts[0]

    detector.heads = heads
    detector.config = dict(
        config,
        regularisation=chosen_c[0] if not members else None,
        families=family_config or None,
        trained=datetime.now(UTC).strftime("%Y-%m-%d"),
        training_data=_describe(records, joined),
        windows="machine texts whole and cut to their human original's length (half weight "
        f"each); {joined} human texts made long by joining two of one domain",
    )
    detector.calibration = None
    detector.save(out_dir)
    config = detector.config
    config["version"] = f"{Path(model).name}-{config['trained']}-{config['head_sha1'][:8]}"
    write_detector_file(out_dir, config)
    # The reference: each real human text, whole, scored out of fold.
    reference = np.flatnonzero(real_humans)
    calibration = Calibration(
        detector=KIND,
        settings=HiddenStateDetector.settings_of(config),
        human_scores=oof[reference].tolist(),
        reference="human news, encyclopedia, fiction and Q&A texts, each scored out of fold",
        human_domains=[records[row_records[k]].domain for k in reference],
        meta={"target_fpr": target_fpr, "source": f"{FOLDS}-fold cross-fitted human texts"},
    )
    calibration.save(out_dir / "calibration.json")
    lowest = math.ceil(1e6 / calibration.n) / 1e6
    threshold = calibration.threshold(target_fpr) if target_fpr * calibration.n >= 1 else None
    summary: dict[str, Any] = {
        "out": str(out_dir),
        "version": config["version"],
        "n_train": len(records),
        "rows": len(row_labels),
        "regularisation": chosen_c[0] if not members else chosen_c,
        "families": [f["generators"] for f in family_config] or None,
        "cross_validated_auroc": {str(c): round(a, 4) for c, a in cv_auroc.items()},
        "out_of_fold_auroc": round(_auroc(row_labels, oof), 4),
        "threshold_logit": threshold,
        "calibration_human_texts": calibration.n,
        "lowest_target_fpr": lowest,
    }
    if threshold is not None:
        whole_machines = row_labels & (row_records >= 0)
        summary["out_of_fold_tpr_at_target_fpr"] = round(
            float((oof[whole_machines] >= threshold).mean()), 4
        )
        joined_rows = row_records == -1
        if joined_rows.any():
            summary["joined_human_fpr"] = round(float((oof[joined_rows] >= threshold).mean()), 4)
    else:
        summary["warning"] = (
            f"{calibration.n} human texts cannot show a false-positive rate of {target_fpr:g}: "
            f"use --target-fpr {lowest:g} or more, or train on more human text"
        )
    return summary


def out_of_fold(
    matrix: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    folds: np.ndarray,
    regularisation: float,
    progress: Progress | None,
    *,
    train_rows: np.ndarray | None = None,
) -> np.ndarray:
    """Each row's score by a head fitted on the other folds' rows (only those in ``train_rows``,
    a mask, when given)."""
    scores = np.full(len(labels), np.nan)
    usable = np.ones(len(labels), dtype=bool) if train_rows is None else train_rows
    for fold in range(FOLDS):
        test = folds == fold
        train = usable & ~test
        if not test.any() or not train.any():
            continue
        head = LinearHead.fit(
            matrix[train],
            labels[train],
            regularisation=regularisation,
            sample_weight=weights[train],
        )
        scores[test] = head.logits(matrix[test])
        if progress:
            progress(f"cross-validating the head (C={regularisation:g})", fold + 1, FOLDS)
    return scores


def _auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    keep = np.isfinite(scores)
    return float(roc_auc_score(labels[keep], scores[keep]))


def _describe(records: Sequence[LabelledText], joined: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        key = f"{record.domain}/{record.generator if record.is_machine else 'human'}"
        counts[key] = counts.get(key, 0) + 1
    if joined:
        counts["joined human texts"] = joined
    return dict(sorted(counts.items()))

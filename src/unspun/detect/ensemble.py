"""The ensemble detector: a small logistic-regression combiner over the raw document scores of any
configured detectors (e.g. the supervised one plus Binoculars), trained on labelled text."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from unspun.detect.base import Detector, PassageScore, Scores
from unspun.detect.registry import (
    DETECTOR_FILE,
    create_detector,
    detector_options,
    kind_matches,
    kind_of,
    write_detector_file,
)
from unspun.errors import ConfigError
from unspun.models.causal import model_name

KIND = "ensemble"
# Options every member takes; model options only go to the members that name them.
RUNTIME_OPTIONS = ("device", "batch_size")
MODEL_OPTIONS = ("model", "observer", "performer", "scoring_model", "sampling_model")


def ensemble_home() -> Path:
    """Where ``unspun train-ensemble`` writes when no ``--out`` is given, and where
    ``--detector ensemble`` looks: next to the calibrations in unspun's data directory."""
    from unspun.detect.calibration import calibration_home

    return calibration_home().parent / "ensemble"


@dataclass(frozen=True)
class Member:
    """One detector of the ensemble: its registry name (or trained directory) and the model
    options it was trained with; the combiner's weights are only valid for exactly these."""

    name: str
    options: dict[str, Any]


def member_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``options`` that detector ``name`` takes (``registry.detector_options``):
    the runtime options, and the model options it names."""
    given = {key: value for key, value in options.items() if value is not None}
    taken = detector_options(name)
    chosen = {key: given[key] for key in RUNTIME_OPTIONS if key in given and key in taken}
    # Local model directories are recorded as absolute paths, as in the detectors' settings, so
    # the ensemble loads from any working directory and "./m" matches "/abs/m".
    chosen.update(
        {key: model_name(given[key]) for key in MODEL_OPTIONS if key in given and key in taken}
    )
    return chosen


def parse_members(spec: str | Sequence[str], options: dict[str, Any]) -> list[Member]:
    """'default,binoculars' + the user's model options -> members with the options each takes."""
    names = [n.strip() for n in (spec.split(",") if isinstance(spec, str) else spec) if n.strip()]
    if len(names) < 2:
        raise ConfigError(
            "an ensemble needs at least two detectors, e.g. --members default,binoculars"
        )
    if len(set(names)) != len(names):
        raise ConfigError(f"detector listed twice in the ensemble: {', '.join(names)}")
    if KIND in names:
        raise ConfigError("an ensemble cannot contain another ensemble")
    members = []
    for name in names:
        path = Path(name).expanduser()
        if path.is_dir():
            name = str(path.resolve())
        chosen = member_options(name, options)
        members.append(Member(name, {k: v for k, v in chosen.items() if k not in RUNTIME_OPTIONS}))
    return members


class EnsembleDetector:
    """Logistic regression over standardised member scores.

    document score = b + sum_k w_k (s_k - m_k) / d_k (the combiner's log-odds, higher = more
    machine), probability = sigmoid(score); m_k, d_k are the mean and standard deviation of member
    k's raw scores on the training texts. Passages are combined the same way where every member
    scored the same passage span; token evidence is the first member's that has any.
    """

    name = KIND

    def __init__(
        self,
        members: Sequence[Member],
        mean: Sequence[float],
        scale: Sequence[float],
        weights: Sequence[float],
        intercept: float,
        *,
        detectors: Sequence[Detector] | None = None,
        runtime: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        if not len(members) == len(mean) == len(scale) == len(weights):
            raise ConfigError("ensemble members and combiner weights do not line up")
        self.members = list(members)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.intercept = float(intercept)
        self.meta = dict(meta or {})
        runtime = runtime or {}
        self.detectors = (
            list(detectors)
            if detectors is not None
            else [
                create_detector(m.name, **m.options, **member_options(m.name, runtime))
                for m in members
            ]
        )
        self.calibration = None

    @property
    def version(self) -> str:
        return "ensemble/" + self._combiner_sha()[:12]

    def _combiner_sha(self) -> str:
        payload = json.dumps(self._combiner(), sort_keys=True).encode()
        return hashlib.sha1(payload).hexdigest()

    def _combiner(self) -> dict[str, Any]:
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "intercept": self.intercept,
        }

    @property
    def settings(self) -> dict[str, Any]:
        return {
            "members": [{"name": d.name, "settings": d.settings} for d in self.detectors],
            "combiner": self._combiner_sha()[:16],
        }

    def combine(self, member_scores: np.ndarray) -> np.ndarray:
        """Rows of member raw scores -> the combiner's log-odds."""
        z = (np.asarray(member_scores, dtype=np.float64) - self.mean) / self.scale
        return z @ self.weights + self.intercept

    def score(self, texts: Sequence[str], *, passages: bool = True) -> list[Scores]:
        per_member = [d.score(texts, passages=passages) for d in self.detectors]
        results = []
        for i in range(len(texts)):
            parts = [scores[i] for scores in per_member]
            document = float(self.combine(np.array([p.document for p in parts]))[()])
            raw = {f"{d.name}": p.document for d, p in zip(self.detectors, parts, strict=True)}
            for d, p in zip(self.detectors, parts, strict=True):
                raw.update({f"{d.name}.{key}": value for key, value in p.raw.items()})
            probability = _sigmoid(document) if math.isfinite(document) else None
            results.append(
                Scores(
                    document=document,
                    probability=probability,
                    passages=self._passages(parts) if passages else [],
                    tokens=next((p.tokens for p in parts if p.tokens), None),
                    raw=raw,
                )
            )
        return results

    def _passages(self, parts: Sequence[Scores]) -> list[PassageScore]:
        spans: list[dict[tuple[int, int], float]] = [
            {(p.start, p.end): p.score for p in part.passages} for part in parts
        ]
        common = [span for span in spans[0] if all(span in s for s in spans[1:])]
        result = []
        for span in common:
            value = float(self.combine(np.array([s[span] for s in spans]))[()])
            if math.isfinite(value):
                result.append(PassageScore(span[0], span[1], value))
        return result

    # ---- training, saving, loading -------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        members: Sequence[Member],
        texts: Sequence[str],
        labels: Sequence[bool],
        *,
        runtime: dict[str, Any] | None = None,
        batch_size: int = 16,
        regularization: float = 1.0,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> EnsembleDetector:
        """Score ``texts`` with every member and fit the combiner on ``labels`` (True = machine)."""
        from sklearn.linear_model import LogisticRegression

        from unspun.normalize import normalize

        labels_array = np.asarray(labels, dtype=bool)
        if labels_array.all() or not labels_array.any():
            raise ConfigError("training an ensemble needs both human and machine texts")
        runtime = runtime or {}
        detectors = [
            create_detector(m.name, **m.options, **member_options(m.name, runtime)) for m in members
        ]
        normalized = [normalize(text).text for text in texts]
        columns = []
        for detector in detectors:
            stage = f"Scoring with {detector.name}"
            values: list[float] = []
            for begin in range(0, len(normalized), batch_size):
                batch = normalized[begin : begin + batch_size]
                values.extend(s.document for s in detector.score(batch, passages=False))
                if progress is not None:
                    progress(stage, len(values), len(normalized))
            columns.append(values)
        matrix = np.array(columns, dtype=np.float64).T
        finite = np.isfinite(matrix).all(axis=1)
        if finite.sum() < 4 or labels_array[finite].all() or not labels_array[finite].any():
            raise ConfigError("too few texts with a finite score from every member to train on")
        matrix, labels_array = matrix[finite], labels_array[finite]
        mean = matrix.mean(axis=0)
        scale = matrix.std(axis=0)
        scale[scale == 0] = 1.0
        model = LogisticRegression(C=regularization, max_iter=1000)
        model.fit((matrix - mean) / scale, labels_array)
        meta = {
            "trained_on": int(len(labels_array)),
            "machine": int(labels_array.sum()),
            "human": int((~labels_array).sum()),
            "skipped_non_finite": int((~finite).sum()),
            # Handed to train_ensemble for its summary, then dropped before saving.
            "_matrix": matrix,
            "_labels": labels_array,
        }
        return cls(
            members,
            mean,
            scale,
            model.coef_[0],
            float(model.intercept_[0]),
            detectors=detectors,
            meta=meta,
        )

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        data = {
            "kind": kind_of(type(self)),
            "schema": "unspun.ensemble/1",
            "members": [
                {"name": m.name, "options": m.options, "settings": d.settings}
                for m, d in zip(self.members, self.detectors, strict=True)
            ],
            **self._combiner(),
            "meta": self.meta,
        }
        write_detector_file(directory, data)

    @classmethod
    def load(
        cls,
        directory: Path,
        *,
        device: str | None = None,
        batch_size: int | None = None,
        model: str | None = None,
        observer: str | None = None,
        performer: str | None = None,
        scoring_model: str | None = None,
        sampling_model: str | None = None,
    ) -> EnsembleDetector:
        """Rebuild from ``directory``. ``device``/``batch_size`` apply to every member; a model
        option that differs from what a member was trained with is refused (the weights would
        no longer fit)."""
        path = Path(directory) / DETECTOR_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            members = [Member(m["name"], dict(m["options"])) for m in data["members"]]
            stored_settings = [m.get("settings") for m in data["members"]]
            combiner = (data["mean"], data["scale"], data["weights"], float(data["intercept"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{directory} is not a trained unspun ensemble: {exc}") from None
        if not kind_matches(data.get("kind"), cls):
            raise ConfigError(f"{directory} holds a {data.get('kind')!r} detector, not an ensemble")
        options = {
            "device": device,
            "batch_size": batch_size,
            "model": model,
            "observer": observer,
            "performer": performer,
            "scoring_model": scoring_model,
            "sampling_model": sampling_model,
        }
        for key in MODEL_OPTIONS:
            if options.get(key) is None:
                continue
            wanted = model_name(options[key])
            for member in members:
                if key in member.options and member.options[key] != wanted:
                    raise ConfigError(
                        f"this ensemble was trained with {member.name} {key}="
                        f"{member.options[key]!r}; retrain it to use {options[key]!r}"
                    )
        runtime = {k: options[k] for k in RUNTIME_OPTIONS if options.get(k) is not None}
        ensemble = cls(members, *combiner, runtime=runtime, meta=data.get("meta"))
        for member, detector, stored in zip(
            members, ensemble.detectors, stored_settings, strict=True
        ):
            # The dtype may differ (trained on a GPU in bfloat16, used on a CPU in float32):
            # that moves scores by rounding noise only; anything else means other models.
            if stored is not None and _canonical(stored, "dtype") != _canonical(
                detector.settings, "dtype"
            ):
                raise ConfigError(
                    f"ensemble member {member.name!r} no longer has the settings it was trained "
                    "with (another model version or dtype?); retrain the ensemble"
                )
        return ensemble


def _canonical(settings: dict[str, Any], *ignore: str) -> str:
    kept = {key: value for key, value in settings.items() if key not in ignore}
    return json.dumps(kept, sort_keys=True, default=str)


def _sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-500.0, min(500.0, value))))


def train_ensemble(
    records: Sequence[Any],
    members: str | Sequence[str],
    out: Path,
    *,
    options: dict[str, Any] | None = None,
    batch_size: int = 16,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Fit an ensemble on labelled records (``.text``, ``.is_machine``), save it to ``out``
    and return a summary. What ``unspun train --ensemble A,B`` and ``unspun train-ensemble`` run.

    ``options``: the user's model and runtime options; each member gets the ones it takes.
    """
    from sklearn.metrics import roc_auc_score

    options = options or {}
    parsed = parse_members(members, options)
    runtime = {key: options[key] for key in RUNTIME_OPTIONS if options.get(key) is not None}
    texts = [record.text for record in records]
    labels = [bool(record.is_machine) for record in records]
    ensemble = EnsembleDetector.fit(
        parsed, texts, labels, runtime=runtime, batch_size=batch_size, progress=progress
    )
    train_scores = ensemble.combine(ensemble.meta.pop("_matrix"))
    train_labels = ensemble.meta.pop("_labels")
    ensemble.save(Path(out))
    return {
        "out": str(out),
        "members": [
            {"name": m.name, "options": m.options, "weight": float(w)}
            for m, w in zip(ensemble.members, ensemble.weights, strict=True)
        ],
        "intercept": ensemble.intercept,
        **ensemble.meta,
        "train_auroc": float(roc_auc_score(train_labels, train_scores)),
        "version": ensemble.version,
    }


def trained_ensemble(
    path: str | None = None,
    *,
    device: str | None = None,
    batch_size: int | None = None,
    model: str | None = None,
    observer: str | None = None,
    performer: str | None = None,
    scoring_model: str | None = None,
    sampling_model: str | None = None,
) -> EnsembleDetector:
    """The ensemble trained into ``path`` (default: where ``unspun train-ensemble`` writes)."""
    directory = Path(path).expanduser() if path else ensemble_home()
    if not (directory / DETECTOR_FILE).is_file():
        raise ConfigError(
            f"no trained ensemble in {directory}; train one with "
            "`unspun train-ensemble DATA.jsonl --members default,binoculars`"
        )
    return EnsembleDetector.load(
        directory,
        device=device,
        batch_size=batch_size,
        model=model,
        observer=observer,
        performer=performer,
        scoring_model=scoring_model,
        sampling_model=sampling_model,
    )

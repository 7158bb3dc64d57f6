"""Thresholds learned on held-out human text at a stated false-positive rate, and the verdict."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from unspun.errors import ConfigError
from unspun.stats import wilson_interval

Verdict = Literal["machine", "not_flagged", "uncertain"]

CALIBRATION_FILE = "calibration.json"
# Scores between the threshold at GREY_FACTOR x target FPR and the threshold itself are "uncertain":
# a human text lands there GREY_FACTOR times more often than above the threshold.
GREY_FACTOR = 5.0


def one_in(rate: float) -> str:
    """0.01 -> '1 in 100'; 0.025 -> '1 in 40'."""
    return f"1 in {max(1, round(1 / rate)):,}" if rate > 0 else "none"


@dataclass(frozen=True)
class MeasuredRate:
    """``flagged`` of ``texts`` human reference texts of ``domain`` reach a threshold."""

    domain: str
    flagged: int
    texts: int

    @property
    def rate(self) -> float:
        return self.flagged / self.texts if self.texts else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.flagged, self.texts)


@dataclass
class Calibration:
    """Human reference scores of one detector with its exact settings.

    ``human_scores``: raw document scores of held-out human texts (never seen in training).
    ``platt``: optional (a, b), a logistic fit of the label on the raw score over labelled
    held-out data, kept for reading older files; reports do not show it (it is a probability
    only under the training set's share of machine text, which says nothing of a reader's).
    A score is reported as its human percentile (``percentile``).
    """

    detector: str
    settings: dict[str, Any]
    human_scores: list[float]
    platt: tuple[float, float] | None = None
    reference: str = "held-out human text"
    human_domains: list[str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        order = sorted(range(len(self.human_scores)), key=lambda i: float(self.human_scores[i]))
        if self.human_domains is not None:
            if len(self.human_domains) != len(self.human_scores):
                raise ConfigError("a calibration needs one domain per human reference score")
            # Keep each score's domain with it when sorting.
            self.human_domains = [str(self.human_domains[i]) for i in order]
        self.human_scores = [float(self.human_scores[i]) for i in order]
        if not self.human_scores:
            raise ConfigError("a calibration needs at least one human reference score")

    @property
    def n(self) -> int:
        return len(self.human_scores)

    def check_target_fpr(self, target_fpr: float) -> None:
        if not 0 < target_fpr < 1:
            raise ConfigError(
                f"target false-positive rate must be between 0 and 1, got {target_fpr}"
            )
        if target_fpr * self.n < 1:
            raise ConfigError(
                f"target false-positive rate {target_fpr:g} is below what {self.n} human reference "
                f"texts can show (smallest: {1 / self.n:.4g}); recalibrate on more human text"
            )

    def threshold(self, target_fpr: float) -> float:
        """Raw score t such that at most ``target_fpr`` of the human references score >= t."""
        self.check_target_fpr(target_fpr)
        allowed = math.floor(target_fpr * self.n + 1e-9)
        descending = self.human_scores[::-1]
        if allowed >= self.n:
            return float(np.nextafter(self.human_scores[0], -np.inf))
        return float(np.nextafter(descending[allowed], np.inf))

    def measured_rates(self, raw_threshold: float) -> list[MeasuredRate]:
        """How many human references reach ``raw_threshold``, with a 95% Wilson interval: all of
        them first, then each domain (when the calibration knows them). The interval says how far
        the true false-positive rate may be from the measured one on this few texts."""
        scores = np.asarray(self.human_scores)
        flagged = scores >= raw_threshold
        rates = [MeasuredRate("all", int(flagged.sum()), self.n)]
        if self.human_domains:
            domains = np.asarray(self.human_domains)
            for domain in sorted(set(self.human_domains)):
                inside = domains == domain
                rates.append(MeasuredRate(domain, int(flagged[inside].sum()), int(inside.sum())))
        return rates

    def false_positive_rate(self, raw_threshold: float) -> float:
        """Share of human references at or above a raw threshold."""
        scores = np.asarray(self.human_scores)
        return float((scores >= raw_threshold).mean())

    def percentile(self, raw: float) -> float:
        """The share of the human reference texts that score lower than ``raw`` (0..1)."""
        return float(np.searchsorted(self.human_scores, raw, side="left") / self.n)

    def matches(self, name: str, settings: dict[str, Any]) -> bool:
        return self.detector == name and _canonical(self.settings) == _canonical(settings)

    def save(self, path: Path) -> None:
        data = asdict(self)
        data["schema"] = "unspun.calibration/1"
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Calibration:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read calibration {path}: {exc}") from None
        data.pop("schema", None)
        if data.get("platt") is not None:
            data["platt"] = tuple(data["platt"])
        try:
            return cls(**data)
        except TypeError as exc:
            raise ConfigError(f"calibration {path} is not in the expected format: {exc}") from None


def _canonical(settings: dict[str, Any]) -> str:
    return json.dumps(settings, sort_keys=True, default=str)


@dataclass(frozen=True)
class Decision:
    """A verdict with the score's human percentile and the threshold on that scale (NaN without
    a calibration)."""

    verdict: Verdict
    reason: str | None
    human_percentile: float
    threshold: float
    target_fpr: float


def decide(
    raw: float,
    calibration: Calibration | None,
    target_fpr: float,
    *,
    abstain: str | None = None,
) -> Decision:
    """Turn a raw document score into a verdict at ``target_fpr``.

    ``abstain``: a reason found upstream (too short, out of domain) that forces ``uncertain``.
    Without a calibration the verdict is ``uncertain`` and only the raw score is meaningful.
    A score below the threshold is ``not_flagged``: the detector shows that a text is not
    flagged, never that a person wrote it.
    """
    if not math.isfinite(raw):
        abstain = abstain or "no score: the detector could not read any of this text"
    if calibration is None:
        return Decision(
            "uncertain",
            abstain or "uncalibrated: showing the raw score only",
            float("nan"),
            float("nan"),
            target_fpr,
        )
    raw_threshold = calibration.threshold(target_fpr)
    grey_threshold = calibration.threshold(min(0.5, target_fpr * GREY_FACTOR))
    prob = calibration.percentile(raw) if math.isfinite(raw) else float("nan")
    threshold = calibration.percentile(raw_threshold)
    rate = one_in(target_fpr)
    if abstain:
        return Decision("uncertain", abstain, prob, threshold, target_fpr)
    if raw >= raw_threshold:
        reason = (
            f"flagged: at this threshold about {rate} human-written texts "
            f"({calibration.reference}) is flagged"
        )
        return Decision("machine", reason, prob, threshold, target_fpr)
    if raw >= grey_threshold:
        grey_rate = one_in(min(0.5, target_fpr * GREY_FACTOR))
        reason = (
            f"grey zone: the score is higher than about {grey_rate} human-written texts reach, "
            f"but below the threshold at which {rate} is flagged"
        )
        return Decision("uncertain", reason, prob, threshold, target_fpr)
    reason = (
        f"not flagged: the score is below the threshold at which about {rate} human texts "
        "is flagged"
    )
    return Decision("not_flagged", reason, prob, threshold, target_fpr)


def calibration_home() -> Path:
    """Where ``unspun calibrate`` stores calibrations for detectors that ship none."""
    import os

    root = os.environ.get("UNSPUN_HOME") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "unspun"
    )
    return Path(root) / "calibrations"


def find_calibration(detector: Any) -> Calibration | None:
    """The calibration valid for exactly this detector and settings, or None.

    One the user saved with ``unspun calibrate`` (on their own human text) comes first; then the
    one a detector carries (the shipped supervised model does). One made for other models or
    settings is never borrowed.
    """
    for _, candidate in saved_calibrations():
        if candidate.matches(detector.name, detector.settings):
            return candidate
    own = getattr(detector, "calibration", None)
    if own is not None and own.matches(detector.name, detector.settings):
        return own
    return None


def saved_calibrations() -> list[tuple[Path, Calibration]]:
    """Every readable calibration ``unspun calibrate`` saved, by file name (unreadable ones are
    passed over: a half-written file must not stop checking)."""
    home = calibration_home()
    found: list[tuple[Path, Calibration]] = []
    if home.is_dir():
        for path in sorted(home.glob("*.json")):
            try:
                found.append((path, Calibration.load(path)))
            except ConfigError:
                continue
    return found


def require_enough_texts(count: int, target_fpr: float) -> None:
    """Refuse, before any model loads, a reference too small to show ``target_fpr`` at all."""
    if target_fpr * count < 1:
        raise ConfigError(
            f"{count} human texts cannot show a false-positive rate of {target_fpr:g}; "
            f"use at least {int(1 / target_fpr) + 1} texts (better: 10x that)"
        )


def score_texts(
    detector: Any,
    texts: Sequence[str],
    *,
    batch_size: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> list[float]:
    """Raw document scores through the same normalisation as ``unspun check``."""
    from unspun.normalize import normalize

    scores: list[float] = []
    for begin in range(0, len(texts), batch_size):
        batch = [normalize(text).text for text in texts[begin : begin + batch_size]]
        scores.extend(float(s.document) for s in detector.score(batch, passages=False))
        if progress is not None:
            progress(len(scores), len(texts))
    return scores


def calibrate_detector(
    detector: Any,
    texts: Sequence[str],
    *,
    target_fpr: float,
    domains: Sequence[str] | None = None,
    source: str = "held-out human text",
    meta: dict[str, Any] | None = None,
    batch_size: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> Calibration:
    """A calibration of ``detector`` (exact settings) on held-out human ``texts``.

    Texts without a finite score (too short for the detector) are left out and counted in
    ``meta``; ``source`` names where the texts came from in the verdict's reason.
    """
    require_enough_texts(len(texts), target_fpr)
    scores = score_texts(detector, texts, batch_size=batch_size, progress=progress)
    kept = [i for i, score in enumerate(scores) if math.isfinite(score)]
    if not kept:
        raise ConfigError("no human text got a finite score (all too short?)")
    calibration = Calibration(
        detector=detector.name,
        settings=detector.settings,
        human_scores=[scores[i] for i in kept],
        reference=f"{len(kept):,} human texts from {source}",
        human_domains=[str(domains[i]) for i in kept] if domains is not None else None,
        meta={
            **(meta or {}),
            "skipped_non_finite": len(scores) - len(kept),
            "version": detector.version,
        },
    )
    calibration.check_target_fpr(target_fpr)
    return calibration


def save_calibration(calibration: Calibration) -> Path:
    """Save under :func:`calibration_home`, named by detector and settings, where
    :func:`find_calibration` finds it for exactly these settings; returns the file."""
    home = calibration_home()
    home.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(json.dumps(calibration.settings, sort_keys=True, default=str).encode())
    path = home / f"{_file_name(calibration.detector)}-{digest.hexdigest()[:12]}.json"
    calibration.save(path)
    return path


def _file_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in Path(name).name) or "detector"

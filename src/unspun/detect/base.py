"""The Detector protocol and the Scores every detector returns. The names ``--detector`` accepts
live in ``registry.py``; its functions are re-exported here for callers that import them here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from unspun.detect.registry import (
    PLUGINS_ENV,
    available_detectors,
    create_detector,
    detector_options,
    import_plugins,
    plugin_modules,
    register,
)

__all__ = [
    "PLUGINS_ENV",
    "Detector",
    "PassageScore",
    "Scores",
    "TokenEvidence",
    "available_detectors",
    "create_detector",
    "detector_options",
    "import_plugins",
    "plugin_modules",
    "register",
]


@dataclass(frozen=True)
class PassageScore:
    """Score of one passage; offsets index into the text that was scored. Higher = more machine."""

    start: int
    end: int
    score: float


@dataclass(frozen=True)
class TokenEvidence:
    """Per-token evidence from a language model (GLTR-style); offsets into the scored text."""

    start: int
    end: int
    text: str
    logprob: float
    rank: int
    entropy: float


@dataclass
class Scores:
    """What a detector says about one text.

    ``document``: the detector's raw document score, higher = more likely machine-written.
    ``probability``: the sigmoid of a trained classifier's logit when the detector has one (a
    probability only under its training set's share of machine text), else ``None``; reports
    show the calibration's human percentile of ``document`` instead.
    ``raw``: named raw values worth keeping in the report (e.g. Binoculars' perplexities).
    """

    document: float
    probability: float | None = None
    passages: list[PassageScore] = field(default_factory=list)
    tokens: list[TokenEvidence] | None = None
    raw: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class Detector(Protocol):
    """Anything that scores texts. ``name`` is the registry name; ``version`` identifies the trained
    state or model pair (it is written into reports and calibrations); ``settings`` are the exact
    options that a calibration is only valid for. ``save(directory)`` writes a detector.json whose
    ``kind`` is the import string of a class with ``load(directory, **options)`` that rebuilds it
    (``registry.kind_of``); ``create_detector(str(directory))`` then loads it back."""

    name: str
    version: str

    @property
    def settings(self) -> dict[str, Any]: ...

    def score(self, texts: Sequence[str], *, passages: bool = True) -> list[Scores]: ...

    def save(self, directory: Path) -> None: ...

"""Load any detector directory written by ``unspun train`` (its detector.json names the kind)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from unspun.detect.base import Detector
from unspun.errors import ConfigError


def load_saved_detector(directory: Path, **options: Any) -> Detector:
    try:
        kind = json.loads((directory / "detector.json").read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{directory}/detector.json cannot be read: {exc}") from None
    if kind == "supervised":
        from unspun.detect.supervised.model import SupervisedDetector

        return SupervisedDetector.load(directory, **options)
    if kind == "language-model":
        from unspun.detect.language_model import LanguageModelDetector

        return LanguageModelDetector.load(directory, **options)
    if kind == "ensemble":
        from unspun.detect.ensemble import EnsembleDetector

        return EnsembleDetector.load(directory, **options)
    raise ConfigError(f"{directory}: unknown detector kind {kind!r}")

"""The supervised detector (encoder embeddings + style features + logistic head), its training."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from unspun.errors import ConfigError

if TYPE_CHECKING:
    from unspun.detect.supervised.model import SupervisedDetector


def shipped_directory() -> Path:
    """The head trained by this project on ../shared/data/detect, shipped inside the package."""
    return Path(str(resources.files("unspun") / "data" / "default"))


def shipped_detector(
    *, device: str | None = None, batch_size: int | None = None
) -> SupervisedDetector:
    """The encoder detector shipped with unspun (registry names ``encoder`` and ``supervised``)."""
    from unspun.detect.supervised.model import SupervisedDetector

    directory = shipped_directory()
    if not (directory / "detector.json").is_file():
        raise ConfigError("the shipped encoder detector is missing from this installation")
    return SupervisedDetector.load(directory, device=device, batch_size=batch_size)

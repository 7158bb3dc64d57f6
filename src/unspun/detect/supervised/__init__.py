"""The supervised detector (encoder embeddings + style features + logistic head), its training."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from unspun.detect.base import register
from unspun.errors import ConfigError


def shipped_directory() -> Path:
    """The head trained by this project on ../shared/data/detect, shipped inside the package."""
    return Path(str(resources.files("unspun") / "data" / "default"))


@register(
    "encoder",
    "encoder-only detector shipped with unspun (all-MiniLM-L6-v2 + style features): ~10x "
    "faster than the default, for large crawls",
)
def _encoder(**options: Any):
    from unspun.detect.supervised.model import SupervisedDetector

    directory = shipped_directory()
    if not (directory / "detector.json").is_file():
        raise ConfigError("the shipped encoder detector is missing from this installation")
    return SupervisedDetector.load(directory, **options)


register(
    "supervised",
    "same as 'encoder'; pass a directory written by 'unspun train' instead to use your own",
)(_encoder)

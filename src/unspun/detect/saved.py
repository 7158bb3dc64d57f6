"""The directory of a trained detector with a logistic head (the encoder and the language-model
detectors): detector.json, whose ``kind`` is the class's import string and which vouches for the
head file by its hash, the head weights, and the calibration beside them when there is one."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

from unspun.detect.calibration import CALIBRATION_FILE, Calibration
from unspun.detect.registry import DETECTOR_FILE, kind_matches, kind_of, write_detector_file
from unspun.detect.supervised.head import LinearHead, load_heads, save_heads
from unspun.errors import ConfigError

HEAD_FILE = "head.npz"

__all__ = [
    "DETECTOR_FILE",
    "HEAD_FILE",
    "file_sha1",
    "load_shipped",
    "package_directory",
    "read_trained",
    "save_trained",
]


def package_directory(name: str) -> Path:
    """``unspun/data/NAME`` inside the installed package: where a detector this project trained
    ships."""
    return Path(str(resources.files("unspun") / "data" / name))


def load_shipped(
    detector_class: type, directory: Path, name: str, *, missing_hint: str = "", **options: Any
) -> Any:
    """``detector_class.load(directory, **options)``, or a one-line ConfigError when the shipped
    files are not in this installation."""
    if not (directory / DETECTOR_FILE).is_file():
        raise ConfigError(
            f"the shipped {name} detector is missing from this installation{missing_hint}"
        )
    return detector_class.load(directory, **options)


def file_sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()[:16]


def save_trained(
    directory: Path,
    detector_class: type,
    config: dict[str, Any],
    heads: dict[str, LinearHead],
    calibration: Calibration | None,
) -> dict[str, Any]:
    """Write the heads, then detector.json (``config`` with this class's kind and the heads'
    hash), then the calibration; returns the config as written."""
    directory.mkdir(parents=True, exist_ok=True)
    save_heads(directory / HEAD_FILE, **heads)
    written = dict(config, kind=kind_of(detector_class), head_sha1=file_sha1(directory / HEAD_FILE))
    write_detector_file(directory, written)
    if calibration is not None:
        calibration.save(directory / CALIBRATION_FILE)
    return written


def read_trained(
    directory: Path, detector_class: type, *head_names: str, name: str, modified_hint: str = ""
) -> tuple[dict[str, Any], tuple[LinearHead, ...]]:
    """detector.json and the named heads of ``directory``, refused (ConfigError) when the files
    cannot be read, when the kind is another detector's, or when the head is not the one
    detector.json was written with. ``name``: the detector's name for the messages."""
    try:
        config = json.loads((directory / DETECTOR_FILE).read_text(encoding="utf-8"))
        heads = load_heads(directory / HEAD_FILE, *head_names)
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"{directory} is not a trained unspun detector: {exc}") from None
    if not kind_matches(config.get("kind"), detector_class):
        raise ConfigError(f"{directory} holds a {config.get('kind')!r} detector, not {name}")
    if config.get("head_sha1") != file_sha1(directory / HEAD_FILE):
        raise ConfigError(f"{directory}: {HEAD_FILE} does not match {DETECTOR_FILE}{modified_hint}")
    return config, tuple(heads)


def load_calibration(directory: Path) -> Calibration | None:
    """The calibration saved beside the detector, if any."""
    path = directory / CALIBRATION_FILE
    return Calibration.load(path) if path.is_file() else None

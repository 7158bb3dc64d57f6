"""The Detector protocol, the Scores every detector returns, and the registry of detector names."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from unspun.errors import ConfigError


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
    ``probability``: a calibrated-looking probability when the detector has one (supervised
    classifiers do), else ``None`` and the calibration maps ``document`` to a probability.
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
    options that a calibration is only valid for."""

    name: str
    version: str

    @property
    def settings(self) -> dict[str, Any]: ...

    def score(self, texts: Sequence[str], *, passages: bool = True) -> list[Scores]: ...

    def save(self, directory: Path) -> None: ...


DetectorFactory = Callable[..., Detector]
_REGISTRY: dict[str, tuple[DetectorFactory, str]] = {}


def register(name: str, description: str) -> Callable[[DetectorFactory], DetectorFactory]:
    """Decorator: make ``factory(**options)`` available as ``--detector name``."""

    def decorate(factory: DetectorFactory) -> DetectorFactory:
        _REGISTRY[name] = (factory, description)
        return factory

    return decorate


PLUGINS_ENV = "UNSPUN_PLUGINS"


def plugin_modules() -> tuple[str, ...]:
    """Modules named in UNSPUN_PLUGINS (comma-separated) that register detectors of their own."""
    value = os.environ.get(PLUGINS_ENV, "")
    return tuple(name.strip() for name in value.split(",") if name.strip())


def import_plugins(modules: Sequence[str] | None = None) -> None:
    """Import detector plugins (default: those in UNSPUN_PLUGINS); their @register decorators add
    detectors to the registry. A plugin that cannot be imported is a ConfigError naming it."""
    for name in plugin_modules() if modules is None else modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - any failure of foreign code is one line
            raise ConfigError(
                f"{PLUGINS_ENV}: cannot import detector plugin {name!r}: "
                f"{type(exc).__name__}: {exc}"
            ) from None


def _load_builtin_detectors() -> None:
    # Importing the modules runs their @register decorators; kept lazy so `unspun --help` is fast.
    import unspun.detect.ensemble  # noqa: F401
    import unspun.detect.language_model  # noqa: F401
    import unspun.detect.supervised  # noqa: F401
    import unspun.detect.zeroshot  # noqa: F401

    import_plugins()


def available_detectors() -> dict[str, str]:
    """Registry name -> one-line description."""
    _load_builtin_detectors()
    return {name: description for name, (_, description) in sorted(_REGISTRY.items())}


def create_detector(name: str, **options: Any) -> Detector:
    """Build a detector by registry name, or load one saved by ``unspun train`` from a directory."""
    _load_builtin_detectors()
    if name in _REGISTRY:
        factory, _ = _REGISTRY[name]
        return factory(**options)
    path = Path(name)
    if path.is_dir() and (path / "detector.json").is_file():
        from unspun.detect.saved import load_saved_detector

        return load_saved_detector(path, **options)
    known = ", ".join(sorted(_REGISTRY))
    raise ConfigError(f"unknown detector {name!r}: choose one of {known}, or a trained directory")

"""The detector registry: every name ``--detector`` accepts, the import string of its factory and a
one-line description; the options each detector takes; and loading a saved detector directory,
whose ``detector.json`` names its class by the same kind of import string (``kind``).

This module imports no detector: a factory is imported by its string when its name is used, so
listing names stays fast and nothing here depends on the implementations. Plugins add names to the
same table, through the ``unspun.detectors`` entry-point group of an installed package or through
a module named in UNSPUN_PLUGINS that calls :func:`register`.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from unspun.errors import ConfigError

DETECTOR_FILE = "detector.json"
PLUGINS_ENV = "UNSPUN_PLUGINS"
ENTRY_POINT_GROUP = "unspun.detectors"
DEFAULT = "default"
DEFAULT_ENV = "UNSPUN_DETECTOR"
DEFAULT_DETECTOR = "hidden-state"

# A factory returns a Detector (unspun.detect.base); not imported here, so that base can re-export
# this module's functions without an import cycle.
DetectorFactory = Callable[..., Any]


@dataclass(frozen=True)
class Entry:
    """One registered name: ``target`` is "package.module:attribute" (imported when first used)
    or, for detectors registered at run time, the factory itself."""

    target: str | DetectorFactory
    description: str | None


_LM = "(--model)"
_BUILTIN: dict[str, Entry] = {
    "likelihood": Entry(
        "unspun.detect.zeroshot.stats:LogLikelihoodDetector",
        f"mean token log-likelihood under one causal LM {_LM}",
    ),
    "log-rank": Entry(
        "unspun.detect.zeroshot.stats:LogRankDetector",
        f"mean token log-rank under one causal LM {_LM}",
    ),
    "entropy": Entry(
        "unspun.detect.zeroshot.stats:EntropyDetector",
        f"mean next-token entropy under one causal LM {_LM}",
    ),
    "lrr": Entry(
        "unspun.detect.zeroshot.stats:LRRDetector",
        f"log-likelihood / log-rank ratio, DetectLLM {_LM}",
    ),
    "gltr": Entry(
        "unspun.detect.zeroshot.stats:GLTRDetector",
        f"GLTR rank buckets: share of top-10 tokens {_LM}",
    ),
    "fast-detectgpt": Entry(
        "unspun.detect.zeroshot.fast_detectgpt:FastDetectGPT",
        "Fast-DetectGPT analytic sampling discrepancy (--scoring-model, --sampling-model)",
    ),
    "binoculars": Entry(
        "unspun.detect.zeroshot.binoculars:Binoculars",
        "Binoculars: perplexity over cross-perplexity of a pair of LMs (needs --observer, "
        "--performer)",
    ),
    "encoder": Entry(
        "unspun.detect.supervised:shipped_detector",
        "encoder-only detector shipped with unspun (all-MiniLM-L6-v2 + style features): ~10x "
        "faster than the default, for large crawls",
    ),
    "supervised": Entry(
        "unspun.detect.supervised:shipped_detector",
        "same as 'encoder'; pass a directory written by 'unspun train' instead to use your own",
    ),
    "language-model": Entry(
        "unspun.detect.language_model:shipped_detector",
        "Gemma 3 270M token statistics (first 256 tokens) + a trained head, shipped with unspun; "
        "the previous default, and the one that gives token evidence",
    ),
    "hidden-state": Entry(
        "unspun.detect.hidden_state:shipped_detector",
        "Gemma 3 270M hidden states (mean over the whole text, up to 1,024 tokens) + heads "
        "trained on paired current-model and older-model news, shipped with unspun (no output "
        "layer: fast on a CPU)",
    ),
    "tuned-lm": Entry(
        "unspun.detect.tuned_lm:shipped_detector",
        "Fast-DetectGPT read with Gemma 3 270M whose top layers carry a LoRA adapter tuned on "
        "paired news (shipped with unspun)",
    ),
    "ensemble": Entry(
        "unspun.detect.ensemble:trained_ensemble",
        "logistic combiner over several detectors, trained with `unspun train-ensemble`",
    ),
}
# "default" is not a factory but a name resolved when used (see resolve_name).
_DEFAULT_DESCRIPTION = (
    f"the default: {DEFAULT_DETECTOR}, or the detector the {DEFAULT_ENV} environment variable names"
)
# detector.json kinds written before kinds were import strings (the shipped directories and those
# trained by earlier versions); kept readable.
_OLD_KINDS = {
    "supervised": "unspun.detect.supervised.model:SupervisedDetector",
    "language-model": "unspun.detect.language_model:LanguageModelDetector",
    "ensemble": "unspun.detect.ensemble:EnsembleDetector",
}

_registered: dict[str, Entry] = {}
_entry_points_seen: tuple[tuple[str, ...], dict[str, Entry]] | None = None


# ---- registering -----------------------------------------------------------------------------


def register(name: str, factory: str | DetectorFactory, description: str | None = None) -> None:
    """Make ``factory(**options)`` available as ``--detector name``.

    ``factory``: a callable or its import string ("package.module:attribute"); its keyword
    parameters are the options the detector takes. ``description``: one line for ``unspun
    detectors`` (default: the first line of the factory's docstring). Registering a name again
    replaces it. A plugin module named in UNSPUN_PLUGINS calls this when imported.
    """
    if name == DEFAULT:
        raise ConfigError(f"{DEFAULT!r} is not a detector of its own; set {DEFAULT_ENV} instead")
    _registered[name] = Entry(factory, description)


def plugin_modules() -> tuple[str, ...]:
    """Modules named in UNSPUN_PLUGINS (comma-separated) that register detectors of their own."""
    value = os.environ.get(PLUGINS_ENV, "")
    return tuple(name.strip() for name in value.split(",") if name.strip())


def import_plugins(modules: Sequence[str] | None = None) -> None:
    """Import detector plugins (default: those in UNSPUN_PLUGINS); they call :func:`register`.
    A plugin that cannot be imported is a ConfigError naming it."""
    for name in plugin_modules() if modules is None else modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - any failure of foreign code is one line
            raise ConfigError(
                f"{PLUGINS_ENV}: cannot import detector plugin {name!r}: "
                f"{type(exc).__name__}: {exc}"
            ) from None


def _entry_point_detectors() -> dict[str, Entry]:
    """Detectors that installed packages declare in the ``unspun.detectors`` entry-point group
    (name = "package.module:factory"); read again only when sys.path changes."""
    global _entry_points_seen
    key = tuple(sys.path)
    if _entry_points_seen is None or _entry_points_seen[0] != key:
        found = {
            point.name: Entry(point.value, None)
            for point in metadata.entry_points(group=ENTRY_POINT_GROUP)
        }
        _entry_points_seen = (key, found)
    return _entry_points_seen[1]


def _table() -> dict[str, Entry]:
    """Built-in names, then entry points, then names registered at run time (later ones win)."""
    import_plugins()
    return {**_BUILTIN, **_entry_point_detectors(), **_registered}


# ---- looking names up ------------------------------------------------------------------------


def import_string(target: str) -> Any:
    """The object an import string "package.module:attribute[.attribute]" names."""
    module_name, _, attributes = target.partition(":")
    if not module_name or not attributes:
        raise ConfigError(f"{target!r} is not an import string of the form 'package.module:name'")
    try:
        found: Any = importlib.import_module(module_name)
        for attribute in attributes.split("."):
            found = getattr(found, attribute)
    except Exception as exc:  # noqa: BLE001 - a plugin's failure to import is one line too
        raise ConfigError(f"cannot import {target!r}: {type(exc).__name__}: {exc}") from None
    return found


def kind_of(detector_class: type) -> str:
    """The import string a saved detector of this class records as its ``kind``."""
    return f"{detector_class.__module__}:{detector_class.__qualname__}"


def resolve_name(name: str) -> str:
    """``default`` -> the detector UNSPUN_DETECTOR names (else the hidden-state detector);
    any other name as it is."""
    if name != DEFAULT:
        return name
    chosen = os.environ.get(DEFAULT_ENV, "").strip() or DEFAULT_DETECTOR
    if chosen == DEFAULT:
        raise ConfigError(f"{DEFAULT_ENV}=default names itself; name a detector")
    return chosen


def available_detectors() -> dict[str, str]:
    """Registry name -> one-line description (plugins included), sorted by name."""
    table = _table()
    described = {name: _description(entry) for name, entry in table.items()}
    described[DEFAULT] = _DEFAULT_DESCRIPTION
    return dict(sorted(described.items()))


def _description(entry: Entry) -> str:
    if entry.description is not None:
        return entry.description
    factory = _factory(entry)
    lines = (inspect.getdoc(factory) or "").strip().splitlines()
    return lines[0] if lines else "(no description)"


def _factory(entry: Entry) -> DetectorFactory:
    factory = import_string(entry.target) if isinstance(entry.target, str) else entry.target
    if not callable(factory):
        raise ConfigError(f"detector factory {entry.target!r} is not callable")
    return factory


def is_saved_detector(path: Path) -> bool:
    return path.is_dir() and (path / DETECTOR_FILE).is_file()


def _unknown_detector(name: str, table: dict[str, Entry]) -> ConfigError:
    known = ", ".join(sorted([*table, DEFAULT]))
    return ConfigError(f"unknown detector {name!r}: choose one of {known}, or a trained directory")


def _constructor(name: str) -> tuple[DetectorFactory, Path | None]:
    """The callable that builds detector ``name`` and, for a saved directory, the directory
    (the callable is then the class's ``load``, which takes it first)."""
    table = _table()
    resolved = resolve_name(name)
    if resolved in table:
        return _factory(table[resolved]), None
    path = Path(resolved)
    if is_saved_detector(path):
        return saved_class(path).load, path
    raise _unknown_detector(resolved, table)


# ---- options ---------------------------------------------------------------------------------


def _keyword_parameters(constructor: DetectorFactory, *, skip_first: bool) -> dict[str, Any]:
    try:
        parameters = list(inspect.signature(constructor).parameters.values())
    except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
        return {}
    if skip_first and parameters:
        parameters = parameters[1:]  # the directory a saved detector is loaded from
    return {
        parameter.name: parameter.default
        for parameter in parameters
        if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
    }


def detector_options(name: str) -> dict[str, Any]:
    """The options detector ``name`` (a registry name or a saved directory) takes, with their
    defaults: the keyword parameters of its factory (of its class's ``load`` for a directory).
    A required option's default is ``inspect.Parameter.empty``."""
    constructor, directory = _constructor(name)
    return _keyword_parameters(constructor, skip_first=directory is not None)


def _flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def check_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """The options that were given (``None`` means not given, so each detector keeps its own
    default); an option detector ``name`` does not take is a ConfigError naming the detector,
    the option and the options it takes."""
    return _given_options(name, options, detector_options(name))


def _given_options(name: str, options: dict[str, Any], taken: dict[str, Any]) -> dict[str, Any]:
    given = {key: value for key, value in options.items() if value is not None}
    unknown = sorted(set(given) - set(taken))
    if unknown:
        takes = ", ".join(_flag(option) for option in taken) or "no options"
        raise ConfigError(
            f"detector {name!r} does not take {', '.join(_flag(o) for o in unknown)} "
            f"(it takes {takes})"
        )
    return given


# ---- building --------------------------------------------------------------------------------


def create_detector(name: str, **options: Any) -> Any:
    """Build a Detector by registry name, or load one saved in a directory (``unspun train``,
    ``unspun train-ensemble``, or any detector's ``save``). Options left as ``None`` keep the
    detector's defaults; one it does not take is a ConfigError (see :func:`check_options`)."""
    constructor, directory = _constructor(name)
    taken = _keyword_parameters(constructor, skip_first=directory is not None)
    given = _given_options(name, options, taken)
    if directory is not None:
        return constructor(directory, **given)
    return constructor(**given)


def saved_class(directory: Path) -> type:
    """The class whose ``load(directory, **options)`` reads this saved detector: the import
    string in detector.json's ``kind`` (or one of the short kinds written by earlier versions)."""
    try:
        config = json.loads((directory / DETECTOR_FILE).read_text(encoding="utf-8"))
        kind = config.get("kind") if isinstance(config, dict) else None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{directory}/{DETECTOR_FILE} cannot be read: {exc}") from None
    target = _OLD_KINDS.get(kind, kind) if isinstance(kind, str) else None
    if target is None or ":" not in target:
        raise ConfigError(f"{directory}: unknown detector kind {kind!r}")
    found = import_string(target)
    if not callable(getattr(found, "load", None)):
        raise ConfigError(f"{directory}: detector kind {kind!r} has no load()")
    return found


def write_detector_file(directory: Path, config: dict[str, Any]) -> None:
    """Write ``config`` as the directory's detector.json (the one format every saver uses)."""
    (directory / DETECTOR_FILE).write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")


def kind_matches(kind: Any, detector_class: type) -> bool:
    """Whether a detector.json ``kind`` names this class (by import string or old short name)."""
    expected = kind_of(detector_class)
    return kind == expected or (isinstance(kind, str) and _OLD_KINDS.get(kind) == expected)

"""Command-line options shared by check, eval, scan and serve, so each means the same everywhere."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_type_hints

import typer

DEFAULT_MAX_BYTES = 10_000_000
DETECTOR_PANEL = "Detector"


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def _check_fpr(value: float) -> float:
    if not 0 < value < 1:
        raise typer.BadParameter("must be between 0 and 1 (0.01 = one human text in 100 flagged)")
    return value


def _check_positive(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise typer.BadParameter("must be at least 1")
    return value


DetectorName = Annotated[
    str,
    typer.Option(
        "--detector",
        "-d",
        help="Detector: a registry name (default: the shipped one) or a directory written by "
        "`unspun train`.",
        rich_help_panel=DETECTOR_PANEL,
    ),
]
TargetFpr = Annotated[
    float,
    typer.Option(
        "--target-fpr",
        help="False-positive rate the threshold is set at: 0.01 flags about 1 in 100 human texts.",
        callback=_check_fpr,
        rich_help_panel=DETECTOR_PANEL,
    ),
]
Observer = Annotated[
    str | None,
    typer.Option(
        "--observer",
        help="Observer model (HF id or path) for Binoculars.",
        rich_help_panel=DETECTOR_PANEL,
    ),
]
Performer = Annotated[
    str | None,
    typer.Option(
        "--performer",
        help="Performer model (HF id or path) for Binoculars.",
        rich_help_panel=DETECTOR_PANEL,
    ),
]
ScoringModel = Annotated[
    str | None,
    typer.Option(
        "--scoring-model",
        help="Scoring model (HF id or path) for Fast-DetectGPT.",
        rich_help_panel=DETECTOR_PANEL,
    ),
]
SamplingModel = Annotated[
    str | None,
    typer.Option(
        "--sampling-model",
        help="Sampling model (HF id or path) for Fast-DetectGPT.",
        rich_help_panel=DETECTOR_PANEL,
    ),
]
Model = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="Language model (HF id or path) for single-model detectors.",
        rich_help_panel=DETECTOR_PANEL,
    ),
]
Device = Annotated[
    str | None,
    typer.Option(
        "--device",
        help="Torch device: cpu, cuda, cuda:1, mps (default: a GPU when present).",
        rich_help_panel=DETECTOR_PANEL,
    ),
]
BatchSize = Annotated[
    int | None,
    typer.Option(
        "--batch-size",
        help="Texts per model batch.",
        callback=_check_positive,
        rich_help_panel=DETECTOR_PANEL,
    ),
]
Format = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        help="text: a readable report; json: the machine-readable contract.",
        case_sensitive=False,
    ),
]
MaxBytes = Annotated[
    int,
    typer.Option(
        "--max-bytes",
        help="Refuse inputs larger than this many bytes (checked before reading).",
        callback=_check_positive,
    ),
]
# The labelled data of train, eval and train-ensemble.
DataFiles = Annotated[
    list[Path],
    typer.Argument(
        metavar="DATA.jsonl",
        help="JSONL files, one object per line: text, label (human|machine), optional domain, "
        "generator, pair_id.",
    ),
]


def detector_options(
    *,
    observer: str | None = None,
    performer: str | None = None,
    scoring_model: str | None = None,
    sampling_model: str | None = None,
    model: str | None = None,
    device: str | None = None,
    batch_size: int | None = None,
) -> dict[str, Any]:
    """The detector options the user actually gave (for ``CheckConfig.detector_options``); the
    ones left out keep each detector's own defaults."""
    given = {
        "observer": observer,
        "performer": performer,
        "scoring_model": scoring_model,
        "sampling_model": sampling_model,
        "model": model,
        "device": device,
        "batch_size": batch_size,
    }
    return {key: value for key, value in given.items() if value is not None}


@dataclass(frozen=True, slots=True)
class ModelOptions:
    """The detector model options one command was given (None: the detector's own default)."""

    observer: str | None = None
    performer: str | None = None
    scoring_model: str | None = None
    sampling_model: str | None = None
    model: str | None = None
    device: str | None = None
    batch_size: int | None = None

    def detector_options(self, *, batch_size: bool = True) -> dict[str, Any]:
        """What ``detector_options`` makes of these; ``batch_size=False`` leaves the batch size
        out, for commands that hand it to their own batching instead of to the detector."""
        given = {field.name: getattr(self, field.name) for field in fields(self)}
        if not batch_size:
            del given["batch_size"]
        return detector_options(**given)


# The Typer option of each ModelOptions field, in the order --help lists them.
_MODEL_OPTION_TYPES: dict[str, Any] = {
    "observer": Observer,
    "performer": Performer,
    "scoring_model": ScoringModel,
    "sampling_model": SamplingModel,
    "model": Model,
    "device": Device,
    "batch_size": BatchSize,
}
MODELS_PARAMETER = "models"
_BY_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)

R = TypeVar("R")


def model_options(*, batch_size: bool = True) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Give a command the detector model options (--observer ... --batch-size) as one value.

    The command declares a ``models: ModelOptions`` parameter; the decorated function instead
    shows Typer the separate options at the end of its parameters (Typer reads
    ``inspect.signature`` and type hints) and hands the command one ``ModelOptions`` built from
    them. ``batch_size=False`` leaves --batch-size out, for a command with its own."""
    names = [field.name for field in fields(ModelOptions)]
    if not batch_size:
        names.remove("batch_size")

    def decorate(command: Callable[..., R]) -> Callable[..., R]:
        signature = inspect.signature(command)
        if MODELS_PARAMETER not in signature.parameters:
            raise TypeError(f"{command.__name__} has no {MODELS_PARAMETER!r} parameter")
        clash = sorted(set(names) & set(signature.parameters))
        if clash:
            raise TypeError(f"{command.__name__} already has the parameters {', '.join(clash)}")
        if any(p.kind not in _BY_KEYWORD for p in signature.parameters.values()):
            raise TypeError(
                f"{command.__name__}: only parameters passable by keyword are supported"
            )
        # Resolve the command's own (string, postponed) annotations now, in its module, so the
        # new signature carries real types whichever module Typer later resolves it from;
        # ModelOptions is supplied in case the module imports it for type checking only.
        hints = get_type_hints(
            command, localns={ModelOptions.__name__: ModelOptions}, include_extras=True
        )
        kept = [
            parameter.replace(annotation=hints.get(parameter.name, parameter.annotation))
            for parameter in signature.parameters.values()
            if parameter.name != MODELS_PARAMETER
        ]
        added = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=_MODEL_OPTION_TYPES[name],
            )
            for name in names
        ]
        shown = signature.replace(
            parameters=[*kept, *added], return_annotation=hints.get("return", signature.empty)
        )

        @functools.wraps(command)
        def with_model_options(*args: Any, **kwargs: Any) -> R:
            bound = shown.bind(*args, **kwargs)
            bound.apply_defaults()
            given = bound.arguments
            models = ModelOptions(**{name: given.pop(name) for name in names})
            return command(**given, **{MODELS_PARAMETER: models})

        with_model_options.__signature__ = shown  # type: ignore[attr-defined]
        annotations = {name: parameter.annotation for name, parameter in shown.parameters.items()}
        if shown.return_annotation is not shown.empty:
            annotations["return"] = shown.return_annotation
        with_model_options.__annotations__ = annotations
        return with_model_options

    return decorate


class _TrimmedLines:
    """A text stream that drops the spaces Rich pads every table and grid line with, so piped
    output (files, grep, diff) has no trailing whitespace. A terminal gets Rich's output as is."""

    def __init__(self, target) -> None:  # noqa: ANN001
        self.target = target
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self.target.write(line.rstrip() + "\n")
        return len(text)

    def flush(self) -> None:
        if self.pending:  # an unfinished line is written as it is rather than held back
            self.target.write(self.pending)
            self.pending = ""
        self.target.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.target.fileno()


def stdout_console():
    """The console reports and tables go to; piped, its lines carry no trailing spaces."""
    import sys

    from rich.console import Console

    out = sys.stdout
    return Console(highlight=False, file=out if out.isatty() else _TrimmedLines(out))


def stderr_console():
    """The console progress and status go to, so stdout stays clean for ``--format json``."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


@contextmanager
def busy(message: str) -> Iterator[None]:
    """A spinner on stderr while something slow runs; silent when stderr is not a terminal."""
    console = stderr_console()
    if not console.is_terminal:
        yield
        return
    with console.status(message, spinner="dots"):
        yield


def quiet_model_loading() -> None:
    """Keep Hugging Face's own progress bars and advisory warnings off the terminal: the CLI draws
    its own progress, and stray tqdm lines would break the one-line-error promise. The user's own
    settings of these variables win."""
    import os

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

"""Command-line options shared by check, eval, scan and serve, so each means the same everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any

import typer

from unspun.errors import ConfigError

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


def unsupported_option_error(detector: str, exc: TypeError) -> ConfigError | None:
    """Turn a factory's "unexpected keyword argument 'x'" into a one-line ConfigError naming the
    option; None when the TypeError is something else (a bug, left to surface as one)."""
    message = str(exc)
    marker = "unexpected keyword argument "
    if marker not in message:
        return None
    name = message.split(marker, 1)[1].strip("'\" ")
    flag = "--" + name.replace("_", "-")
    return ConfigError(f"detector {detector!r} does not take the option {flag}")


def load_detector(name: str, options: dict[str, Any]):
    """``create_detector`` with an option the detector does not take reported as a ConfigError."""
    from unspun.detect.base import create_detector

    try:
        return create_detector(name, **options)
    except TypeError as exc:
        error = unsupported_option_error(name, exc)
        if error is None:
            raise
        raise error from None


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

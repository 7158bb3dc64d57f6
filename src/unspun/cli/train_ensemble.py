"""``unspun train-ensemble``: a logistic combiner over several detectors' scores, for
--detector ensemble."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from unspun.cli.options import (
    Format,
    ModelOptions,
    OutputFormat,
    model_options,
    quiet_model_loading,
    stdout_console,
)
from unspun.cli.progress import StageProgress
from unspun.errors import ConfigError
from unspun.wording import counted

DEFAULT_BATCH = 8


@model_options()
def train_ensemble(
    data: Annotated[
        list[Path],
        typer.Argument(metavar="DATA.jsonl", help="Labelled JSONL: text, label (human|machine)."),
    ],
    members: Annotated[
        str,
        typer.Option(
            "--members",
            "--ensemble",
            help="Detectors to combine, comma-separated, e.g. default,binoculars.",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Directory (default: the one --detector ensemble uses)."),
    ] = None,
    output_format: Format = OutputFormat.text,
    *,
    models: ModelOptions,
) -> None:
    """Train a logistic combiner over several detectors' scores; use it with --detector ensemble."""
    quiet_model_loading()
    from unspun.detect.data import read_labelled
    from unspun.detect.ensemble import ensemble_home

    records = read_labelled(data)
    directory = out or ensemble_home()
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"{directory}: exists and is not a directory")
    options = models.detector_options()
    from unspun.detect.ensemble import train_ensemble as fit_ensemble

    with StageProgress() as progress:
        summary = fit_ensemble(
            records,
            members,
            directory,
            options=options,
            batch_size=models.batch_size or DEFAULT_BATCH,
            progress=progress,
        )
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return

    console = stdout_console()
    console.print(f"Trained ensemble written to {directory}")
    for member in summary["members"]:
        console.print(
            f"  {member['name']}: weight {member['weight']:+.3f} (per standard deviation)"
        )
    console.print(
        f"  {counted(summary['trained_on'], 'text')} ({summary['human']:,} human, "
        f"{summary['machine']:,} machine); training-set AUROC {summary['train_auroc']:.3f} "
        "(optimistic: use unspun eval on held-out data)"
    )

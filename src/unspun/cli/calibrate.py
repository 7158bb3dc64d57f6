"""``unspun calibrate``: learn a detector's threshold on held-out human text (the work itself is
``unspun.detect.calibration.calibrate_detector``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from unspun.cli.options import (
    DetectorName,
    Format,
    ModelOptions,
    OutputFormat,
    TargetFpr,
    busy,
    model_options,
    quiet_model_loading,
    stdout_console,
)
from unspun.cli.progress import stage_bar

DEFAULT_BATCH = 8


@model_options()
def calibrate(
    human: Annotated[
        Path,
        typer.Argument(
            metavar="HUMAN.jsonl",
            help="Held-out human-written texts (JSONL with 'text'; records labelled machine are "
            "skipped). Never texts the detector was trained on.",
        ),
    ],
    detector: DetectorName = "binoculars",
    target_fpr: TargetFpr = 0.01,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Use only the first N human texts.", min=1)
    ] = None,
    output_format: Format = OutputFormat.text,
    *,
    models: ModelOptions,
) -> None:
    """Learn a detector's threshold on human text; saved for these exact models and settings."""
    quiet_model_loading()
    from unspun.detect.calibration import (
        calibrate_detector,
        one_in,
        require_enough_texts,
        save_calibration,
    )
    from unspun.detect.registry import create_detector
    from unspun.pipeline import calibration_info
    from unspun.synth import read_human

    articles, skipped = read_human(human)
    articles = articles[:limit] if limit else articles
    require_enough_texts(len(articles), target_fpr)
    options = models.detector_options()
    with busy(f"Loading detector {detector}…"):
        scorer = create_detector(detector, **options)
    with stage_bar("Scoring human texts") as advance:
        calibration = calibrate_detector(
            scorer,
            [a.text for a in articles],
            target_fpr=target_fpr,
            domains=[a.domain for a in articles],
            source=human.name,
            meta={"source": str(human), "skipped_machine_records": skipped},
            batch_size=models.batch_size or DEFAULT_BATCH,
            progress=advance,
        )
    path = save_calibration(calibration)
    threshold = calibration.threshold(target_fpr)
    measured = calibration_info(calibration, target_fpr)
    summary = {
        "calibration": str(path),
        "detector": scorer.name,
        "settings": scorer.settings,
        "human_texts": calibration.n,
        "target_fpr": target_fpr,
        "threshold": threshold,
        "measured": measured.model_dump(mode="json", exclude={"reference"}),
    }
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return

    console = stdout_console()
    console.print(f"Calibrated [bold]{scorer.name}[/] on {calibration.n:,} human texts -> {path}")
    console.print(f"  settings: {json.dumps(scorer.settings, sort_keys=True)}")
    console.print(
        f"  raw threshold {threshold:.6g} flags about {one_in(target_fpr)} human texts "
        f"(target FPR {target_fpr:g}); `unspun check` now uses it for these settings"
    )
    low, high = measured.interval
    console.print(
        f"  {measured.flagged} of {measured.human_texts:,} human texts reach it "
        f"({measured.false_positive_rate:.2%}; 95% interval {low:.2%}-{high:.2%})"
    )
    if high > 2 * target_fpr:
        console.print(
            f"  [yellow]the true rate may be up to {high / target_fpr:.1f}x the target: "
            "calibrate on more human text to narrow the interval[/]"
        )

"""``unspun eval``: measure any detector on labelled JSONL (AUROC with its interval, TPR at fixed
false-positive rates, F1, per domain and generator)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from unspun.cli.options import (
    DataFiles,
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
from unspun.wording import counted

DEFAULT_EVAL_BATCH = 16


@model_options()
def evaluate_command(
    data: DataFiles,
    detector: DetectorName = "default",
    target_fpr: TargetFpr = 0.01,
    output_format: Format = OutputFormat.text,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", metavar="ROC.png", help="Also write a ROC curve to this image."),
    ] = None,
    *,
    models: ModelOptions,
) -> None:
    """Measure a detector on labelled JSONL: AUROC, TPR at 1 % and 5 % FPR, F1, per group."""
    quiet_model_loading()
    from unspun.detect.calibration import find_calibration
    from unspun.detect.data import read_labelled
    from unspun.detect.evaluate import evaluate, roc_plot, score_records
    from unspun.detect.registry import create_detector

    records = read_labelled(data)
    options = models.detector_options()
    with busy(f"Loading detector {detector}…"):
        scorer = create_detector(detector, **options)
    calibration = find_calibration(scorer)
    threshold = calibration.threshold(target_fpr) if calibration is not None else None
    with stage_bar("Scoring") as advance:
        scores = score_records(
            scorer, records, batch_size=models.batch_size or DEFAULT_EVAL_BATCH, progress=advance
        )
    labels = [record.is_machine for record in records]
    domains = [record.domain for record in records]
    generators = [record.generator for record in records]
    result: dict[str, Any] = {
        **evaluate(
            scores,
            labels,
            domains=domains,
            generators=generators,
            threshold=threshold,
            threshold_target_fpr=target_fpr,
        ),
        "detector": {"name": scorer.name, "version": scorer.version},
    }
    if plot is not None:
        roc_plot(
            plot,
            scores,
            labels,
            domains=domains,
            generators=generators,
            title=f"{scorer.name} on {', '.join(p.name for p in data)}",
        )
        result["plot"] = str(plot)
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        _print_evaluation(result)


def _fmt(value: float | None, digits: int = 3) -> str:
    return (
        "—"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else (f"{value:.{digits}f}")
    )


def _fmt_interval(interval: list[float] | None) -> str:
    return "—" if interval is None else f"{interval[0]:.3f}-{interval[1]:.3f}"


def _print_evaluation(result: dict[str, Any]) -> None:
    from rich.table import Table

    console = stdout_console()
    detector = result["detector"]
    console.print(
        f"[bold]{detector['name']}[/] {detector['version']}: {counted(result['n'], 'text')} "
        f"({result['n_human']:,} human, {result['n_machine']:,} machine)"
    )
    overall = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("AUROC", "95% interval", "TPR @ 1% FPR", "TPR @ 5% FPR", "F1"):
        overall.add_column(column, justify="right")
    overall.add_row(
        _fmt(result["auroc"]),
        _fmt_interval(result.get("auroc_interval")),
        _fmt(result["tpr_at_1pct_fpr"]),
        _fmt(result["tpr_at_5pct_fpr"]),
        _fmt(result["f1"]),
    )
    console.print(overall)
    if result["f1_threshold_source"] == "calibrated":
        where = (
            f"at the detector's calibrated threshold (target FPR "
            f"{result['f1_threshold_target_fpr']:g})"
        )
    else:
        where = "at the best-F1 threshold on this set (no calibration; optimistic)"
    console.print(
        f"[dim]F1 {where}. TPR thresholds are set on this set's human texts; the AUROC "
        "interval is DeLong's 95% interval.[/]"
    )
    if result["skipped_non_finite"]:
        console.print(
            f"[yellow]{counted(result['skipped_non_finite'], 'text')} had no finite score[/]"
        )
    groups = Table(title="By domain and generator", title_justify="left", header_style="bold")
    for column, justify in (
        ("Domain", "left"),
        ("Generator", "left"),
        ("n", "right"),
        ("AUROC", "right"),
        ("95% interval", "right"),
        ("TPR@1%", "right"),
        ("TPR@5%", "right"),
    ):
        groups.add_column(column, justify=justify)  # type: ignore[arg-type]
    for group in result["groups"]:
        groups.add_row(
            group["domain"],
            group["generator"],
            f"{group['n']:,}",
            _fmt(group["auroc"]),
            _fmt_interval(group.get("auroc_interval")),
            _fmt(group["tpr_at_1pct_fpr"]),
            _fmt(group["tpr_at_5pct_fpr"]),
        )
    console.print(groups)
    if result.get("plot"):
        console.print(f"ROC curve written to {result['plot']}")

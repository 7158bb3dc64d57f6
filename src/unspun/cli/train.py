"""``unspun train`` (fit and calibrate a supervised detector) and ``unspun eval`` (measure any
detector on labelled JSONL), with progress bars on stderr."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from unspun.cli.options import (
    DetectorName,
    Format,
    ModelOptions,
    OutputFormat,
    TargetFpr,
    busy,
    load_detector,
    model_options,
    quiet_model_loading,
    stderr_console,
    stdout_console,
)
from unspun.errors import ConfigError

DEFAULT_EVAL_BATCH = 16


class DetectorKind(StrEnum):
    encoder = "encoder"
    language_model = "language-model"


DataFiles = Annotated[
    list[Path],
    typer.Argument(
        metavar="DATA.jsonl",
        help="JSONL files, one object per line: text, label (human|machine), optional domain, "
        "generator, pair_id.",
    ),
]


class StageProgress:
    """A ``progress(stage, done, total)`` callback drawing one Rich bar per stage on stderr."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = stderr_console()
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not console.is_terminal,
        )
        self.tasks: dict[str, Any] = {}
        self.current: str | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.current and self.current is not None:
            # A new stage means the previous one is over, even if it never reported its end.
            task = self.tasks[self.current]
            finished = self.progress.tasks[task].total
            self.progress.update(task, completed=finished or 0)
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total or None)
        self.current = stage
        self.progress.update(self.tasks[stage], completed=done, total=total or None)

    def __enter__(self) -> StageProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.progress.stop()


@model_options()
def train(
    data: DataFiles,
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Directory to write the trained detector to."),
    ],
    encoder: Annotated[
        str | None,
        typer.Option(
            "--encoder",
            metavar="HF_ID_OR_PATH",
            help="Sentence encoder to build on (default: all-MiniLM-L6-v2, packaged).",
        ),
    ] = None,
    fine_tune: Annotated[
        bool | None,
        typer.Option(
            "--fine-tune/--no-fine-tune",
            help="Fine-tune the whole encoder too (default: only when a GPU is present).",
            show_default=False,
        ),
    ] = None,
    adapt: Annotated[
        bool | None,
        typer.Option(
            "--adapt/--no-adapt",
            help="Train small low-rank adapters on the pooled encoder blocks, cheap enough for a "
            "CPU (default: yes, unless --fine-tune).",
            show_default=False,
        ),
    ] = None,
    augment: Annotated[
        bool,
        typer.Option(
            "--augment/--no-augment",
            help="Also train the head on an edited copy (typos, dropped articles) of each training "
            "text, so such cheap edits do not hide machine text.",
        ),
    ] = True,
    kind: Annotated[
        DetectorKind,
        typer.Option(
            "--kind",
            help="language-model: a head over a causal LM's token statistics (the default "
            "detector's kind; --model picks the LM); encoder: a head over a sentence encoder.",
            case_sensitive=False,
        ),
    ] = DetectorKind.encoder,
    max_tokens: Annotated[
        int,
        typer.Option(
            "--max-tokens",
            help="language-model: tokens read per text (the beginning of each).",
            min=16,
        ),
    ] = 256,
    features: Annotated[
        str | None,
        typer.Option(
            "--features",
            metavar="A,B",
            help="language-model: the token statistics the head weighs (default: all; the "
            "shipped default uses mean_logprob, see the docs).",
        ),
    ] = None,
    target_fpr: TargetFpr = 0.01,
    ensemble: Annotated[
        str | None,
        typer.Option(
            "--ensemble",
            metavar="A,B",
            help="Train a combiner over these detectors instead (e.g. default,binoculars); "
            "model options as for check.",
        ),
    ] = None,
    output_format: Format = OutputFormat.text,
    *,
    models: ModelOptions,
) -> None:
    """Train and calibrate a detector on labelled JSONL (supervised by default, or an ensemble
    with --ensemble); use it with --detector DIR."""
    quiet_model_loading()
    from unspun.detect.data import read_labelled

    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: exists and is not a directory")
    records = read_labelled(data)
    if ensemble is not None:
        from unspun.detect.ensemble import train_ensemble

        with StageProgress() as progress:
            summary = train_ensemble(
                records,
                ensemble,
                out,
                options=models.detector_options(batch_size=False),
                batch_size=models.batch_size or 16,
                progress=progress,
            )
        _print_summary(summary, output_format, title=f"Trained ensemble written to {out}")
        return
    if kind is DetectorKind.language_model:
        from unspun.detect.language_model_train import train_language_model
        from unspun.models.packaged import PACKAGED_LM

        with StageProgress() as progress:
            summary = train_language_model(
                records,
                out,
                model=models.model or PACKAGED_LM,
                max_tokens=max_tokens,
                target_fpr=target_fpr,
                head_features=[f.strip() for f in features.split(",") if f.strip()]
                if features
                else None,
                device=models.device,
                progress=progress,
            )
        _print_summary(summary, output_format, title=f"Trained detector written to {out}")
        return
    from unspun.detect.supervised.train import train_detector

    options: dict[str, Any] = {
        "fine_tune": fine_tune,
        "adapt": adapt,
        "augment": augment,
        "target_fpr": target_fpr,
        "device": models.device,
    }
    if encoder is not None:
        options["encoder"] = encoder
    with StageProgress() as progress:
        summary = train_detector(records, out, progress=progress, **options)
    _print_summary(summary, output_format, title=f"Trained detector written to {out}")


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

    records = read_labelled(data)
    options = models.detector_options()
    with busy(f"Loading detector {detector}…"):
        scorer = load_detector(detector, options)
    calibration = find_calibration(scorer)
    threshold = calibration.threshold(target_fpr) if calibration is not None else None
    with _bar("Scoring", len(records)) as advance:
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


@contextmanager
def _bar(description: str, total: int) -> Iterator[Any]:
    with StageProgress() as progress:
        yield lambda done, all_: progress(description, done, all_)


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
        f"[bold]{detector['name']}[/] {detector['version']}: {result['n']:,} texts "
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
        console.print(f"[yellow]{result['skipped_non_finite']} texts had no finite score[/]")
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


def _print_summary(summary: dict[str, Any], output_format: OutputFormat, *, title: str) -> None:
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(summary, indent=2, default=str) + "\n")
        return
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in summary.items():
        if key == "warning":
            continue
        shown = (
            f"{value:.4g}"
            if isinstance(value, float)
            else (json.dumps(value, default=str) if isinstance(value, dict | list) else str(value))
        )
        table.add_row(key, shown)
    console = stdout_console()
    console.print(table)
    if summary.get("warning"):
        console.print(f"[yellow]warning: {summary['warning']}[/]")


def register(app: typer.Typer) -> None:
    app.command("train", no_args_is_help=True)(train)
    app.command("eval", no_args_is_help=True)(evaluate_command)

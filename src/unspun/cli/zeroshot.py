"""``unspun detectors``, ``unspun calibrate``, ``unspun synth`` and ``unspun train-ensemble``: the
commands around the zero-shot language-model detectors."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from unspun.cli.options import (
    BatchSize,
    DetectorName,
    Device,
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

DEFAULT_BATCH = 8


def detectors(output_format: Format = OutputFormat.text) -> None:
    """List the detectors --detector accepts, and the calibrations saved for them."""
    from unspun.detect.base import available_detectors
    from unspun.detect.calibration import Calibration, calibration_home

    names = available_detectors()
    calibrations: dict[str, list[dict[str, Any]]] = {}
    home = calibration_home()
    if home.is_dir():
        for path in sorted(home.glob("*.json")):
            try:
                calibration = Calibration.load(path)
            except ConfigError:
                continue
            calibrations.setdefault(calibration.detector, []).append(
                {"file": str(path), "n": calibration.n, "settings": calibration.settings}
            )
    if output_format is OutputFormat.json:
        rows = [
            {"name": name, "description": text, "calibrations": calibrations.get(name, [])}
            for name, text in names.items()
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    from rich.table import Table

    table = Table(header_style="bold", box=None, pad_edge=False)
    table.add_column("Detector")
    table.add_column("What it does")
    table.add_column("Saved calibrations", justify="right")
    for name, text in names.items():
        table.add_row(
            name, text, str(len(calibrations.get(name, []))) if name in calibrations else ""
        )
    stdout_console().print(table)


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
    from unspun.detect.calibration import Calibration, calibration_home, one_in
    from unspun.pipeline import calibration_info
    from unspun.synth import read_human

    articles, skipped = read_human(human)
    articles = articles[:limit] if limit else articles
    if target_fpr * len(articles) < 1:
        raise ConfigError(
            f"{len(articles)} human texts cannot show a false-positive rate of {target_fpr:g}; "
            f"use at least {int(1 / target_fpr) + 1} texts (better: 10x that)"
        )
    options = models.detector_options()
    with busy(f"Loading detector {detector}…"):
        scorer = load_detector(detector, options)
    with _progress("Scoring human texts", len(articles)) as advance:
        scores = _score(
            [a.text for a in articles], scorer, models.batch_size or DEFAULT_BATCH, advance
        )
    kept = [i for i, s in enumerate(scores) if s == s and abs(s) != float("inf")]
    finite = [scores[i] for i in kept]
    if not finite:
        raise ConfigError("no human text got a finite score (all too short?)")
    calibration = Calibration(
        detector=scorer.name,
        settings=scorer.settings,
        human_scores=finite,
        reference=f"{len(finite):,} human texts from {human.name}",
        human_domains=[str(articles[i].domain) for i in kept],
        meta={
            "source": str(human),
            "skipped_machine_records": skipped,
            "skipped_non_finite": len(scores) - len(finite),
            "version": scorer.version,
        },
    )
    calibration.check_target_fpr(target_fpr)
    home = calibration_home()
    home.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(json.dumps(scorer.settings, sort_keys=True, default=str).encode())
    path = home / f"{_safe(scorer.name)}-{digest.hexdigest()[:12]}.json"
    calibration.save(path)
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


def synth(
    human: Annotated[Path, typer.Argument(metavar="HUMAN.jsonl", help="Human articles (JSONL).")],
    model: Annotated[str, typer.Option("--model", help="Generator: HF id or local path.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the JSONL.")],
    style: Annotated[
        str,
        typer.Option(
            "--style",
            help="continue: base model continues headline + lead; chat: an instruction-tuned model "
            "writes the article; auto: chat when the model has a chat template.",
        ),
    ] = "auto",
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1)] = 400,
    temperature: Annotated[float, typer.Option("--temperature")] = 1.0,
    top_p: Annotated[float, typer.Option("--top-p")] = 0.95,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    with_human: Annotated[
        bool,
        typer.Option("--with-human", help="Also write each human original with the same pair_id."),
    ] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="First N articles.")] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace OUT if it exists.")
    ] = False,
    device: Device = None,
    batch_size: BatchSize = None,
) -> None:
    """Write machine-written counterparts of human articles, spun from headline and lead."""
    quiet_model_loading()
    from unspun.models.causal import load_causal_lm
    from unspun.synth import Decoding, read_human, synthesize, write_jsonl

    articles, _ = read_human(human)
    articles = articles[:limit] if limit else articles
    decoding = Decoding(max_new_tokens, temperature, top_p, seed, style)
    decoding.check()
    if out.exists() and not overwrite:
        raise ConfigError(f"{out} already exists; pass --overwrite to replace it")
    with busy(f"Loading {model}…"):
        lm = load_causal_lm(model, device=device)

    def records(advance) -> Iterator[dict[str, Any]]:
        generated = synthesize(
            articles, lm, decoding, generator=model, batch_size=batch_size or 4, progress=advance
        )
        for article, record in zip(articles, generated, strict=True):
            if with_human:
                yield {
                    "id": article.id or f"{article.pair_id}/human",
                    "text": article.text,
                    "label": "human",
                    "generator": "human",
                    "domain": article.domain,
                    "pair_id": article.pair_id,
                }
            yield record

    with _progress("Generating", len(articles)) as advance:
        count = write_jsonl(records(advance), out, overwrite=overwrite)
    stderr_console().print(f"Wrote {count:,} records to {out}")


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
    from unspun.cli.train import StageProgress
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
        f"  {summary['trained_on']:,} texts ({summary['human']:,} human, {summary['machine']:,} "
        f"machine); training-set AUROC {summary['train_auroc']:.3f} (optimistic: use unspun eval "
        "on held-out data)"
    )


class _Progress:
    def __init__(self, description: str) -> None:
        from unspun.cli.train import StageProgress

        self.description = description
        self.stages = StageProgress()

    def __enter__(self):
        self.stages.__enter__()
        return lambda done, total: self.stages(self.description, done, total)

    def __exit__(self, *exc_info: object) -> None:
        self.stages.__exit__(*exc_info)


def _progress(description: str, total: int) -> _Progress:
    return _Progress(description)


def _score(texts: list[str], scorer: Any, batch_size: int, advance) -> list[float]:
    """Raw document scores through the same normalisation as ``unspun check``."""
    from unspun.normalize import normalize

    scores: list[float] = []
    for begin in range(0, len(texts), batch_size):
        batch = [normalize(text).text for text in texts[begin : begin + batch_size]]
        scores.extend(float(s.document) for s in scorer.score(batch, passages=False))
        advance(len(scores), len(texts))
    return scores


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in Path(name).name) or "detector"


def register(app: typer.Typer) -> None:
    app.command("detectors")(detectors)
    app.command("calibrate", no_args_is_help=True)(calibrate)
    app.command("synth", no_args_is_help=True)(synth)
    app.command("train-ensemble", no_args_is_help=True)(train_ensemble)

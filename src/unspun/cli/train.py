"""``unspun train``: fit and calibrate a detector (supervised encoder head, language-model head, or
an ensemble) on labelled JSONL."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from unspun.cli.options import (
    DataFiles,
    Format,
    ModelOptions,
    OutputFormat,
    TargetFpr,
    model_options,
    quiet_model_loading,
    stdout_console,
)
from unspun.cli.progress import StageProgress
from unspun.errors import ConfigError


class DetectorKind(StrEnum):
    encoder = "encoder"
    language_model = "language-model"
    tuned_lm = "tuned-lm"
    hidden_state = "hidden-state"
    claims = "claims"


class Objective(StrEnum):
    ddl = "ddl"
    spo = "spo"


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
            help="language-model: a head over a causal LM's token statistics (--model picks "
            "the LM); encoder: a head over a sentence encoder; "
            "tuned-lm: LoRA-tune the LM's top layers and score with Fast-DetectGPT; "
            "hidden-state: a head over the LM's mean hidden states (the default detector's kind); "
            "claims: the claim judge (a MiniLM cross-encoder; DATA: written claim pairs and "
            "news records, see docs/provenance.md).",
            case_sensitive=False,
        ),
    ] = DetectorKind.encoder,
    max_tokens: Annotated[
        int | None,
        typer.Option(
            "--max-tokens",
            help="language-model, tuned-lm, hidden-state: tokens read per text (the beginning "
            "of each; default 256, tuned-lm and hidden-state 1024).",
            min=16,
            show_default=False,
        ),
    ] = None,
    layers: Annotated[
        str | None,
        typer.Option(
            "--layers",
            metavar="N,M",
            help="hidden-state: the decoder layers whose mean states the head reads (default "
            "6,10,12).",
            show_default=False,
        ),
    ] = None,
    family: Annotated[
        list[str] | None,
        typer.Option(
            "--family",
            metavar="GEN[,GEN...]",
            help="hidden-state: give these generators a head of their own (repeatable); the "
            "generators not named share one more head, and the score is the largest head's "
            "(each on its human texts' scale). Without it: one head.",
            show_default=False,
        ),
    ] = None,
    layers_tuned: Annotated[
        int,
        typer.Option(
            "--layers-tuned",
            help="tuned-lm: LoRA-tune the top N layers (the frozen ones below run once per text, "
            "their output cached).",
            min=1,
        ),
    ] = 4,
    train_tokens: Annotated[
        int,
        typer.Option(
            "--train-tokens", help="tuned-lm: tokens of each text read while tuning.", min=2
        ),
    ] = 256,
    epochs: Annotated[
        int, typer.Option("--epochs", help="tuned-lm, claims: passes over the pairs.", min=1)
    ] = 2,
    seed: Annotated[
        int,
        typer.Option("--seed", help="tuned-lm, hidden-state, claims: seed of every random choice."),
    ] = 0,
    objective: Annotated[
        Objective,
        typer.Option(
            "--objective",
            help="tuned-lm: ddl (DetectAnyLLM's direct discrepancy learning) or spo (ImBD's style "
            "preference optimisation).",
            case_sensitive=False,
        ),
    ] = Objective.ddl,
    calibration_share: Annotated[
        float,
        typer.Option(
            "--calibration-share",
            help="tuned-lm: share of the pairs held out from tuning; their human texts calibrate "
            "the scorer.",
            min=0.0,
            max=0.9,
        ),
    ] = 0.25,
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
    if kind is DetectorKind.claims:
        from unspun.provenance.judge_train import train_judge

        with StageProgress() as progress:
            summary = train_judge(data, out, epochs=epochs, seed=seed, progress=progress)
        _print_summary(summary, output_format, title=f"Claim judge written to {out}")
        return
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
                max_tokens=max_tokens or 256,
                target_fpr=target_fpr,
                head_features=[f.strip() for f in features.split(",") if f.strip()]
                if features
                else None,
                device=models.device,
                progress=progress,
            )
        _print_summary(summary, output_format, title=f"Trained detector written to {out}")
        return
    if kind is DetectorKind.hidden_state:
        from unspun.detect.hidden_state import DEFAULT_LAYERS
        from unspun.detect.hidden_state import DEFAULT_MAX_TOKENS as HIDDEN_STATE_TOKENS
        from unspun.detect.hidden_state_train import train_hidden_state
        from unspun.models.packaged import PACKAGED_LM

        with StageProgress() as progress:
            summary = train_hidden_state(
                records,
                out,
                model=models.model or PACKAGED_LM,
                layers=_layer_list(layers) if layers else DEFAULT_LAYERS,
                max_tokens=max_tokens or HIDDEN_STATE_TOKENS,
                target_fpr=target_fpr,
                device=models.device,
                seed=seed,
                families=_families(family),
                progress=progress,
            )
        _print_summary(summary, output_format, title=f"Trained detector written to {out}")
        return
    if kind is DetectorKind.tuned_lm:
        from unspun.detect.tuned_lm import DEFAULT_MAX_TOKENS
        from unspun.detect.tuned_lm_train import train_tuned_lm
        from unspun.models.packaged import PACKAGED_LM

        with StageProgress() as progress:
            summary = train_tuned_lm(
                records,
                out,
                model=models.model or PACKAGED_LM,
                layers_tuned=layers_tuned,
                train_tokens=train_tokens,
                epochs=epochs,
                seed=seed,
                objective=objective.value,
                max_tokens=max_tokens or DEFAULT_MAX_TOKENS,
                calibration_share=calibration_share,
                target_fpr=target_fpr,
                device=models.device,
                sources=[Path(path).name for path in data],
                progress=progress,
            )
        _print_summary(summary, output_format, title=f"Tuned scorer written to {out}")
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


def _layer_list(text: str) -> list[int]:
    try:
        numbers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(
            f"--layers: give layer numbers separated by commas, got {text!r}"
        ) from None
    if not numbers:
        raise ConfigError("--layers: give at least one layer number")
    return numbers


def _families(options: list[str] | None) -> list[list[str]] | None:
    if not options:
        return None
    families = [[name.strip() for name in option.split(",") if name.strip()] for option in options]
    if not all(families):
        raise ConfigError("--family: give generator names separated by commas")
    return families


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

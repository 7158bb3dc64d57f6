"""``unspun synth``: machine-written counterparts of human articles, for red-team and training
data (the generation itself is ``unspun.synth``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from unspun.cli.options import BatchSize, Device, busy, quiet_model_loading, stderr_console
from unspun.cli.progress import stage_bar
from unspun.errors import ConfigError
from unspun.wording import counted


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

    with stage_bar("Generating") as advance:
        count = write_jsonl(records(advance), out, overwrite=overwrite)
    stderr_console().print(f"Wrote {counted(count, 'record')} to {out}")

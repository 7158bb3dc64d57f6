"""``unspun trace``: trace an article (one file, or a JSONL archive in bulk) to the indexed articles
it was most likely spun from, and optionally label its claims against those sources."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from unspun.cli.index import FormatOption, IndexLocation
from unspun.cli.options import OutputFormat, busy, quiet_model_loading, stdout_console

STATUS_STYLE = {
    "supported": "green",
    "unsupported": "yellow",
    "contradicted": "bold red",
    "not_checkable": "dim",
}


def trace(
    article: Annotated[
        str,
        typer.Argument(
            metavar="ARTICLE|-",
            help="Article file (text, HTML or JSON), - for stdin, or a .jsonl file of articles "
            "(id, text, optional metadata) traced in bulk, one JSON line out per line in (a bad "
            "line gives its 'line' and an 'error', and the rest are still traced).",
        ),
    ],
    index: IndexLocation,
    top: Annotated[
        int, typer.Option("--top", metavar="K", min=1, help="Candidate sources to show.")
    ] = 5,
    claims: Annotated[
        bool,
        typer.Option(
            "--claims/--no-claims", help="Also label the article's claims against the sources."
        ),
    ] = False,
    nli_model: Annotated[
        str | None,
        typer.Option(
            "--nli-model", metavar="ID", help="NLI cross-encoder (HF id or path) to judge claims."
        ),
    ] = None,
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """Find the indexed articles this article was most likely written from, with the reasons."""
    quiet_model_loading()
    from unspun.provenance import Provenance

    bulk = article.lower().endswith((".jsonl", ".ndjson"))
    if bulk and not Path(article).is_file():
        from unspun.errors import InputNotFound

        raise InputNotFound(f"{article}: no such file")  # before minutes of model loading
    with busy("Loading the index and the sentence encoder"):
        provenance = Provenance(index, nli_model=nli_model)
        provenance.index.encoder  # noqa: B018 - load once, before the first article
    if bulk:
        _trace_bulk(provenance, Path(article), top=top, claims=claims)
        return
    from unspun.article import read_article

    parsed = read_article(article)
    body = parsed.body
    candidates = provenance.trace(
        parsed.title, body, top=top, date=parsed.date, subtitle=parsed.subtitle
    )
    result: dict = {"sources": [c.as_dict() for c in candidates]}
    if claims:
        result["claims"] = [
            r.as_dict() for r in provenance.claims(body, candidates, published=parsed.date)
        ]
    if output_format == OutputFormat.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    _render(result)


def _trace_bulk(provenance, path: Path, *, top: int, claims: bool) -> None:  # noqa: ANN001
    """One JSON object per non-blank input line, in input order, flushed as it goes; a bad line is
    a row with its ``line`` and an ``error``, and the exit code says that some lines failed."""
    from unspun.errors import EmptyInput, MalformedInput
    from unspun.provenance.bulk import BulkTally, failure_message, iter_trace_records, trace_rows

    tally = BulkTally()
    for row in trace_rows(provenance, iter_trace_records(path), tally, top=top, claims=claims):
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    if not tally.records:
        raise EmptyInput(f"{path}: no articles in this file")
    if tally.failed_lines:
        # Malformed input's exit code, raised only after every good line was traced and written.
        raise MalformedInput(failure_message(path, tally))


def _render(result: dict) -> None:
    from rich.table import Table
    from rich.text import Text

    console = stdout_console()
    if not result["sources"]:
        console.print("No candidate sources: the index is empty.")
    else:
        table = Table(title="Candidate sources", title_justify="left")
        table.add_column("#", justify="right")
        table.add_column("score", justify="right")
        table.add_column("source")
        table.add_column("why")
        for rank, source in enumerate(result["sources"], start=1):
            name = Text(source["title"] or source["id"], style="bold")
            details = " · ".join(str(v) for v in (source["id"], source["date"], source["url"]) if v)
            name.append(f"\n{details}", style="dim")
            table.add_row(str(rank), f"{source['score']:.2f}", name, source["reason"])
        console.print(table)
    if "claims" in result:
        counts: dict[str, int] = {}
        for claim in result["claims"]:
            counts[claim["status"]] = counts.get(claim["status"], 0) + 1
        console.print(
            "Claims: "
            + ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in counts.items())
        )
        for claim in result["claims"]:
            if claim["status"] == "not_checkable":
                continue
            line = Text(f"[{claim['status']}] ", style=STATUS_STYLE[claim["status"]])
            line.append(claim["text"])
            line.append(f"\n    {claim['reason']}", style="italic")
            if claim["evidence"]:
                line.append(
                    f"\n    source ({claim['evidence']['source_id']}): {claim['evidence']['text']}",
                    style="dim",
                )
            console.print(line)

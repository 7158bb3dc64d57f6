"""``unspun index add|stats`` and ``unspun trace``: build an index of trusted articles and trace
articles (one file, or a JSONL archive in bulk) to the reporting they were spun from."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from unspun.cli.options import (
    OutputFormat,
    busy,
    quiet_model_loading,
    stderr_console,
    stdout_console,
)

IndexLocation = Annotated[
    str,
    typer.Option(
        "--index",
        metavar="LOCATION",
        help="Index: a directory (SQLite, created if missing) or a postgresql:// URL.",
    ),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format", "-f", help="Output: text for people, json for programs.", case_sensitive=False
    ),
]

index_app = typer.Typer(
    name="index",
    help="Build and inspect the index of trusted articles that trace and check --index use.",
    no_args_is_help=True,
)

STATUS_STYLE = {
    "supported": "green",
    "unsupported": "yellow",
    "contradicted": "bold red",
    "not_checkable": "dim",
}


@index_app.command("add")
def index_add(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILES...",
            help="JSONL/JSON/CSV/Parquet records (id, text; optional title, url, date, site, "
            "author), HTML pages or text files.",
        ),
    ],
    index: IndexLocation,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Articles embedded at once.")
    ] = 64,
    output_format: FormatOption = OutputFormat.text,
) -> None:
    """Add articles to the index; text already indexed (same content hash) is skipped."""
    quiet_model_loading()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from unspun.errors import UnspunError
    from unspun.provenance.index import AddResult, SourceIndex
    from unspun.provenance.records import count_sources, iter_sources

    # Pass 1: stream through every file and validate it, holding one record at a time, before
    # the index is even opened: a bad file must add nothing, not half of itself (nor of others).
    expected = sum(count_sources(path) for path in files)
    console = stderr_console()
    with busy("Loading the sentence encoder"):
        source_index = SourceIndex(index, create=True)
        source_index.encoder  # noqa: B018 - load before the progress bar starts
    total = AddResult()
    done = {"added": 0}
    read_error: list[UnspunError] = []

    def stream():  # noqa: ANN202 - pass 2: the same articles again, streamed into the index
        try:
            for path in files:
                yield from iter_sources(path)
        except UnspunError as exc:
            read_error.append(exc)  # tells a file that changed from a failing index write
            raise

    with Progress(
        TextColumn("indexing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[added]} new"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("index", total=expected, added=0)

        def report(seen: int, added: int) -> None:
            done["added"] = added
            progress.update(task, completed=seen, added=added)

        try:
            total = source_index.add(stream(), batch_size=batch_size, progress=report)
        except UnspunError as exc:
            if not read_error or exc is not read_error[0]:
                raise
            # A file changed since pass 1. Each batch is committed whole, so the index holds the
            # batches written before the bad record and is consistent; stamp its encoder as a
            # finished add would, and say what happened in the one error line.
            source_index.add([])
            source_index.close()
            raise type(exc)(
                f"{exc} (the file changed after it was checked; indexing stopped there: "
                f"{done['added']} new articles from earlier batches were kept, the rest of that "
                "batch was not; run the command again once the file is fixed, already indexed "
                "articles are skipped)"
            ) from None
    articles = source_index.store.count()
    source_index.close()
    summary = {
        "read": total.seen,
        "added": total.added,
        "duplicates": total.duplicates,
        "seconds": round(total.seconds, 2),
        "articles_per_second": round(total.per_second, 2),
        "articles_in_index": articles,
    }
    if output_format == OutputFormat.json:
        print(json.dumps(summary))
        return
    print(
        f"added {total.added} of {total.seen} articles ({total.duplicates} already indexed) in "
        f"{total.seconds:.1f} s ({total.per_second:.1f} articles/s); {articles} in {index}"
    )


@index_app.command("stats")
def index_stats(index: IndexLocation, output_format: FormatOption = OutputFormat.text) -> None:
    """Show what an index holds."""
    from unspun.provenance.store import open_store

    store = open_store(index)
    stats = store.stats()
    store.close()
    if output_format == OutputFormat.json:
        print(json.dumps(stats))
        return
    from rich.table import Table

    table = Table(show_header=False, box=None)
    for key, value in stats.items():
        table.add_row(key.replace("_", " "), str(value))
    stdout_console().print(table)


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


def register(app: typer.Typer) -> None:
    app.add_typer(index_app, name="index")
    app.command("trace")(trace)

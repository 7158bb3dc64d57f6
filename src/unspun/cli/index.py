"""``unspun index add|stats``: build and inspect the index of trusted articles that ``unspun trace``
and ``check --index`` search."""

from __future__ import annotations

import json
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
from unspun.wording import counted

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
        f"added {total.added} of {counted(total.seen, 'article')} ({total.duplicates} already "
        f"indexed) in {total.seconds:.1f} s ({total.per_second:.1f} articles/s); "
        f"{counted(articles, 'article')} in {index}"
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

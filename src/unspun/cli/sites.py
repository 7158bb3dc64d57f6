"""``unspun sites``: rank the sites in a scan's results by their share of likely spun articles, as a
table and optionally an HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from unspun.cli.options import stderr_console, stdout_console


def sites(
    results: Annotated[
        list[Path],
        typer.Argument(
            metavar="RESULTS...",
            help="Results of 'unspun scan' (Parquet): one, or several (e.g. a scan a day).",
        ),
    ],
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write an HTML report with charts to this file."),
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Sites shown in the table.")] = 20,
    min_articles: Annotated[
        int,
        typer.Option("--min-articles", min=1, help="Leave out sites with fewer articles."),
    ] = 1,
) -> None:
    """Rank the sites in a scan by their share of articles assessed as likely spun.

    Beside it: the machine-written share and the commonest template signals (95% intervals);
    below, each site's trend: its share of likely spun articles day by day.
    """

    from unspun.batch.site_report import write_html
    from unspun.batch.sites import render_table, render_trend, summarize_sites

    summaries = summarize_sites(results, min_articles=min_articles)
    console = stdout_console()
    render_table(summaries, console, top=top)
    render_trend(summaries, console, top=top)
    if html is not None:
        write_html(summaries, html, source=", ".join(map(str, results)), top=top)
        stderr_console().print(f"Wrote the HTML report to {html}.")

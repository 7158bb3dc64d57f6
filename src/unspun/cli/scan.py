"""``unspun scan``: crawls, feeds and folders of articles to a Parquet table, resumably (``unspun
sites`` ranks the sites in it)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from unspun.cli.options import (
    DEFAULT_MAX_BYTES,
    DetectorName,
    MaxBytes,
    ModelOptions,
    TargetFpr,
    model_options,
    quiet_model_loading,
    stderr_console,
)
from unspun.wording import counted

RUN_PANEL = "Running"
FETCH_PANEL = "Fetching (URL inputs)"
PARQUET_SUFFIXES = (".parquet", ".pq")


class Engine(StrEnum):
    local = "local"
    ray = "ray"


class _QuietProgress:
    """Progress off a terminal: no bar (a redirected stderr gets no animation frames), only the
    resume line worth keeping in a log."""

    def __init__(self, console) -> None:
        self.console = console

    def start(self, total: int, already_done: int) -> None:
        if already_done:
            self.console.print(_resuming(total, already_done))

    def advance(self, rows: int) -> None:
        pass

    def stop(self) -> None:
        pass


def _resuming(total: int, already_done: int) -> str:
    return (
        f"Resuming: skipped {counted(already_done, 'record')} already done "
        f"({total - already_done:,} of {total:,} left)."
    )


class _RichProgress:
    """A Rich progress bar with rate and ETA, on stderr (a terminal)."""

    def __init__(self, console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = console
        self.progress = Progress(
            TextColumn("[bold]scanning"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task = None

    def start(self, total: int, already_done: int) -> None:
        if already_done:
            self.console.print(_resuming(total, already_done))
        self.task = self.progress.add_task("scan", total=total - already_done, rate="")
        self.progress.start()

    def advance(self, rows: int) -> None:
        self.progress.advance(self.task, rows)
        speed = self.progress.tasks[0].speed
        if speed:
            self.progress.update(self.task, rate=f"{speed:.1f} articles/s")

    def stop(self) -> None:
        self.progress.stop()


# --batch-size here is the scan's own (records per worker batch), so no detector one.
@model_options(batch_size=False)
def scan(
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="INPUT...",
            help="JSONL/CSV/Parquet files (one article per record: 'text' or 'html' plus optional "
            "title, url, date...), WARC or WARC.gz crawls, folders of .html/.txt files, .txt "
            "lists of page URLs, or http(s) URLs of RSS/Atom feeds, sitemaps (news sitemaps, "
            "indexes), plain lists of URLs or pages.",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Results file (Parquet); a checkpoint folder "
            "OUT.parts sits next to it while the scan runs.",
        ),
    ],
    detector: DetectorName = "default",
    target_fpr: TargetFpr = 0.01,
    index: Annotated[
        str | None,
        typer.Option(
            "--index",
            metavar="LOCATION",
            help="Source index (a directory made by `unspun index add`, or a postgresql:// URL)"
            ": adds each article's top traced "
            "source.",
        ),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            help="local: process pool on this machine; ray: Ray Data.",
            case_sensitive=False,
            rich_help_panel=RUN_PANEL,
        ),
    ] = Engine.local,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "-w",
            min=1,
            rich_help_panel=RUN_PANEL,
            help="Worker processes (local) or model actors (ray), each with its own "
            "copy of the model.",
        ),
    ] = 1,
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            rich_help_panel=RUN_PANEL,
            help="Ray cluster to join (e.g. auto or ray://host:10001); default: start a local one.",
        ),
    ] = None,
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size",
            min=1,
            rich_help_panel=RUN_PANEL,
            help="Records per batch sent to a worker and through the model.",
        ),
    ] = 16,
    checkpoint_rows: Annotated[
        int,
        typer.Option(
            "--checkpoint-rows",
            min=1,
            rich_help_panel=RUN_PANEL,
            help="Commit a checkpoint part after this many rows (or 30 s).",
        ),
    ] = 1000,
    restart: Annotated[
        bool,
        typer.Option(
            "--restart",
            rich_help_panel=RUN_PANEL,
            help="Discard an earlier checkpoint of this output instead of resuming.",
        ),
    ] = False,
    max_bytes: MaxBytes = DEFAULT_MAX_BYTES,
    delay: Annotated[
        float,
        typer.Option(
            "--delay",
            min=0.0,
            metavar="SECONDS",
            rich_help_panel=FETCH_PANEL,
            help="Seconds between the starts of two requests to one host (a longer robots.txt "
            "Crawl-delay wins).",
        ),
    ] = 1.0,
    per_host: Annotated[
        int,
        typer.Option(
            "--per-host", min=1, rich_help_panel=FETCH_PANEL, help="Requests to one host at once."
        ),
    ] = 1,
    connections: Annotated[
        int,
        typer.Option(
            "--connections", min=1, rich_help_panel=FETCH_PANEL, help="Requests at once in all."
        ),
    ] = 8,
    retries: Annotated[
        int,
        typer.Option(
            "--retries",
            min=0,
            rich_help_panel=FETCH_PANEL,
            help="Further tries after a 429, a 5xx, a timeout or a broken connection (backoff "
            "doubling from 1 s, or as Retry-After asks).",
        ),
    ] = 3,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            min=0.1,
            metavar="SECONDS",
            rich_help_panel=FETCH_PANEL,
            help="Seconds one fetch may take (redirects and body).",
        ),
    ] = 20.0,
    max_pages: Annotated[
        int,
        typer.Option(
            "--max-pages",
            min=1,
            rich_help_panel=FETCH_PANEL,
            help="Pages taken from one feed, sitemap or list (the newest, when it gives dates).",
        ),
    ] = 1000,
    contact: Annotated[
        str | None,
        typer.Option(
            "--contact",
            metavar="URL",
            rich_help_panel=FETCH_PANEL,
            help="A URL or address for site owners, sent in the user agent "
            "(unspun/VERSION (+CONTACT)).",
        ),
    ] = None,
    allow_private_urls: Annotated[
        bool,
        typer.Option(
            "--allow-private-urls",
            rich_help_panel=FETCH_PANEL,
            help="Also fetch from loopback, private and link-local addresses (refused by "
            "default: a feed could point the scanner at internal services).",
        ),
    ] = False,
    *,
    models: ModelOptions,
) -> None:
    """Scan crawls, feeds, sitemaps and folders of articles into a Parquet table, resumably.

    Each input record becomes one row (bad records become rows with an `error`); a scan killed at
    any point and started again with the same arguments continues where it stopped. Web pages
    are fetched politely (robots.txt, per-host pacing, retries) and conditionally, so a daily
    rerun with the same output checks only new and changed pages.
    """
    quiet_model_loading()
    from unspun.batch.engine import ScanSettings
    from unspun.batch.scan import ScanOptions, run_scan
    from unspun.detect.base import plugin_modules
    from unspun.fetch.client import FetchSettings
    from unspun.fetch.polite import CrawlSettings
    from unspun.pipeline import CheckConfig

    console = stderr_console()
    config = CheckConfig(
        detector=detector,
        detector_options=models.detector_options(),
        target_fpr=target_fpr,
        index=index,
        top_sources=1,
        tokens=False,  # per-token evidence is not part of a scan row; skip computing it
    )
    if out.suffix.lower() not in PARQUET_SUFFIXES:
        # The results are always Parquet: a name like results.jsonl would mislead every reader.
        raise typer.BadParameter(
            f"{out.name}: scan results are written as Parquet; name the file .parquet",
            param_hint="'--out'",
        )
    settings = ScanSettings(config=config, plugins=plugin_modules())
    _check_detector(settings)
    options = ScanOptions(
        engine=engine.value,
        workers=workers,
        address=address,
        batch_size=batch_size,
        checkpoint_rows=checkpoint_rows,
        max_record_bytes=max_bytes,
        restart=restart,
        crawl=CrawlSettings(
            fetch=FetchSettings(
                timeout=timeout,
                max_bytes=max_bytes,
                allow_private=allow_private_urls,
                contact=contact,
            ),
            delay=delay,
            per_host=per_host,
            connections=connections,
            retries=retries,
            max_pages=max_pages,
        ),
    )
    progress = _RichProgress(console) if console.is_terminal else _QuietProgress(console)
    try:
        summary = run_scan(inputs, out, settings, options, progress)
    finally:
        progress.stop()
    totals = summary.totals
    verdicts = ", ".join(
        f"{totals.verdicts.get(v, 0):,} {v.replace('_', ' ')}"
        for v in ("machine", "not_flagged", "uncertain")
    )
    console.print(
        f"Wrote {counted(totals.records, 'row')} to {out}: {verdicts}, "
        f"{counted(totals.errors, 'error')}, {counted(totals.duplicates, 'duplicate')} "
        "(identical article text)."
    )
    console.print(
        f"This run: {counted(summary.scanned, 'record')} in {summary.seconds:.1f} s "
        f"({summary.rate:.1f} articles/s); skipped {summary.already_done:,} already done."
    )
    if summary.web is not None:
        _print_web(console, summary.web)
    if summary.warc_skipped:
        skipped = ", ".join(f"{n:,} {kind}" for kind, n in sorted(summary.warc_skipped.items()))
        console.print(f"Skipped, no article to check: {skipped}.")
    if summary.web is None and totals.records != summary.records:
        console.print(
            f"[yellow]warning:[/] {counted(summary.records, 'input record')} but "
            f"{counted(totals.records, 'row')}; "
            "did the inputs change during the scan?"
        )


def _print_web(console, web) -> None:
    """What the URL inputs came to: pages fetched and checked, what was known from the last run."""
    known = web.not_modified + web.unchanged + web.not_requested
    console.print(
        f"Web: {counted(web.listed, 'page')} listed by {counted(web.sources, 'URL input')}; "
        f"{web.new:,} new and {web.changed:,} changed (a row each), {known:,} unchanged "
        f"({web.not_modified:,} answered 304, {web.unchanged:,} with the same text, "
        f"{web.not_requested:,} not asked: listing date unchanged), {web.failing:,} failing "
        f"again; {counted(web.requests, 'request')}.",
        soft_wrap=True,
    )
    for message in web.failed_sources:
        console.print(f"[yellow]warning:[/] {message}", soft_wrap=True)


def _check_detector(settings) -> None:
    """Fail fast on an unknown detector name, before workers start and models load."""
    import importlib

    from unspun.detect.base import available_detectors
    from unspun.errors import ConfigError

    for module in settings.plugins:
        importlib.import_module(module)
    name = settings.config.detector
    path = Path(name)
    if name in available_detectors() or (path.is_dir() and (path / "detector.json").is_file()):
        return
    known = ", ".join(available_detectors())
    raise ConfigError(f"unknown detector {name!r}: choose one of {known}, or a trained directory")

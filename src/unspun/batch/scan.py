"""The scan driver: resolve inputs, resume from the checkpoint, feed an engine, commit parts, and
merge them into the output; the one function front ends call for batch scanning."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from unspun.batch.engine import ScanSettings, run_inline, run_pool
from unspun.batch.inputs import (
    DEFAULT_MAX_RECORD_BYTES,
    WEB_FORMATS,
    InputUnit,
    RawRecord,
    iter_inputs,
    resolve_inputs,
)
from unspun.batch.rows import SeenHashes
from unspun.batch.store import PartStore, ScanTotals
from unspun.batch.warc import WarcStats
from unspun.errors import ConfigError
from unspun.fetch.polite import CrawlSettings

ENGINES = ("local", "ray")
# Options that change speed or placement but not results; a checkpoint stays valid across them.
_NOT_IN_FINGERPRINT = {"device", "batch_size"}


@dataclass
class ScanOptions:
    """How to run (not what to compute): engine, parallelism, batching, checkpoint cadence."""

    engine: str = "local"
    workers: int = 1
    address: str | None = None
    batch_size: int = 16
    checkpoint_rows: int = 1000
    checkpoint_seconds: float = 30.0
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    restart: bool = False
    # How URL inputs are fetched (politeness, limits); their fetch size cap is max_record_bytes.
    crawl: CrawlSettings = field(default_factory=CrawlSettings)


@dataclass
class ScanSummary:
    out: Path
    records: int
    already_done: int
    scanned: int
    totals: ScanTotals
    warc_skipped: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    web: Any = None  # WebTotals of the URL inputs, if any

    @property
    def rate(self) -> float:
        return self.scanned / self.seconds if self.seconds > 0 else 0.0


class ScanProgress(Protocol):
    def start(self, total: int, already_done: int) -> None: ...

    def advance(self, rows: int) -> None: ...


def fingerprint(units: list[InputUnit], settings: ScanSettings) -> dict[str, Any]:
    """What must match for a rerun to continue an earlier scan."""
    config = settings.config
    options = {k: v for k, v in config.detector_options.items() if k not in _NOT_IN_FINGERPRINT}
    return {
        # 2: rows gained the assessment column; 3: machine_probability became human_percentile
        # and the verdict 'human' became 'not_flagged' (report/2); 4: fetched_at, http_status,
        # final_url, etag and last_modified (URL inputs). Older checkpoints cannot merge.
        "version": 4,
        # URL inputs are left out: their pages' record ids are their URLs, the same whichever
        # feed listed them, so a daily scan can add or drop a feed and keep its history.
        "inputs": [unit.label for unit in units if unit.format not in WEB_FORMATS],
        "detector": config.detector,
        "detector_options": {k: repr(v) for k, v in sorted(options.items())},
        "target_fpr": config.target_fpr,
        "min_words": config.min_words,
        "index": config.index,
    }


def _count(
    units: list[InputUnit], done: set[str], max_record_bytes: int
) -> tuple[int, int, WarcStats]:
    total = already = 0
    stats = WarcStats()
    for record in iter_inputs(units, max_record_bytes=max_record_bytes, warc_stats=stats):
        total += 1
        already += record.record_id in done
    return total, already, stats


def _batches(
    units: list[InputUnit],
    done: set[str],
    options: ScanOptions,
    fetched: Iterator[RawRecord] = iter(()),
) -> Iterator[list[RawRecord]]:
    batch: list[RawRecord] = []
    records = iter_inputs(units, max_record_bytes=options.max_record_bytes)
    for record in itertools.chain(records, fetched):
        if record.record_id in done:
            continue
        batch.append(record)
        if len(batch) >= options.batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_scan(
    inputs: list[str],
    out: Path,
    settings: ScanSettings,
    options: ScanOptions | None = None,
    progress: ScanProgress | None = None,
) -> ScanSummary:
    """Scan every record of ``inputs`` into ``out`` (Parquet), resuming an interrupted run of the
    same scan. Each input record ends up in ``out`` exactly once, keyed by ``record_id``."""
    options = options or ScanOptions()
    if options.engine not in ENGINES:
        raise ConfigError(f"unknown engine {options.engine!r}: choose local or ray")
    if options.workers < 1 or options.batch_size < 1 or options.checkpoint_rows < 1:
        raise ConfigError("--workers, --batch-size and --checkpoint-rows must be at least 1")
    units = resolve_inputs(inputs)
    web_units = [unit for unit in units if unit.format in WEB_FORMATS]
    file_units = [unit for unit in units if unit.format not in WEB_FORMATS]
    if web_units and options.engine == "ray":
        raise ConfigError(
            "URL inputs are fetched by the scanning process: use --engine local (with --workers "
            "for more checking processes), or save the pages to a WARC for Ray"
        )
    if out.exists() and out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give a file name such as results.parquet")
    out.parent.mkdir(parents=True, exist_ok=True)
    store = PartStore(out, fingerprint(units, settings))
    store.open(restart=options.restart)
    done, firsts = store.done()
    total, already, warc_stats = _count(file_units, done, options.max_record_bytes)
    web = _web_scan(web_units, out, store, options) if web_units else None
    try:
        if web is not None:
            # Pages fetched for the first time; those already in the output are only asked
            # whether they changed (a row each that has), so they are neither done nor to do.
            total += web.first_visits
        if progress is not None:
            progress.start(total, already)
        seen = SeenHashes(firsts)
        started = time.monotonic()
        fetched = web.records(done) if web is not None else iter(())
        if options.engine == "ray":
            from unspun.batch.ray_engine import run_ray

            tables = run_ray(
                settings,
                units,
                done,
                seen,
                actors=options.workers,
                batch_size=options.batch_size,
                address=options.address,
                max_record_bytes=options.max_record_bytes,
            )
        elif options.workers == 1:
            tables = run_inline(settings, _batches(file_units, done, options, fetched), seen)
        else:
            batches = _batches(file_units, done, options, fetched)
            tables = run_pool(settings, batches, seen, options.workers)

        def commit(table: pa.Table) -> None:
            store.commit(table)
            if web is not None:
                web.committed(table.column("record_id").to_pylist())

        scanned = 0
        pending: list[pa.Table] = []
        pending_rows = 0
        last_commit = time.monotonic()
        try:
            for table in tables:
                # Belt and braces for exactly-once: never write an id twice, whatever an engine
                # retried.
                ids = table.column("record_id").to_pylist()
                keep = [record_id not in done for record_id in ids]
                if not all(keep):
                    table = table.filter(pa.array(keep))
                done.update(ids)
                pending.append(table)
                pending_rows += table.num_rows
                scanned += table.num_rows
                if progress is not None:
                    progress.advance(table.num_rows)
                now = time.monotonic()
                due = now - last_commit >= options.checkpoint_seconds
                if pending_rows >= options.checkpoint_rows or due:
                    commit(pa.concat_tables(pending))
                    pending, pending_rows, last_commit = [], 0, now
        finally:
            # Finished rows are kept even when the run stops on an error or Ctrl-C.
            if pending:
                commit(pa.concat_tables(pending))
        seconds = time.monotonic() - started
        totals = store.finish()
        return ScanSummary(
            out=out,
            records=total,
            already_done=already,
            scanned=scanned,
            totals=totals,
            warc_skipped=dict(warc_stats.skipped),
            seconds=seconds,
            web=web.totals if web is not None else None,
        )
    finally:
        if web is not None:
            web.close()


def _web_scan(web_units: list[InputUnit], out: Path, store: PartStore, options: ScanOptions):
    from dataclasses import replace

    from unspun.batch.crawl_state import CrawlState, state_path
    from unspun.batch.web import WebScan

    crawl = options.crawl
    crawl = replace(crawl, fetch=replace(crawl.fetch, max_bytes=options.max_record_bytes))
    state = CrawlState(state_path(out), restart=options.restart)
    web = WebScan(web_units, crawl, state, store.page_history())
    try:
        web.plan()
    except BaseException:
        web.close()
        raise
    return web

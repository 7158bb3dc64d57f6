"""Per-site summaries of a scan's results: volume, share of articles assessed as likely spun and
share flagged as machine-written (each with a confidence interval), template signals and traced
sources; ranked, and shown as a terminal table (the HTML report is in site_report.py)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from unspun.batch.rows import site_of
from unspun.errors import InputNotFound, MalformedInput
from unspun.stats import wilson_interval

UNKNOWN_SITE = "(unknown site)"
_COLUMNS = [
    "site",
    "url",
    "verdict",
    "assessment",
    "signals",
    "top_source",
    "date",
    "error",
    "duplicate_of",
]
# Below this many columns the table keeps only what the ranking needs; per-day volume and sources
# would squeeze every column until names had to be cut.
WIDE_TABLE = 120


@dataclass
class SiteSummary:
    site: str
    articles: int = 0  # rows with a verdict
    machine: int = 0
    human: int = 0
    uncertain: int = 0
    # Rows with an assessment label: all rows with a verdict, except in scans made before the
    # assessment column existed, where there are none.
    assessed: int = 0
    likely_spun: int = 0
    errors: int = 0
    duplicates: int = 0
    signals: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    per_day: Counter[str] = field(default_factory=Counter)

    @property
    def machine_share(self) -> float:
        return self.machine / self.articles if self.articles else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        """95% interval of the machine-written share."""
        return wilson_interval(self.machine, self.articles)

    @property
    def spun_share(self) -> float | None:
        """Share of assessed articles labelled likely_spun; None when none were assessed."""
        return self.likely_spun / self.assessed if self.assessed else None

    @property
    def spun_interval(self) -> tuple[float, float]:
        return wilson_interval(self.likely_spun, self.assessed)

    @property
    def per_day_mean(self) -> float | None:
        """Mean articles per day over the days the site published anything (None without dates)."""
        return sum(self.per_day.values()) / len(self.per_day) if self.per_day else None


def _day(value: str | None) -> str | None:
    if not value:
        return None
    text = value.strip()[:10]
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def summarize_sites(results: Path, *, min_articles: int = 1) -> list[SiteSummary]:
    """Read a scan's results (streaming) and summarise per site, most suspicious first."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not results.is_file():
        raise InputNotFound(f"no such results file: {results}")
    try:
        parquet = pq.ParquetFile(results)
        missing = [c for c in ("site", "url", "verdict") if c not in parquet.schema_arrow.names]
        if missing:
            raise MalformedInput(
                f"{results} is not the output of 'unspun scan' (no column {missing[0]!r})"
            )
        # Older scans lack newer columns (assessment); they are summarised without them.
        columns = [c for c in _COLUMNS if c in parquet.schema_arrow.names]
        sites: dict[str, SiteSummary] = {}
        for batch in parquet.iter_batches(batch_size=8192, columns=columns):
            for row in batch.to_pylist():
                name = row.get("site") or site_of(row.get("url")) or UNKNOWN_SITE
                summary = sites.get(name)
                if summary is None:
                    summary = sites[name] = SiteSummary(name)
                _add(summary, row)
    except (pa.ArrowException, OSError) as exc:
        raise MalformedInput(f"cannot read {results} as Parquet ({exc})") from None
    chosen = [s for s in sites.values() if s.articles >= min_articles]
    chosen.sort(key=_rank)
    return chosen


def _rank(site: SiteSummary) -> tuple:
    """By the lower end of the likely-spun interval, so a site needs volume to rank high; sites
    alike on that (none likely spun, or a scan without assessments) by their machine-written
    share, the same way."""
    return (
        -site.spun_interval[0],
        -(site.spun_share or 0.0),
        -site.interval[0],
        -site.machine_share,
        -site.articles,
        site.site,
    )


def _add(summary: SiteSummary, row: dict) -> None:
    if row.get("duplicate_of"):
        summary.duplicates += 1
    if row.get("error"):
        summary.errors += 1
        return
    verdict = row.get("verdict")
    if verdict not in ("machine", "human", "uncertain"):
        return
    summary.articles += 1
    setattr(summary, verdict, getattr(summary, verdict) + 1)
    if row.get("assessment"):
        summary.assessed += 1
        summary.likely_spun += row["assessment"] == "likely_spun"
    summary.signals.update(row.get("signals") or [])
    if row.get("top_source"):
        summary.sources[row["top_source"]] += 1
    day = _day(row.get("date"))
    if day:
        summary.per_day[day] += 1


def top_counts(counter: Counter[str], k: int = 3, *, separator: str = ", ") -> str:
    return separator.join(f"{name} ({count})" for name, count in counter.most_common(k)) or "-"


def share_text(share: float | None, interval: tuple[float, float]) -> str:
    if share is None:
        return "-"
    low, high = interval
    return f"{share:.0%} ({low * 100:.0f}-{high:.0%})"


def render_table(sites: list[SiteSummary], console, *, top: int = 20) -> None:
    """The ranked sites as a Rich table that fits the console without cutting a word in two:
    numbers never wrap, and a name too long for its column ends in an ellipsis."""
    from rich.table import Table

    wide = console.width >= WIDE_TABLE
    assessed = any(site.assessed for site in sites)
    basis = "likely spun" if assessed else "machine-written"
    table = Table(
        title=f"Sites ranked by share of {basis} articles (top {min(top, len(sites))} of "
        f"{len(sites)})",
        title_justify="left",
        caption="Likely spun: the assessment label likely_spun. Machine: flagged as "
        "machine-written at the scan's false-positive rate. Intervals: 95% Wilson."
        + ("" if assessed else " This scan has no assessments; rescan to rank by them."),
        caption_justify="left",
    )
    # Numbers never wrap; names may wrap between words, and a single word too long for its column
    # (a host name, a signal kind) ends in an ellipsis instead of being folded onto the next line.
    names = {"overflow": "ellipsis", "min_width": 10}
    table.add_column("Site", **names)
    table.add_column("Articles", justify="right", no_wrap=True)
    table.add_column("Likely spun\n(95% CI)", justify="right", no_wrap=True)
    table.add_column("Machine", justify="right", no_wrap=True)
    if wide:
        table.add_column("Per day", justify="right", no_wrap=True)
    # Counts in a column of their own, line for line, so a signal name cut short keeps its count.
    table.add_column("Top template signals", **names)
    table.add_column("n", justify="right", no_wrap=True)
    if wide:
        table.add_column("Top sources", **names)
    for site in sites[:top]:
        cells = [
            site.site,
            f"{site.articles}",
            share_text(site.spun_share, site.spun_interval),
            f"{site.machine_share:.0%}",
        ]
        if wide:
            per_day = site.per_day_mean
            cells.append(f"{per_day:.1f}" if per_day is not None else "-")
        common = site.signals.most_common(3)
        cells.append("\n".join(name for name, _ in common) or "-")
        cells.append("\n".join(str(count) for _, count in common))
        if wide:
            cells.append(top_counts(site.sources, separator="\n"))
        table.add_row(*cells)
    console.print(table)

"""Per-site summaries of a scan's results: volume, share flagged as machine-written (with a
confidence interval), template signals and traced sources; as a table and an HTML report."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from unspun.batch.rows import site_of
from unspun.errors import InputNotFound, MalformedInput
from unspun.stats import wilson_interval

UNKNOWN_SITE = "(unknown site)"
_COLUMNS = ["site", "url", "verdict", "signals", "top_source", "date", "error", "duplicate_of"]


@dataclass
class SiteSummary:
    site: str
    articles: int = 0  # rows with a verdict
    machine: int = 0
    human: int = 0
    uncertain: int = 0
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
        return wilson_interval(self.machine, self.articles)

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
    """Read a scan's results (streaming) and summarise per site, most suspicious first: ranked by
    the lower end of the machine-share interval, so a site needs volume to rank high."""
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
    chosen.sort(key=lambda s: (-s.interval[0], -s.machine_share, -s.articles, s.site))
    return chosen


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
    summary.signals.update(row.get("signals") or [])
    if row.get("top_source"):
        summary.sources[row["top_source"]] += 1
    day = _day(row.get("date"))
    if day:
        summary.per_day[day] += 1


def _top(counter: Counter[str], k: int = 3) -> str:
    return ", ".join(f"{name} ({count})" for name, count in counter.most_common(k)) or "-"


def render_table(sites: list[SiteSummary], console, *, top: int = 20) -> None:
    """The ranked sites as a Rich table."""
    from rich.table import Table

    table = Table(
        title=f"Sites ranked by machine-written share (top {min(top, len(sites))} of {len(sites)})",
        title_justify="left",
    )
    table.add_column("Site", overflow="fold")
    table.add_column("Articles", justify="right")
    table.add_column("Machine", justify="right")
    table.add_column("Share (95% CI)", justify="right")
    table.add_column("Per day", justify="right")
    table.add_column("Top template signals", overflow="fold")
    table.add_column("Top sources", overflow="fold")
    for site in sites[:top]:
        low, high = site.interval
        per_day = site.per_day_mean
        table.add_row(
            site.site,
            f"{site.articles}",
            f"{site.machine}",
            f"{site.machine_share:.0%} ({low:.0%}-{high:.0%})",
            f"{per_day:.1f}" if per_day is not None else "-",
            _top(site.signals),
            _top(site.sources),
        )
    console.print(table)


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _charts(sites: list[SiteSummary], top: int) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")  # no display needed; the images are embedded in the page
    import matplotlib.dates
    import matplotlib.pyplot as plt

    charts: list[tuple[str, str]] = []
    shown = sites[:top]
    if shown:
        figure, axes = plt.subplots(figsize=(8, 0.35 * len(shown) + 1.2))
        names = [s.site for s in shown][::-1]
        shares = [s.machine_share * 100 for s in shown][::-1]
        lows = [(s.machine_share - s.interval[0]) * 100 for s in shown][::-1]
        highs = [(s.interval[1] - s.machine_share) * 100 for s in shown][::-1]
        axes.barh(names, shares, xerr=[lows, highs], color="#c0392b", ecolor="#555", capsize=3)
        axes.set_xlim(0, 100)
        axes.set_xlabel("articles flagged as machine-written (%), 95% interval")
        charts.append(("Machine-written share per site", _png(figure)))
        plt.close(figure)
    dated = sorted((s for s in sites if s.per_day), key=lambda s: -s.articles)[:8]
    if dated:
        figure, axes = plt.subplots(figsize=(8, 3.5))
        for site in dated:
            days = sorted(site.per_day)
            axes.plot(
                [dt.date.fromisoformat(d) for d in days],
                [site.per_day[d] for d in days],
                marker="o",
                markersize=3,
                label=site.site,
            )
        axes.set_ylabel("articles per day")
        axes.set_ylim(bottom=0)
        axes.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%Y-%m-%d"))
        axes.legend(fontsize="small", loc="lower left")
        figure.autofmt_xdate()
        charts.append(("Publishing volume per day (busiest sites)", _png(figure)))
        plt.close(figure)
    signals: Counter[str] = Counter()
    for site in sites:
        signals.update(site.signals)
    if signals:
        common = signals.most_common(12)[::-1]
        figure, axes = plt.subplots(figsize=(8, 0.35 * len(common) + 1.2))
        axes.barh([name for name, _ in common], [count for _, count in common], color="#2c3e50")
        axes.set_xlabel("articles with the signal (all sites)")
        charts.append(("Most frequent template signals", _png(figure)))
        plt.close(figure)
    return charts


def write_html(sites: list[SiteSummary], path: Path, *, source: str, top: int = 20) -> None:
    """A single self-contained HTML file: charts as embedded PNGs and the full table."""
    esc = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>unspun site report: {esc(source)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:72em}"
        "table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ccc;"
        "padding:.3em .6em;text-align:left}td.n{text-align:right}img{max-width:100%}</style>",
        "</head><body>",
        f"<h1>Site report</h1><p>From <code>{esc(source)}</code>: {len(sites)} sites, "
        f"{sum(s.articles for s in sites)} articles with a verdict. Share = articles flagged "
        "as machine-written at the scan's target false-positive rate; the interval is a 95% "
        "Wilson interval.</p>",
    ]
    for title, image in _charts(sites, top):
        parts.append(
            f"<h2>{esc(title)}</h2><img alt='{esc(title)}' src='data:image/png;base64,{image}'>"
        )
    parts.append(
        "<h2>All sites</h2><table><tr><th>Site</th><th>Articles</th><th>Machine</th>"
        "<th>Uncertain</th><th>Share</th><th>95% interval</th><th>Per day</th>"
        "<th>Errors</th><th>Duplicates</th><th>Top template signals</th><th>Top sources</th></tr>"
    )
    for site in sites:
        low, high = site.interval
        per_day = site.per_day_mean
        parts.append(
            f"<tr><td>{esc(site.site)}</td><td class=n>{site.articles}</td>"
            f"<td class=n>{site.machine}</td><td class=n>{site.uncertain}</td>"
            f"<td class=n>{site.machine_share:.1%}</td><td class=n>{low:.1%} - {high:.1%}</td>"
            f"<td class=n>{f'{per_day:.1f}' if per_day is not None else '-'}</td>"
            f"<td class=n>{site.errors}</td><td class=n>{site.duplicates}</td>"
            f"<td>{esc(_top(site.signals, 5))}</td><td>{esc(_top(site.sources, 5))}</td></tr>"
        )
    parts.append("</table></body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")

"""The self-contained HTML site report: charts embedded as PNGs, and the full table of sites."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections import Counter
from pathlib import Path

from unspun.batch.sites import (
    TREND_DAYS,
    SiteSummary,
    share_text,
    sparkline,
    top_counts,
    trend_ends,
)
from unspun.stats import wilson_interval
from unspun.wording import counted


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
        figure = _share_chart(plt, shown, assessed=any(s.assessed for s in sites))
        charts.append(("Share of articles per site", _png(figure)))
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
    trending = [s for s in sites[:top] if len(s.trend()) >= 2][:8]
    if trending:
        charts.append((_trend_title(sites), _png(_trend_chart(plt, matplotlib, trending))))
        plt.close("all")
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


def _trend_title(sites: list[SiteSummary]) -> str:
    basis = "likely spun" if any(s.assessed for s in sites) else "machine-written"
    return f"Trend: share of {basis} articles per day"


def _trend_chart(plt, matplotlib, trending: list[SiteSummary]):  # noqa: ANN001, ANN202
    """One line per site: the day's share of likely spun articles, each point sized by the
    day's articles (the last TREND_DAYS days with articles)."""
    figure, axes = plt.subplots(figsize=(8, 3.5))
    for site in trending:
        trend = site.trend()[-TREND_DAYS:]
        days = [dt.date.fromisoformat(day) for day, _, _ in trend]
        shares = [k / n * 100 if n else 0.0 for _, k, n in trend]
        line = axes.plot(days, shares, label=site.site, linewidth=1.5)[0]
        axes.scatter(
            days, shares, s=[8 + 4 * min(n, 20) for _, _, n in trend], color=line.get_color()
        )
    axes.set_ylabel("articles (%)")
    axes.set_ylim(0, 100)
    axes.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%Y-%m-%d"))
    axes.legend(fontsize="small", loc="upper left")
    figure.autofmt_xdate()
    return figure


def _share_chart(plt, shown: list[SiteSummary], *, assessed: bool):  # noqa: ANN001, ANN202
    """Bars with 95% intervals: likely spun beside machine-written when the scan has assessments,
    else machine-written alone."""
    import numpy as np

    series = [("flagged as machine-written", "#7f8c8d", [(s.machine, s.articles) for s in shown])]
    if assessed:
        spun = [(s.likely_spun, s.assessed) for s in shown]
        series.insert(0, ("assessed as likely spun", "#c0392b", spun))
    figure, axes = plt.subplots(figsize=(8, 0.35 * len(shown) * len(series) + 1.2))
    rows = np.arange(len(shown))[::-1]
    height = 0.8 / len(series)
    for offset, (label, colour, counts) in enumerate(series):
        shares = np.array([k / n * 100 if n else 0.0 for k, n in counts])
        bounds = np.array([wilson_interval(k, n) for k, n in counts]) * 100
        errors = [np.maximum(shares - bounds[:, 0], 0), np.maximum(bounds[:, 1] - shares, 0)]
        axes.barh(
            rows - offset * height, shares, height, xerr=errors, color=colour, ecolor="#555",
            capsize=3, label=label,
        )  # fmt: skip
    axes.set_yticks(rows - height * (len(series) - 1) / 2, [s.site for s in shown])
    axes.set_xlim(0, 100)
    axes.set_xlabel("articles (%), 95% interval")
    axes.legend(fontsize="small", loc="lower right")
    return figure


def _trend_cell(site: SiteSummary) -> str:
    trend = site.trend()[-TREND_DAYS:]
    return f"{sparkline(trend)} {trend_ends(trend)}" if len(trend) >= 2 else "-"


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
        f"<h1>Site report</h1><p>From <code>{esc(source)}</code>: "
        f"{counted(len(sites), 'site')}, {counted(sum(s.articles for s in sites), 'article')} "
        "with a verdict, ranked by the share assessed as likely spun (the assessment label "
        "<code>likely_spun</code>), then by the share "
        "flagged as machine-written at the scan's target false-positive rate; each share with "
        "its 95% Wilson interval.</p>",
    ]
    for title, image in _charts(sites, top):
        parts.append(
            f"<h2>{esc(title)}</h2><img alt='{esc(title)}' src='data:image/png;base64,{image}'>"
        )
    parts.append(
        "<h2>All sites</h2><table><tr><th>Site</th><th>Articles</th><th>Likely spun</th>"
        "<th>Likely spun share (95% interval)</th><th>Machine</th>"
        "<th>Machine share (95% interval)</th><th>Uncertain</th><th>Per day</th>"
        "<th>Errors</th><th>Duplicates</th><th>Top template signals</th><th>Top sources</th>"
        "<th>Trend per day (first → last day)</th></tr>"
    )
    for site in sites:
        per_day = site.per_day_mean
        spun = share_text(site.spun_share, site.spun_interval)
        machine = share_text(site.machine_share, site.interval)
        parts.append(
            f"<tr><td>{esc(site.site)}</td><td class=n>{site.articles}</td>"
            f"<td class=n>{site.likely_spun if site.assessed else '-'}</td>"
            f"<td class=n>{spun}</td><td class=n>{site.machine}</td><td class=n>{machine}</td>"
            f"<td class=n>{site.uncertain}</td>"
            f"<td class=n>{f'{per_day:.1f}' if per_day is not None else '-'}</td>"
            f"<td class=n>{site.errors}</td><td class=n>{site.duplicates}</td>"
            f"<td>{esc(top_counts(site.signals, 5))}</td>"
            f"<td>{esc(top_counts(site.sources, 5))}</td>"
            f"<td>{esc(_trend_cell(site))}</td></tr>"
        )
    parts.append("</table></body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")

"""``unspun sites``: sites ranked by their share of likely spun articles, with honest intervals,
machine-written share, signals, sources, daily volume; a table that fits 80 columns without cutting
words; and a self-contained HTML report."""

from __future__ import annotations

import base64
import os
import re
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from batch_data import SETTINGS, UNSPUN, article_records, write_jsonl
from typer.testing import CliRunner

from unspun.batch.rows import ROW_SCHEMA
from unspun.batch.scan import run_scan
from unspun.batch.site_report import write_html
from unspun.batch.sites import summarize_sites
from unspun.errors import MalformedInput
from unspun.stats import wilson_interval


def _row(**values):
    row = dict.fromkeys(ROW_SCHEMA.names)
    row.update(values)
    return row


def test_wilson_interval_is_honest_at_the_edges():
    low, high = wilson_interval(0, 5)
    assert low == 0 and 0.4 < high < 0.5  # no machine text in 5 articles is not proof of none
    low, high = wilson_interval(50, 100)
    assert 0.40 < low < 0.41 and 0.59 < high < 0.60
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_sites_are_ranked_by_the_lower_end_of_their_interval(tmp_path):
    rows = (
        # one machine article out of one: 100% but a wide interval
        [_row(record_id="a1", site="lucky.example", verdict="machine", date="2024-05-01")]
        + [
            _row(
                record_id=f"f{i}",
                site="farm.example",
                verdict="machine" if i < 18 else "not_flagged",
                signals=["missing_byline", "body_cut_off"] if i % 2 else ["missing_byline"],
                top_source="src-1" if i < 10 else "src-2",
                date=f"2024-05-0{1 + i % 3}T08:00:00",
            )
            for i in range(20)
        ]
        + [
            _row(record_id=f"n{i}", url=f"https://www.news.example/{i}", verdict="not_flagged")
            for i in range(10)
        ]
        + [_row(record_id="e1", site="farm.example", error="not valid JSON")]
        + [_row(record_id="d1", site="farm.example", verdict="machine", duplicate_of="f0")]
    )
    path = tmp_path / "results.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=ROW_SCHEMA), path)
    sites = summarize_sites(path)
    assert [s.site for s in sites] == ["farm.example", "lucky.example", "news.example"]
    farm = sites[0]
    assert (farm.articles, farm.machine, farm.errors, farm.duplicates) == (21, 19, 1, 1)
    assert farm.signals.most_common(1) == [("missing_byline", 20)]
    assert farm.sources["src-1"] == 10
    assert farm.per_day == {"2024-05-01": 7, "2024-05-02": 7, "2024-05-03": 6}
    assert sites[2].per_day_mean is None
    # A scan made before assessments existed: no likely-spun share, ranked by machine share.
    assert farm.assessed == 0 and farm.spun_share is None
    assert [s.site for s in summarize_sites(path, min_articles=5)] == [
        "farm.example",
        "news.example",
    ]

    report = tmp_path / "report.html"
    write_html(sites, report, source=str(path))
    page = report.read_text()
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert len(images) == 4  # shares, daily volume, trend, signals
    assert all(base64.b64decode(image).startswith(b"\x89PNG") for image in images)
    assert "farm.example" in page and "<script" not in page


def test_sites_refuses_files_that_are_not_scan_results(tmp_path):
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1]}), path)
    with pytest.raises(MalformedInput, match="not the output of 'unspun scan'"):
        summarize_sites(path)
    (tmp_path / "junk.parquet").write_text("junk")
    with pytest.raises(MalformedInput):
        summarize_sites(tmp_path / "junk.parquet")


def test_sites_command_on_a_real_scan(tmp_path):
    feed = write_jsonl(tmp_path / "feed.jsonl", article_records(30))
    results = tmp_path / "results.parquet"
    run_scan([str(feed)], results, SETTINGS)
    report = tmp_path / "sites.html"
    done = subprocess.run(
        [UNSPUN, "sites", str(results), "--html", str(report)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "160"},
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if ".example" in line]
    assert "site0.example" in lines[0]  # the all-machine site ranks first
    assert "100%" in lines[0]
    assert report.is_file() and "site0.example" in report.read_text()


def _write(tmp_path, rows):
    path = tmp_path / "results.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=ROW_SCHEMA), path)
    return path


def test_sites_are_ranked_by_their_share_of_likely_spun_articles(tmp_path):
    def rows(site, count, *, machine, spun):
        return [
            _row(
                record_id=f"{site}-{i}",
                site=site,
                verdict="machine" if i < machine else "not_flagged",
                assessment="likely_spun" if i < spun else "no_sign",
            )
            for i in range(count)
        ]

    path = _write(
        tmp_path,
        # Machine-written, but nothing else points to spinning: an honest site using a model.
        rows("assisted.example", 20, machine=20, spun=0)
        # Fewer flagged by the detector, but most carry strong evidence of spinning.
        + rows("farm.example", 20, machine=12, spun=15)
        # One likely spun article out of one is not enough to outrank fifteen of twenty.
        + rows("lucky.example", 1, machine=1, spun=1)
        + rows("news.example", 20, machine=1, spun=0),
    )
    sites = summarize_sites(path)
    assert [s.site for s in sites] == [
        "farm.example",
        "lucky.example",
        "assisted.example",
        "news.example",
    ]
    farm = sites[0]
    assert (farm.assessed, farm.likely_spun, farm.machine) == (20, 15, 12)
    assert farm.spun_share == 0.75 and farm.spun_interval == wilson_interval(15, 20)
    # Sites alike on likely spun (none at all) fall back to their machine-written share.
    assert sites[2].machine_share == 1.0 and sites[3].machine_share == 0.05

    report = tmp_path / "report.html"
    write_html(sites, report, source=str(path))
    page = report.read_text()
    assert "Likely spun share" in page and "75% (53-89%)" in page


LONG_SITE = "www.dailybuzz-news-network.example.com"  # 38 characters, as crawls have them
SIGNALS = ["duplicated_headline", "chatbot_leftover", "single_name_byline"]
SITES = (LONG_SITE, "dailybuzz.example.com", "farm.example", "news.example")


def _sites_output(tmp_path, columns: int) -> list[str]:
    from unspun.cli import app

    path = _write(
        tmp_path,
        [
            _row(
                record_id=f"{site}-{i}",
                site=site,
                verdict="machine" if i < 9 else "not_flagged",
                assessment="likely_spun" if i % 2 else "possibly_spun",
                signals=SIGNALS if site == LONG_SITE else ["missing_byline"],
                top_source="velmora-port-strike",
                date=f"2025-09-0{1 + i % 4}",
            )
            for site in SITES
            for i in range(12)
        ],
    )
    result = CliRunner().invoke(app, ["sites", str(path)], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(len(line) <= columns for line in lines), result.stdout
    # The numbers are never cut: share of likely spun with its interval, machine share.
    assert "50% (25-75%)" in result.stdout and "75%" in result.stdout
    # The ranking table; the trend table under it is tested on its own.
    return lines[: next(i for i, line in enumerate(lines) if line.startswith("Trend:"))]


def _cells(lines: list[str], column: int) -> list[str]:
    """The text of one column of the table, line by line (body rows only)."""
    rows = [line for line in lines if "│" in line]
    return [re.split(r"[│┃]", row.strip("│┃"))[column].strip() for row in rows]


def _tokens(lines: list[str]) -> list[str]:
    table = [line for line in lines if "│" in line or "┃" in line]
    return [t for line in table for t in re.split(r"[│┃\s]+", line) if re.search("[a-z]", t)]


@pytest.mark.parametrize("columns", [80, 100])
def test_sites_table_shows_whole_site_names_at_80_columns(tmp_path, columns):
    lines = _sites_output(tmp_path, columns)
    names = _cells(lines, 0)
    for site in SITES:
        assert site in names, "\n".join(lines)  # whole, on a line of its own
    # Every other word is whole too, or a signal name cut short with an ellipsis; none is folded,
    # its remainder continuing on the next line.
    words = {*SITES, "missing_byline", *SIGNALS, "(95%", "CI)", "Site", "and", "top", "template"}
    words |= {"signals", "Articles", "Likely", "spun", "Machine", "Top", "n"}
    for token in _tokens(lines):
        if token.endswith("…"):
            assert any(w.startswith(token[:-1]) for w in words), (token, "\n".join(lines))
        else:
            assert token in words, (token, "\n".join(lines))
    assert "missing_byline" in "\n".join(lines)


def test_sites_table_at_60_columns_wraps_a_long_name_without_losing_a_character(tmp_path):
    lines = _sites_output(tmp_path, 60)
    names = _cells(lines, 0)
    assert not any("…" in name for name in names if "." in name)
    assert "".join(names).count(LONG_SITE) == 1  # its lines, read in turn, give the whole name
    for site in SITES[1:]:
        assert site in names


def test_sites_table_on_wide_terminals_adds_daily_volume_and_sources(tmp_path):
    # At 120 columns a 38-character name leaves no room for sources: the signals stay whole.
    lines = _sites_output(tmp_path, 120)
    text = "\n".join(lines)
    assert "Top template signals" in text and "Top sources" not in text
    assert set(SITES) <= set(_cells(lines, 0)) and "duplicated_headline" in text
    assert "…" not in text
    lines = _sites_output(tmp_path, 140)
    text = "\n".join(lines)
    assert "Per day" in text and "Top sources" in text and "velmora-port-strike" in text
    assert set(SITES) <= set(_cells(lines, 0)) and "3.0" in _cells(lines, 4)
    assert "…" not in text


def test_sites_reads_a_scan_made_before_assessments(tmp_path):
    from unspun.cli import app

    rows = [
        _row(record_id=f"{site}-{i}", site=site, verdict="machine" if i < k else "not_flagged")
        for site, k in (("mostly.example", 8), ("rarely.example", 1))
        for i in range(10)
    ]
    table = pa.Table.from_pylist(rows, schema=ROW_SCHEMA).drop_columns(["assessment"])
    path = tmp_path / "old.parquet"
    pq.write_table(table, path)
    sites = summarize_sites(path)
    assert [s.site for s in sites] == ["mostly.example", "rarely.example"]
    assert all(s.assessed == 0 and s.spun_share is None for s in sites)
    result = CliRunner().invoke(app, ["sites", str(path)], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "machine-written articles" in result.stdout and "rescan" in result.stdout


def test_render_table_on_an_80_column_console_keeps_every_name():
    from collections import Counter

    from rich.console import Console

    from unspun.batch.sites import SiteSummary, render_table

    names = ["content-farm-network-syndication-partner.info", "dailybuzz.example.com"]
    sites = [
        SiteSummary(site=name, articles=40, machine=30, signals=Counter(SIGNALS)) for name in names
    ]
    for width in (80, 60):
        console = Console(width=width, record=True, force_terminal=False)
        render_table(sites, console)
        lines = console.export_text().splitlines()
        assert all(len(line) <= width for line in lines)
        cells = _cells(lines, 0)
        assert names[1] in cells and "".join(cells).count(names[0]) == 1
        assert not any("…" in cell for cell in cells if "." in cell)


def test_trend_per_day_over_several_days_of_scans(tmp_path):
    """Daily scans (rows dated by the day they were fetched, or by the article's own date), in
    one output or one file a day: each site's share of likely spun articles per day, in the text
    report and the HTML report."""
    import datetime as dt

    def day(n: int) -> dt.datetime:
        return dt.datetime(2024, 6, n, 7, 30, tzinfo=dt.UTC)

    def rows(site: str, when: int, spun: int, total: int, start: int) -> list[dict]:
        return [
            _row(
                record_id=f"https://{site}/{start + i}",
                url=f"https://{site}/{start + i}",
                site=site,
                verdict="machine" if i < spun else "not_flagged",
                assessment="likely_spun" if i < spun else "no_sign",
                fetched_at=day(when),
            )
            for i in range(total)
        ]

    first = tmp_path / "2024-06-01.parquet"
    second = tmp_path / "2024-06-03.parquet"
    farm = "dailybuzz.example.com"
    pq.write_table(
        pa.Table.from_pylist(
            rows(farm, 1, 1, 4, 0) + rows(farm, 2, 2, 4, 10) + rows("news.example", 1, 0, 3, 0)
            # the article's own date wins over the day it was fetched
            + [_row(record_id="dated", site=farm, verdict="machine", assessment="likely_spun",
                    date="2024-06-02", fetched_at=day(5))],
            schema=ROW_SCHEMA,
        ),
        first,
    )  # fmt: skip
    pq.write_table(
        pa.Table.from_pylist(
            rows(farm, 3, 4, 4, 20) + rows("news.example", 3, 0, 2, 5), schema=ROW_SCHEMA
        ),
        second,
    )
    sites = summarize_sites([first, second])
    by_name = {site.site: site for site in sites}
    expected = [("2024-06-01", 1, 4), ("2024-06-02", 3, 5), ("2024-06-03", 4, 4)]
    assert by_name[farm].trend() == expected
    assert by_name["news.example"].trend() == [("2024-06-01", 0, 3), ("2024-06-03", 0, 2)]

    from unspun.cli import app

    result = CliRunner().invoke(
        app, ["sites", str(first), str(second), "--html", str(tmp_path / "r.html")],
        env={"COLUMNS": "80"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), result.stdout
    trend = "\n".join(lines[next(i for i, x in enumerate(lines) if x.startswith("Trend:")) :])
    assert "Trend: share of likely spun articles per day" in trend
    assert farm in trend and "▃▅█" in trend and "25% (4) → 100% (4)" in trend
    assert "▁▁" in trend and "0% (3) → 0% (2)" in trend
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Trend: share of likely spun articles per day" in page
    assert "▃▅█ 25% (4) → 100% (4)" in page

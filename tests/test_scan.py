"""``unspun scan`` with the local engine: one row per record, errors as rows, duplicates found by
content, checkpoints that make a killed scan finish exactly once."""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from batch_data import (
    SETTINGS,
    TEST_DETECTOR,
    UNSPUN,
    article_records,
    kill_and_resume,
    page_html,
    scan_env,
    write_jsonl,
    write_warc,
)
from batch_detectors import EXPLODE, ScanTestDetector
from rich.console import Console

from unspun.article import parse_record
from unspun.batch.engine import ScanSettings
from unspun.batch.scan import ScanOptions, run_scan
from unspun.errors import ConfigError
from unspun.pipeline import CheckConfig, Checker
from unspun.render import render_report


def _rows(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def _crawl(tmp_path: Path) -> tuple[list[str], int]:
    """A JSONL feed (with bad lines, a duplicate, an article that breaks the model) and a WARC."""
    records = article_records(24)
    records.append(dict(records[2], id="copy", url="https://site9.example/copied"))
    records.append({"id": "boom", "text": f"{EXPLODE} " + records[1]["text"]})
    feed = write_jsonl(tmp_path / "feed.jsonl", records, ["{not json", '{"title": "no text"}'])
    pages = [
        (f"https://site{i % 2}.example/page/{i}", page_html(f"Page {i}", records[i]["text"]))
        for i in range(5, 9)
    ]
    crawl = write_warc(tmp_path / "crawl.warc.gz", pages, compress=True)
    return [str(feed), str(crawl)], len(records) + 2 + len(pages)


@pytest.mark.parametrize("workers", [1, 2])
def test_scan_writes_one_row_per_record_with_errors_and_duplicates(tmp_path, workers):
    inputs, expected = _crawl(tmp_path)
    out = tmp_path / "results.parquet"
    summary = run_scan(inputs, out, SETTINGS, ScanOptions(workers=workers, batch_size=5))
    rows = _rows(out)
    ids = [row["record_id"] for row in rows]
    assert len(ids) == len(set(ids)) == expected == summary.totals.records
    by_id = {row["record_id"]: row for row in rows}
    feed = inputs[0]
    assert "not valid JSON" in by_id[f"{feed}#27"]["error"]
    assert "no 'text'" in by_id[f"{feed}#28"]["error"]
    assert "test detector asked to fail" in by_id[f"{feed}#26"]["error"]
    assert by_id[f"{feed}#27"]["verdict"] is None
    # The copied article is found by its text and gets the verdict of its first occurrence;
    # the WARC pages repeat feed articles 5..8 inside different HTML, so they are duplicates too.
    copy = by_id[f"{feed}#25"]
    first = by_id[copy["duplicate_of"]]
    assert first["record_id"] == f"{feed}#3"
    assert (copy["verdict"], copy["human_percentile"]) == (
        first["verdict"],
        first["human_percentile"],
    )
    assert copy["site"] == "site9.example" and copy["input_id"] == "copy"
    assert summary.totals.duplicates == 5
    assert summary.totals.errors == 3
    warc_rows = [row for row in rows if row["input"] == inputs[1]]
    assert sorted(row["site"] for row in warc_rows) == ["site0.example"] * 2 + ["site1.example"] * 2
    assert summary.warc_skipped["non-HTML response"] == 1
    # Verdicts follow the test detector: site0 publishes long-word (machine) text only.
    site0 = [
        r for r in rows if r["site"] == "site0.example" and r["input"] == feed and not r["error"]
    ]
    assert site0 and all(row["verdict"] == "machine" for row in site0)
    assert any(row["verdict"] == "not_flagged" for row in rows)
    assert not out.with_name(out.name + ".parts").exists()


def test_rerun_of_a_finished_scan_skips_everything(tmp_path):
    inputs, expected = _crawl(tmp_path)
    out = tmp_path / "results.parquet"
    run_scan(inputs, out, SETTINGS)
    before = _rows(out)
    summary = run_scan(inputs, out, SETTINGS)
    assert summary.already_done == expected and summary.scanned == 0
    assert _rows(out) == before


def test_resume_uses_committed_parts_and_another_scans_checkpoint_is_refused(tmp_path):
    records = article_records(40)
    feed = write_jsonl(tmp_path / "feed.jsonl", records)
    out = tmp_path / "results.parquet"

    class Interrupt(Exception):
        pass

    class StopAfter:
        def __init__(self, rows):
            self.rows, self.seen = rows, 0

        def start(self, total, already_done):
            pass

        def advance(self, rows):
            self.seen += rows
            if self.seen >= self.rows:
                raise Interrupt

    options = ScanOptions(batch_size=4, checkpoint_rows=8)
    with pytest.raises(Interrupt):
        run_scan([str(feed)], out, SETTINGS, options, StopAfter(20))
    parts = sorted(out.with_name(out.name + ".parts").glob("part-*.parquet"))
    committed = sum(pq.read_metadata(p).num_rows for p in parts)
    # Two parts of 8, then the 4 finished rows are committed as the error unwinds the scan.
    assert committed == 20 and len(parts) == 3

    other = ScanSettings(CheckConfig(detector=TEST_DETECTOR, target_fpr=0.05), SETTINGS.plugins)
    with pytest.raises(ConfigError, match="different scan"):
        run_scan([str(feed)], out, other)

    summary = run_scan([str(feed)], out, SETTINGS, options)
    assert summary.already_done == 20 and summary.scanned == 20
    ids = [row["record_id"] for row in _rows(out)]
    assert sorted(ids) == sorted(f"{feed}#{n}" for n in range(1, 41))


def test_killed_cli_scan_resumes_exactly_once(tmp_path):
    records = article_records(240)
    for i in range(0, 240, 40):  # some duplicates across the kill
        records.append(dict(records[i], id=f"dup{i}", url=f"https://copies.example/{i}"))
    feed = write_jsonl(tmp_path / "feed.jsonl", records, ["not json"])
    out = tmp_path / "out" / "results.parquet"
    args = [
        str(feed),
        "--out",
        str(out),
        "--detector",
        TEST_DETECTOR,
        "--workers",
        "2",
        "--batch-size",
        "8",
        "--checkpoint-rows",
        "16",
    ]
    expected = {f"{feed}#{n}" for n in range(1, len(records) + 2)}
    stderr = kill_and_resume(args, out, expected, scan_env(0.008))
    skipped = int(stderr.split("skipped ")[1].split()[0].replace(",", ""))
    # The kill can land after the last part was committed but before the final merge; then the
    # rerun skips every record and only merges, which is still exactly once.
    assert 0 < skipped <= len(expected)
    rows = pq.read_table(out).to_pylist()
    duplicates = [row for row in rows if row["duplicate_of"]]
    assert len(duplicates) == 6
    assert all(row["verdict"] is not None for row in duplicates)


def test_cli_reports_bad_usage_in_one_line(tmp_path):
    feed = write_jsonl(tmp_path / "feed.jsonl", article_records(2))
    result = subprocess.run(
        [UNSPUN, "scan", str(feed), "--out", str(tmp_path / "r.parquet"), "--detector", "nope"],
        capture_output=True,
        text=True,
        env=scan_env(0),
        timeout=120,
    )
    assert result.returncode == ConfigError.exit_code
    assert "unknown detector 'nope'" in result.stderr and "Traceback" not in result.stderr
    result = subprocess.run(
        [UNSPUN, "scan", str(tmp_path / "missing.warc"), "--out", str(tmp_path / "r.parquet")],
        capture_output=True,
        text=True,
        env=scan_env(0),
        timeout=120,
    )
    assert result.returncode == 3 and "input not found" in result.stderr


def test_results_are_readable_by_pandas(tmp_path):
    feed = write_jsonl(tmp_path / "feed.jsonl", article_records(6))
    out = tmp_path / "r.parquet"
    run_scan([str(feed)], out, SETTINGS)
    import pandas as pd

    frame = pd.read_parquet(out)
    assert len(frame) == 6
    assert set(frame.columns) >= {
        "record_id",
        "url",
        "site",
        "title",
        "verdict",
        "human_percentile",
        "signals",
        "top_source",
        "error",
    }
    assert json.loads(pq.read_schema(out).metadata[b"unspun.scan"])["detector"] == TEST_DETECTOR


@pytest.mark.slow
def test_index_adds_the_top_traced_source(tmp_path):
    from unspun.provenance import SourceDoc, SourceIndex

    records = article_records(4)
    location = str(tmp_path / "sources.sqlite")
    index = SourceIndex(location, create=True)
    index.add(
        [
            SourceDoc(id=f"wire-{i}", text=record["text"], title=record["title"])
            for i, record in enumerate(records)
        ]
    )
    index.close()
    feed = write_jsonl(tmp_path / "feed.jsonl", records)
    config = CheckConfig(detector=TEST_DETECTOR, tokens=False, index=location, top_sources=1)
    out = tmp_path / "r.parquet"
    run_scan([str(feed)], out, ScanSettings(config, SETTINGS.plugins))
    rows = sorted(_rows(out), key=lambda row: row["position"])
    assert [row["top_source"] for row in rows] == ["wire-0", "wire-1", "wire-2", "wire-3"]
    assert all(row["top_source_score"] > 0.5 for row in rows)


def test_a_redirected_scan_prints_no_bar_and_counts_in_words(tmp_path):
    feed = write_jsonl(tmp_path / "feed.jsonl", article_records(1))
    result = subprocess.run(
        [
            UNSPUN,
            "scan",
            str(feed),
            "--out",
            str(tmp_path / "r.parquet"),
            "--detector",
            TEST_DETECTOR,
        ],
        capture_output=True,
        text=True,
        env=scan_env(0),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # stderr is a pipe here: no progress bar frames, only the summary lines.
    assert "━" not in result.stderr and "scanning" not in result.stderr
    assert "Wrote 1 row to" in result.stderr and "0 errors, 0 duplicates" in result.stderr
    assert "This run: 1 record in" in result.stderr


def test_results_named_as_another_format_are_refused_in_one_line(tmp_path):
    feed = write_jsonl(tmp_path / "feed.jsonl", article_records(1))
    result = subprocess.run(
        [UNSPUN, "scan", str(feed), "--out", str(tmp_path / "results.jsonl")],
        capture_output=True,
        text=True,
        env=scan_env(0),
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "results.jsonl: scan results are written as Parquet" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "results.jsonl").exists()


def test_words_column_equals_the_too_short_reason_and_the_report(tmp_path):
    # Dashes, figures, a hyphenated word, an invisible character and a look-alike letter: the
    # kinds of token that whitespace splitting and a letters-only pattern used to count apart.
    text = (
        "Port workers \u2014 12 of them \u2014 walked out at 06:00 on Tuesday. The well-known "
        "union\u200b says pay rose 3.5% in 2021 \u00ab and not since \u00bb. Ships w\u0430it."
    )
    record = {"id": "short", "title": "Port walkout", "url": "https://a.example/1", "text": text}
    feed = write_jsonl(tmp_path / "feed.jsonl", [record])
    out = tmp_path / "r.parquet"
    run_scan([str(feed)], out, SETTINGS)
    (row,) = _rows(out)
    assert row["verdict"] == "uncertain" and row["reason"].startswith("too short: ")
    assert row["reason"].startswith(f"too short: {row['words']} words;")

    checker = Checker(SETTINGS.config, detector=ScanTestDetector())
    report = checker.check(parse_record(record))
    buffer = io.StringIO()
    render_report(report, Console(file=buffer, width=100, force_terminal=False))
    shown = re.search(r"^Words\s+([\d,]+)", buffer.getvalue(), re.MULTILINE)
    assert shown and int(shown.group(1).replace(",", "")) == row["words"] == 25

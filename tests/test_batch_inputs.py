"""Scan input readers: every format streams records with stable ids; bad records and broken files
become invalid records with a one-line reason, never exceptions."""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from batch_data import article_records, page_html, write_jsonl, write_warc

from unspun.batch.inputs import SKIPPED_FILE, iter_inputs, resolve_inputs
from unspun.batch.warc import WarcStats, iter_warc, write_warc_record
from unspun.errors import ConfigError, InputNotFound


def _records(path, **kwargs):
    return list(iter_inputs(resolve_inputs([str(path)]), **kwargs))


def test_jsonl_ids_are_file_and_line_and_bad_lines_are_invalid(tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", article_records(3), ["", "{oops", "[1, 2]"])
    path.write_bytes(path.read_bytes() + b'{"text": "caf\xe9"}\n')
    records = _records(path)
    assert [r.record_id for r in records] == [f"{path}#{n}" for n in (1, 2, 3, 5, 6, 7)]
    assert [r.kind for r in records] == ["record"] * 5 + ["invalid"]
    assert "not UTF-8" in records[-1].error


def test_jsonl_line_over_the_limit_is_one_invalid_record_and_reading_goes_on(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps({"text": "x" * 5000}) + "\n" + json.dumps({"text": "short"}) + "\n")
    records = _records(path, max_record_bytes=1000)
    assert [r.kind for r in records] == ["invalid", "record"]
    assert "over 1000 bytes" in records[0].error
    assert records[1].position == 2


def test_csv_and_parquet_rows_become_json_records(tmp_path):
    rows = article_records(4)
    csv_path = tmp_path / "rows.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    parquet_path = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet_path)
    for path in (csv_path, parquet_path):
        records = _records(path)
        assert [r.position for r in records] == [1, 2, 3, 4]
        assert [json.loads(r.payload)["id"] for r in records] == ["r0", "r1", "r2", "r3"]


def test_corrupt_parquet_is_one_invalid_record(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    (record,) = _records(path)
    assert record.kind == "invalid" and "Parquet" in record.error


def test_directory_of_pages_uses_relative_paths_as_ids(tmp_path):
    folder = tmp_path / "pages"
    (folder / "b").mkdir(parents=True)
    (folder / "a.html").write_text(page_html("A", "Body text here."))
    (folder / "b" / "c.txt").write_text("Plain text article.")
    (folder / "ignored.png").write_bytes(b"\x89PNG")
    (folder / "huge.txt").write_text("x" * 2000)
    records = _records(folder, max_record_bytes=1000)
    assert [r.record_id for r in records] == [
        f"{folder}/{n}" for n in ("a.html", "b/c.txt", "huge.txt")
    ]
    assert [r.kind for r in records] == ["html", "text", "invalid"]
    # What is not read is counted, so a scan can say so.
    (folder / "b" / "feed.json").write_text('{"text": "not read from a folder"}')
    stats = WarcStats()
    assert len(list(iter_inputs(resolve_inputs([str(folder)]), warc_stats=stats))) == 3
    assert stats.skipped == {SKIPPED_FILE: 2}


@pytest.mark.parametrize("compress", [False, True])
def test_warc_yields_html_responses_and_counts_the_rest(tmp_path, compress):
    pages = [(f"https://site{i}.example/p", page_html(f"T{i}", f"Text {i}.")) for i in range(3)]
    path = write_warc(
        tmp_path / ("crawl.warc.gz" if compress else "crawl.warc"), pages, compress=compress
    )
    stats = WarcStats()
    records = list(iter_inputs(resolve_inputs([str(path)]), warc_stats=stats))
    assert [r.url for r in records] == [url for url, _ in pages]
    assert [r.kind for r in records] == ["html"] * 3
    # warcinfo=1, then request/response pairs: responses are records 3, 5, 7.
    assert [r.position for r in records] == [3, 5, 7]
    assert "T1" in records[1].payload
    assert stats.skipped == {"warcinfo record": 1, "request record": 3, "non-HTML response": 1}


def test_warc_gzip_and_chunked_http_bodies_are_decoded(tmp_path):
    body = page_html("Zipped", "Zipped words.").encode()
    zipped = gzip.compress(body)
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(zipped), zipped)
    http = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + chunked
    )
    out = io.BytesIO()
    head = (
        b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://z.example/\r\n"
        b"Content-Type: application/http; msgtype=response\r\n"
        b"Content-Length: %d\r\n\r\n" % len(http)
    )
    out.write(head + http + b"\r\n\r\n")
    path = tmp_path / "z.warc"
    path.write_bytes(out.getvalue())
    (record,) = _records(path)
    assert record.kind == "html" and "Zipped words." in record.payload


def test_oversized_and_truncated_warc_records_become_invalid(tmp_path):
    path = tmp_path / "bad.warc.gz"
    with open(path, "wb") as out:
        write_warc_record(
            out, url="https://a.example/", payload=b"<p>" + b"a" * 5000 + b"</p>", compress=True
        )
        write_warc_record(out, url="https://b.example/", payload=b"<p>fine page</p>", compress=True)
        last = gzip.compress(
            b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 99999\r\n\r\nshort"
        )
        out.write(last)
    records = _records(path, max_record_bytes=1000)
    assert [r.kind for r in records] == ["invalid", "html", "invalid"]
    assert "over the limit" in records[0].error
    assert "ends inside record 3" in records[2].error and "rest of" in records[2].error


def test_gzip_bomb_is_refused_without_inflating_it_all(tmp_path, monkeypatch):
    import unspun.batch.warc as warc

    monkeypatch.setattr(warc, "MAX_MEMBER_BYTES", 1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    header = b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 50000000\r\n\r\n"
    data = compressor.compress(header)
    data += b"".join(compressor.compress(b"\0" * (1 << 20)) for _ in range(50))
    data += compressor.flush()
    path = tmp_path / "bomb.warc.gz"
    path.write_bytes(data)
    problems = list(iter_warc(path, max_record_bytes=10_000_000))
    assert len(problems) == 1 and problems[0].fatal
    assert "gzip bomb" in problems[0].error.message


def test_garbage_file_named_warc_is_one_invalid_record(tmp_path):
    path = tmp_path / "junk.warc"
    path.write_bytes(b"this is not a crawl\n" * 10)
    (record,) = _records(path)
    assert record.kind == "invalid" and "WARC/" in record.error


def test_inputs_are_checked_before_work_starts(tmp_path):
    with pytest.raises(InputNotFound):
        resolve_inputs([str(tmp_path / "missing.jsonl")])
    (tmp_path / "notes.docx").write_text("x")
    with pytest.raises(ConfigError, match="cannot tell the format"):
        resolve_inputs([str(tmp_path / "notes.docx")])
    path = write_jsonl(tmp_path / "a.jsonl", article_records(1))
    with pytest.raises(ConfigError, match="given twice"):
        resolve_inputs([str(path), str(tmp_path / "." / "a.jsonl")])

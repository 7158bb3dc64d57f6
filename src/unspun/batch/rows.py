"""One batch of raw records to output rows: parse, de-duplicate by content hash, check through the
pipeline, and turn each Report (or failure) into a flat row of the results table."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa

from unspun.batch.inputs import RawRecord
from unspun.errors import MalformedInput, UnspunError

# The results table. Add columns, never rename them within a report schema version: users query
# these files with pandas/DuckDB. (report/2 renamed machine_probability to human_percentile.)
ROW_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("input", pa.string()),
        ("position", pa.int64()),
        ("input_id", pa.string()),
        ("url", pa.string()),
        ("site", pa.string()),
        ("title", pa.string()),
        ("date", pa.string()),
        ("words", pa.int64()),
        ("verdict", pa.string()),
        ("human_percentile", pa.float64()),
        ("reason", pa.string()),
        ("signals", pa.list_(pa.string())),
        ("top_source", pa.string()),
        ("top_source_score", pa.float64()),
        ("detector", pa.string()),
        ("content_hash", pa.string()),
        ("duplicate_of", pa.string()),
        ("error", pa.string()),
        ("assessment", pa.string()),
        # Pages fetched from the web (URL inputs); null for records read from files.
        ("fetched_at", pa.timestamp("ms", tz="UTC")),
        ("http_status", pa.int64()),
        ("final_url", pa.string()),
        ("etag", pa.string()),
        ("last_modified", pa.string()),
    ]
)
# Filled into a duplicate's row from the row of the article's first occurrence.
RESULT_COLUMNS = (
    "verdict",
    "human_percentile",
    "reason",
    "signals",
    "top_source",
    "top_source_score",
    "detector",
    "error",
    "assessment",
)

Claim = Callable[[list[tuple[str, str]]], list[str | None]]


class SeenHashes:
    """Content hash -> id of the record that first had it, shared by every worker of a scan.
    ``claim`` is idempotent: a record that re-claims its own hash (a retried batch, a resumed
    scan) stays the original."""

    def __init__(self, initial: dict[str, str] | None = None) -> None:
        self._first: dict[str, str] = dict(initial or {})
        self._lock = threading.Lock()

    def claim(self, pairs: list[tuple[str, str]]) -> list[str | None]:
        """For each (hash, record id): None if this record is the first with the hash, else the
        id of the first."""
        answers: list[str | None] = []
        with self._lock:
            for content_hash, record_id in pairs:
                first = self._first.setdefault(content_hash, record_id)
                answers.append(None if first == record_id else first)
        return answers

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            return dict(self._first)

    def __len__(self) -> int:
        return len(self._first)


def content_hash(body: str) -> str:
    """Identity of an article's text: the body with whitespace runs collapsed, so the same article
    re-wrapped or re-indented by another site's template still counts as identical."""
    return hashlib.blake2b(" ".join(body.split()).encode("utf-8"), digest_size=16).hexdigest()


def site_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname
    except ValueError:
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


def _to_article(record: RawRecord):
    from unspun.article import parse_html, parse_record, parse_text

    if record.kind == "invalid":
        raise MalformedInput(record.error or "unreadable record")
    if record.kind in ("html", "text"):
        if record.kind == "html":
            article = parse_html(record.payload, url=record.final_url or record.url)
        else:
            article = parse_text(record.payload)
        # A page fetched from a feed or sitemap: the listing's date when the page gives none.
        article.date = article.date or record.listed_date
        return article
    try:
        value = json.loads(record.payload)
    except json.JSONDecodeError as exc:
        raise MalformedInput(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(value, dict):
        raise MalformedInput(f"a record must be a JSON object, not {type(value).__name__}")
    return parse_record(value)


def _input_id(record: RawRecord) -> str | None:
    if record.kind != "record":
        return None
    try:
        value = json.loads(record.payload).get("id")
    except (json.JSONDecodeError, AttributeError):
        return None
    return None if value is None else str(value)


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def _base_row(record: RawRecord) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(ROW_SCHEMA.names)
    row.update(record_id=record.record_id, input=record.input, position=record.position)
    row["url"] = record.url
    row["site"] = site_of(record.final_url or record.url)
    row["input_id"] = _input_id(record)
    for name in ("fetched_at", "http_status", "final_url", "etag", "last_modified"):
        row[name] = getattr(record, name)
    if row["date"] is None:
        row["date"] = record.listed_date
    return row


def _fill_article(row: dict[str, Any], article) -> None:
    row["url"] = article.url or row["url"]
    # The host is the stable key for ranking sites; a page's display name is only a fallback.
    row["site"] = site_of(row["url"]) or article.site
    row["title"] = article.title
    row["date"] = article.date
    row["words"] = article.word_count


def _fill_report(row: dict[str, Any], report) -> None:
    row["verdict"] = report.verdict
    percentile = report.human_percentile
    row["human_percentile"] = percentile if percentile == percentile else None  # NaN
    row["reason"] = report.reason
    row["signals"] = sorted({signal.id for signal in report.signals})
    if report.sources:
        row["top_source"] = report.sources[0].id
        row["top_source_score"] = report.sources[0].score
    row["detector"] = report.detector.name
    row["assessment"] = report.assessment.label if report.assessment is not None else None


def _error(exc: BaseException) -> str:
    if isinstance(exc, UnspunError):
        return _one_line(exc.message)
    return _one_line(f"internal error ({type(exc).__name__}: {exc})")


def scan_batch(checker, claim: Claim, records: Sequence[RawRecord]) -> list[dict[str, Any]]:
    """Rows for ``records`` in the same order. A record that fails becomes an error row; a whole
    batch failing in the model is retried one article at a time so only the culprit fails."""
    rows = [_base_row(record) for record in records]
    parsed: list[tuple[int, Any, str]] = []
    for index, record in enumerate(records):
        try:
            article = _to_article(record)
            _fill_article(rows[index], article)
            if record.final_url:
                # Fetched: the row keeps the URL as listed; its site is where the page really is.
                rows[index]["url"] = record.url
                rows[index]["site"] = site_of(record.final_url) or rows[index]["site"]
            parsed.append((index, article, content_hash(article.body)))
        except Exception as exc:  # noqa: BLE001 - one bad record must never stop the run
            rows[index]["error"] = _error(exc)
    firsts = claim([(digest, records[index].record_id) for index, _, digest in parsed])
    unique: list[tuple[int, Any]] = []
    for (index, article, digest), first in zip(parsed, firsts, strict=True):
        rows[index]["content_hash"] = digest
        if first is None:
            unique.append((index, article))
        else:
            rows[index]["duplicate_of"] = first
    if not unique:
        return rows
    try:
        reports = checker.check_many([article for _, article in unique])
    except Exception:  # noqa: BLE001 - isolate the article that broke the batch
        reports = []
        for _, article in unique:
            try:
                reports.append(checker.check(article))
            except Exception as exc:  # noqa: BLE001
                reports.append(exc)
    for (index, _), report in zip(unique, reports, strict=True):
        if isinstance(report, BaseException):
            rows[index]["error"] = _error(report)
        else:
            _fill_report(rows[index], report)
    return rows


def rows_to_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=ROW_SCHEMA)


RAW_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("input", pa.string()),
        ("position", pa.int64()),
        ("kind", pa.string()),
        ("payload", pa.large_string()),
        ("url", pa.string()),
        ("error", pa.string()),
        ("final_url", pa.string()),
        ("http_status", pa.int64()),
        ("fetched_at", pa.timestamp("ms", tz="UTC")),
        ("etag", pa.string()),
        ("last_modified", pa.string()),
        ("listed_date", pa.string()),
    ]
)


def records_to_table(records: list[RawRecord]) -> pa.Table:
    return pa.Table.from_pylist([vars(record) for record in records], schema=RAW_SCHEMA)


def table_to_records(table: pa.Table) -> list[RawRecord]:
    return [RawRecord(**row) for row in table.to_pylist()]

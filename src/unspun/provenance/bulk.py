"""Bulk tracing of a JSONL file of articles: every line is traced on its own, and a bad line becomes
an error row with its line number instead of stopping the batch (as a bad record does in a scan)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unspun.errors import InputNotFound, SourceIndexError, UnspunError
from unspun.provenance.records import record_to_doc
from unspun.provenance.store import SourceDoc
from unspun.wording import counted

# The same bound a scan puts on one record: a runaway line costs one error row, not the memory.
MAX_LINE_BYTES = 10_000_000


@dataclass
class TraceRecord:
    """One non-blank line of the input: the article to trace, or why it cannot be traced."""

    line: int
    doc: SourceDoc | None = None
    error: str | None = None
    id: str | None = None


@dataclass
class BulkTally:
    """What a bulk trace did, for its closing line and exit code."""

    traced: int = 0
    failed_lines: list[int] = field(default_factory=list)
    first_error: str | None = None

    @property
    def records(self) -> int:
        return self.traced + len(self.failed_lines)


def iter_trace_records(
    path: Path, *, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[TraceRecord]:
    """The records of ``path`` in order, streamed; only a file that cannot be opened raises."""
    from unspun.jsonl import iter_lines

    if not path.is_file():
        raise InputNotFound(f"{path}: no such file")
    for line in iter_lines(path, max_line_bytes=max_line_bytes):
        if line.too_long:
            yield TraceRecord(line.number, error=f"line {line.number}: over {max_line_bytes} bytes")
        else:
            yield _record(line.number, line.data)


def _record(number: int, line: bytes) -> TraceRecord:
    from unspun.article import decode_bytes

    where = f"line {number}"
    try:
        # Line by line, so one line of junk cannot change how the good lines are decoded.
        text, _signals = decode_bytes(line)
    except UnspunError as exc:
        return TraceRecord(number, error=f"{where}: not text ({exc.message})")
    try:
        value = json.loads(text.strip())
    except json.JSONDecodeError as exc:
        at = "" if exc.msg.endswith(" at") else " at"  # "Unterminated string starting at"
        error = f"{where}: invalid JSON ({exc.msg}{at} column {exc.colno})"
        return TraceRecord(number, error=error)
    raw_id = value.get("id") if isinstance(value, dict) else None
    record_id = None if raw_id in (None, "") else str(raw_id)
    try:
        return TraceRecord(number, doc=record_to_doc(value, where), id=record_id)
    except UnspunError as exc:
        return TraceRecord(number, error=exc.message, id=record_id)


def trace_rows(
    provenance, records: Iterator[TraceRecord], tally: BulkTally, *, top: int, claims: bool
) -> Iterator[dict[str, Any]]:
    """One output row per record, in input order: its sources (and claims), or its ``error``.

    A record that breaks tracing becomes an error row too; an index that fails is not a record's
    fault, so SourceIndexError stops the batch."""
    for record in records:
        row: dict[str, Any] = {"id": record.id, "line": record.line}
        if record.doc is not None:
            try:
                row.update(_trace(provenance, record.doc, top=top, claims=claims))
            except SourceIndexError:
                raise
            except Exception as exc:  # noqa: BLE001 - one bad record must never stop the batch
                record.error = _one_line(f"line {record.line}: {_reason(exc)}")
        if record.error is not None:
            row["error"] = record.error
            tally.failed_lines.append(record.line)
            tally.first_error = tally.first_error or record.error
        else:
            tally.traced += 1
        yield row


def _trace(provenance, doc: SourceDoc, *, top: int, claims: bool) -> dict[str, Any]:  # noqa: ANN001
    candidates = provenance.trace(doc.title, doc.text, top=top, date=doc.date)
    result: dict[str, Any] = {"sources": [c.as_dict() for c in candidates]}
    if claims:
        result["claims"] = [
            r.as_dict() for r in provenance.claims(doc.text, candidates, published=doc.date)
        ]
    return result


def failure_message(path: Path, tally: BulkTally) -> str:
    """The closing line when some records failed: how many, where, and the first reason."""
    lines = ", ".join(str(n) for n in tally.failed_lines[:10])
    more = f" and {len(tally.failed_lines) - 10} more" if len(tally.failed_lines) > 10 else ""
    one_failed = len(tally.failed_lines) == 1
    return (
        f"{path}: {len(tally.failed_lines)} of {counted(tally.records, 'record')} could not be "
        f"traced ({'line' if one_failed else 'lines'} {lines}{more}; first: "
        f"{tally.first_error}); {'its row carries' if one_failed else 'their rows carry'} "
        f"an 'error', the other {tally.traced} {'was' if tally.traced == 1 else 'were'} traced"
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnspunError):
        return exc.message
    return f"internal error ({type(exc).__name__}: {exc})"


def _one_line(message: str) -> str:
    return " ".join(message.split())

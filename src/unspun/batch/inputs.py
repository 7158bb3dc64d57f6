"""Readers for scan inputs (JSONL, CSV, Parquet, WARC, folders of pages) as streams of raw records
with stable ids; nothing here parses articles, so reading stays cheap and runs anywhere."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from unspun.batch.warc import WarcProblem, WarcStats, iter_warc
from unspun.errors import (
    ConfigError,
    InputNotFound,
    InputTooLarge,
    MalformedInput,
    UnspunError,
)

DEFAULT_MAX_RECORD_BYTES = 10_000_000
PAGE_SUFFIXES = {".html": "html", ".htm": "html", ".xhtml": "html", ".txt": "text"}
SKIPPED_FILE = "file(s) of another type in a folder (read: .html, .htm, .xhtml, .txt)"
# Inputs fetched from the web rather than read from disk: a URL on the command line (a feed, a
# sitemap, a list of URLs or a page) and a local .txt file of page URLs.
WEB_FORMATS = frozenset({"url", "url_list"})
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass
class RawRecord:
    """One input record before parsing. ``kind`` says how ``payload`` is read: ``record`` (a JSON
    object's text), ``html``, ``text``, or ``invalid`` (the reader failed; ``error`` says why).
    A page fetched from the web also carries what the fetch said (``final_url`` after redirects,
    ``http_status``, ``fetched_at``, its validators) and the date its feed or sitemap gave."""

    record_id: str
    input: str
    position: int
    kind: str
    payload: str = ""
    url: str | None = None
    error: str | None = None
    final_url: str | None = None
    http_status: int | None = None
    fetched_at: dt.datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    listed_date: str | None = None


@dataclass(frozen=True)
class InputUnit:
    """One file or folder named on the command line. ``label`` is the path as given (normalised);
    it prefixes record ids, so a rerun with the same arguments produces the same ids."""

    path: Path
    label: str
    format: str


def detect_format(path: Path) -> str:
    if path.is_dir():
        return "directory"
    name = path.name.lower()
    for suffix, fmt in (
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".csv", "csv"),
        (".parquet", "parquet"),
        (".warc", "warc"),
        (".warc.gz", "warc"),
        (".txt", "url_list"),
    ):
        if name.endswith(suffix):
            return fmt
    raise ConfigError(
        f"cannot tell the format of {path}: expected .jsonl, .ndjson, .csv, .parquet, .warc, "
        ".warc.gz, a .txt list of page URLs, a folder of .html/.txt files, or an http(s) URL"
    )


def resolve_inputs(arguments: list[str]) -> list[InputUnit]:
    """Check every input exists and has a known format before any work starts."""
    units: list[InputUnit] = []
    seen: set[Path] = set()
    labels: set[str] = set()
    for argument in arguments:
        if _SCHEME.match(argument):
            from unspun.fetch.client import checked_url

            label = str(checked_url(argument))  # only http(s); refused otherwise
            if label in labels:
                raise ConfigError(f"input given twice: {argument}")
            labels.add(label)
            units.append(InputUnit(Path(), label, "url"))
            continue
        path = Path(argument)
        if not path.exists():
            raise InputNotFound(f"input not found: {argument}")
        resolved = path.resolve()
        if resolved in seen:
            raise ConfigError(f"input given twice: {argument}")
        seen.add(resolved)
        units.append(InputUnit(path, os.path.normpath(argument), detect_format(path)))
    if not units:
        raise ConfigError("no inputs given")
    return units


def iter_unit(
    unit: InputUnit,
    *,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    warc_stats: WarcStats | None = None,
) -> Iterator[RawRecord]:
    """All records of one input in order. Problems become ``invalid`` records, never exceptions:
    a bad record costs one error row, a broken file one error row where it broke."""
    reader = {
        "jsonl": _iter_jsonl,
        "csv": _iter_csv,
        "parquet": _iter_parquet,
        "directory": _iter_directory,
    }.get(unit.format)
    if unit.format == "warc":
        yield from _iter_warc(unit, max_record_bytes, warc_stats)
        return
    if unit.format == "directory" and warc_stats is not None:
        for _ in _skipped_files(unit):
            warc_stats.skip(SKIPPED_FILE)
    assert reader is not None
    position = 0
    try:
        for record in reader(unit, max_record_bytes):
            position = record.position
            yield record
    except (OSError, UnspunError) as exc:
        message = exc.message if isinstance(exc, UnspunError) else f"cannot read: {exc}"
        yield _invalid(unit, position + 1, f"{message}; the rest of {unit.label} was not read")


def _record_id(unit: InputUnit, position: int) -> str:
    return f"{unit.label}#{position}"


def _invalid(unit: InputUnit, position: int, error: str, url: str | None = None) -> RawRecord:
    return RawRecord(
        _record_id(unit, position), unit.label, position, "invalid", url=url, error=error
    )


def _iter_jsonl(unit: InputUnit, max_bytes: int) -> Iterator[RawRecord]:
    from unspun.jsonl import iter_lines

    # Lines are kept as text here; each is parsed as JSON when its row is built.
    for line in iter_lines(unit.path, max_line_bytes=max_bytes):
        number = line.number
        if line.too_long:
            yield _invalid(unit, number, f"line {number} is over {max_bytes} bytes")
            continue
        try:
            text = line.data.decode("utf-8")
        except UnicodeDecodeError:
            yield _invalid(unit, number, f"line {number} is not UTF-8 text")
            continue
        yield RawRecord(_record_id(unit, number), unit.label, number, "record", text.strip())


def _iter_csv(unit: InputUnit, max_bytes: int) -> Iterator[RawRecord]:
    csv.field_size_limit(max_bytes)
    with open(unit.path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        number = 0
        while True:
            number += 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield _invalid(unit, number, f"CSV row {number}: {exc}")
                continue
            except UnicodeDecodeError:
                raise MalformedInput(f"CSV row {number} is not UTF-8 text") from None
            row.pop(None, None)  # cells beyond the header have no name to file them under
            text = json.dumps(row, ensure_ascii=False)
            if len(text) > max_bytes:
                yield _invalid(unit, number, f"CSV row {number} is over {max_bytes} bytes")
                continue
            yield RawRecord(_record_id(unit, number), unit.label, number, "record", text)


def _iter_parquet(unit: InputUnit, max_bytes: int) -> Iterator[RawRecord]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(unit.path)
    except (pa.ArrowException, OSError) as exc:
        raise MalformedInput(f"not a readable Parquet file ({exc})") from None
    number = 0
    try:
        for batch in parquet.iter_batches(batch_size=256):
            for row in batch.to_pylist():
                number += 1
                text = json.dumps(row, ensure_ascii=False, default=str)
                if len(text) > max_bytes:
                    yield _invalid(unit, number, f"Parquet row {number} is over {max_bytes} bytes")
                    continue
                yield RawRecord(_record_id(unit, number), unit.label, number, "record", text)
    except pa.ArrowException as exc:
        raise MalformedInput(f"corrupt Parquet data after row {number} ({exc})") from None


def _skipped_files(unit: InputUnit) -> Iterator[Path]:
    """Files in a folder input that are not pages the scanner reads (counted, not read)."""
    return (
        p for p in unit.path.rglob("*") if p.is_file() and p.suffix.lower() not in PAGE_SUFFIXES
    )


def _iter_directory(unit: InputUnit, max_bytes: int) -> Iterator[RawRecord]:
    files = sorted(
        (p for p in unit.path.rglob("*") if p.is_file() and p.suffix.lower() in PAGE_SUFFIXES),
        key=lambda p: p.relative_to(unit.path).as_posix(),
    )
    for number, path in enumerate(files, start=1):
        relative = path.relative_to(unit.path).as_posix()
        record_id = f"{unit.label}/{relative}"
        kind = PAGE_SUFFIXES[path.suffix.lower()]
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise InputTooLarge(f"{relative} is {size} bytes, over the limit of {max_bytes}")
            text = decode_page(path.read_bytes(), None)
        except (OSError, UnspunError) as exc:
            error = exc.message if isinstance(exc, UnspunError) else f"cannot read: {exc}"
            yield RawRecord(record_id, unit.label, number, "invalid", error=error)
            continue
        yield RawRecord(record_id, unit.label, number, kind, text)


def _iter_warc(unit: InputUnit, max_bytes: int, stats: WarcStats | None) -> Iterator[RawRecord]:
    try:
        for item in iter_warc(unit.path, max_record_bytes=max_bytes, stats=stats):
            if isinstance(item, WarcProblem):
                error = item.error.message
                if item.fatal:
                    error = f"{error}; the rest of {unit.label} was not read"
                yield _invalid(unit, item.position, error, url=item.url)
                continue
            try:
                text = decode_page(item.body, item.charset)
            except UnspunError as exc:
                yield _invalid(unit, item.position, exc.message, url=item.url)
                continue
            yield RawRecord(
                _record_id(unit, item.position), unit.label, item.position, "html", text, item.url
            )
    except OSError as exc:
        yield _invalid(unit, 0, f"cannot read: {exc}")


def decode_page(data: bytes, charset: str | None) -> str:
    """Bytes of a page to text: the declared charset when it works, else detection."""
    if charset:
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    from unspun.article import decode_bytes

    text, _signals = decode_bytes(data)
    return text


def iter_inputs(
    units: list[InputUnit],
    *,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    warc_stats: WarcStats | None = None,
) -> Iterator[RawRecord]:
    for unit in units:
        yield from iter_unit(unit, max_record_bytes=max_record_bytes, warc_stats=warc_stats)


__all__ = [
    "InputUnit",
    "RawRecord",
    "detect_format",
    "iter_inputs",
    "iter_unit",
    "resolve_inputs",
]

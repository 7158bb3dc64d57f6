"""Reading trusted articles from files: JSONL/JSON, CSV, Parquet records, HTML pages, text files.

Files are streamed, one record at a time: ``count_sources`` reads a file through and validates it
(``index add`` runs it over every file before anything is written, so a file with a bad line adds
nothing), then ``iter_sources`` streams the same articles into the index.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

from unspun.errors import BinaryInput, EmptyInput, InputNotFound, MalformedInput
from unspun.jsonl import parse_json
from unspun.provenance.store import SourceDoc

RECORD_FIELDS = ("id", "text", "title", "url", "date", "site", "author")
MAX_FILE_BYTES = 2 * 1024**3
# Bytes read at once when checking that a file is UTF-8, and Parquet rows decoded at once.
_CHUNK_BYTES = 64 * 1024
_PARQUET_ROWS = 256


def iter_sources(path: Path) -> Iterator[SourceDoc]:
    """Each article in one file, streamed; an UnspunError naming the file (and line) at fault.

    JSONL and CSV files are read line by line and Parquet files in small row batches, so memory
    does not grow with the file. A ``.json`` array, an HTML page, a text file and a file that is
    not UTF-8 (decoded with charset detection) are read whole. The error for a bad record comes
    when the iteration reaches it: validate with ``count_sources`` before writing anything.
    """
    if not path.is_file():
        raise InputNotFound(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise MalformedInput(f"{path}: larger than 2 GiB; split it into smaller files")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        docs = _parquet(path)
    elif suffix in {".jsonl", ".ndjson"}:
        docs = _jsonl(path, _text_lines(path, newline="\n"))
    elif suffix == ".json":
        docs = _json(path, _read_text(path))
    elif suffix == ".csv":
        docs = _csv(path, _text_lines(path, newline=""))
    elif suffix in {".html", ".htm", ".xhtml"}:
        docs = iter([_html(path, _read_text(path))])
    else:
        docs = iter([_plain(path, _read_text(path))])
    empty = True
    for doc in docs:
        empty = False
        yield doc
    if empty:
        raise EmptyInput(f"{path}: no articles in this file")


def count_sources(path: Path) -> int:
    """Validate a whole file by streaming through it; the number of articles it holds."""
    return sum(1 for _ in iter_sources(path))


def read_sources(path: Path) -> list[SourceDoc]:
    """All articles in one file as a list (small files; ``iter_sources`` streams)."""
    return list(iter_sources(path))


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise BinaryInput(f"{path}: binary data, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _detect_and_decode(path, data)


def _detect_and_decode(path: Path, data: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise BinaryInput(f"{path}: not text in any encoding we recognise") from None
    return str(best)


def _text_lines(path: Path, *, newline: str) -> Iterator[str]:
    """The file's lines, decoded as it is read when it is UTF-8 (one line in memory at a time).

    The encoding is settled before the first line comes out, by a streaming UTF-8 check, so every
    line of a file is decoded the same way: a file that is not UTF-8 is read whole and decoded
    with charset detection, as before.
    """
    with path.open("rb") as raw:
        if b"\x00" in raw.read(8192):
            raise BinaryInput(f"{path}: binary data, not text")
        raw.seek(0)
        if not _is_utf8(raw):
            raw.seek(0)
            yield from io.StringIO(_detect_and_decode(path, raw.read()), newline=newline)
            return
        raw.seek(0)
        try:
            yield from io.TextIOWrapper(raw, encoding="utf-8-sig", newline=newline)
        except UnicodeDecodeError:
            # It was UTF-8 a moment ago: something rewrote the file while it was being read.
            raise MalformedInput(
                f"{path}: no longer valid UTF-8; it changed while being read"
            ) from None


def _is_utf8(raw: io.BufferedReader) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := raw.read(_CHUNK_BYTES):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def record_to_doc(record: object, where: str) -> SourceDoc:
    """A record dict -> SourceDoc; ``where`` ('file:line') goes into the error message."""
    if not isinstance(record, dict):
        raise MalformedInput(f"{where}: expected a JSON object with 'id' and 'text'")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise MalformedInput(f"{where}: missing or empty 'text'")
    if record.get("id") in (None, ""):
        raise MalformedInput(f"{where}: missing 'id'")
    fields = {}
    for name in ("title", "url", "date", "site", "author"):
        value = record.get(name)
        fields[name] = None if value is None or value == "" else str(value)
    return SourceDoc(id=str(record["id"]), text=text.strip(), **fields)


def _jsonl_lines(path: Path, lines: Iterator[str]) -> Iterator[tuple[int, SourceDoc]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = parse_json(line, f"{path}:{number}")
        yield number, record_to_doc(record, f"{path}:{number}")


def _jsonl(path: Path, lines: Iterator[str]) -> Iterator[SourceDoc]:
    for _, doc in _jsonl_lines(path, lines):
        yield doc


def _json(path: Path, text: str) -> Iterator[SourceDoc]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # A .json file holding JSON Lines is common; read it as such.
        if text.lstrip().startswith("{") and "\n" in text.strip():
            yield from _jsonl(path, io.StringIO(text))
            return
        raise MalformedInput(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    records = data if isinstance(data, list) else [data]
    for i, record in enumerate(records):
        yield record_to_doc(record, f"{path}[{i}]")


def _csv(path: Path, lines: Iterator[str]) -> Iterator[SourceDoc]:
    try:
        reader = csv.DictReader(lines)
        if not reader.fieldnames or "text" not in reader.fieldnames:
            raise MalformedInput(f"{path}: a CSV of articles needs a header with 'id' and 'text'")
        for number, row in enumerate(reader, start=2):
            yield record_to_doc(row, f"{path}:{number}")
    except csv.Error as exc:
        raise MalformedInput(f"{path}: invalid CSV ({exc})") from None


def _parquet(path: Path) -> Iterator[SourceDoc]:
    import pyarrow.parquet as pq

    def unreadable(exc: Exception) -> MalformedInput:
        return MalformedInput(f"{path}: not a readable Parquet file ({type(exc).__name__})")

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
        raise unreadable(exc) from None
    with parquet:
        columns = parquet.schema_arrow.names
        if "text" not in columns or "id" not in columns:
            raise MalformedInput(
                f"{path}: a Parquet file of articles needs 'id' and 'text' columns"
            )
        keep = [c for c in RECORD_FIELDS if c in columns]
        batches = parquet.iter_batches(batch_size=_PARQUET_ROWS, columns=keep)
        row = 0
        while True:
            # Only pyarrow's reading is guarded: a bad record keeps its own message.
            try:
                batch = next(batches, None)
                records = [] if batch is None else batch.to_pylist()
            except Exception as exc:  # noqa: BLE001 - a corrupt page surfaces mid-file
                raise unreadable(exc) from None
            if batch is None:
                return
            for record in records:
                yield record_to_doc(record, f"{path}[row {row}]")
                row += 1


def _html(path: Path, text: str) -> SourceDoc:
    try:
        from unspun.article import parse_html  # type: ignore[attr-defined]
    except ImportError:
        parse_html = None
    if parse_html is not None:
        article = parse_html(text, url=None) if _takes_url(parse_html) else parse_html(text)
        body = article.body
        meta = {"title": article.title, "url": article.url, "date": article.date,
                "site": article.site, "author": article.author}  # fmt: skip
    else:
        import trafilatura

        body = trafilatura.extract(text, include_comments=False) or ""
        found = trafilatura.extract_metadata(text)
        meta = {
            "title": getattr(found, "title", None),
            "url": getattr(found, "url", None),
            "date": getattr(found, "date", None),
            "site": getattr(found, "sitename", None),
            "author": getattr(found, "author", None),
        }
    if not body.strip():
        raise EmptyInput(f"{path}: no article text found in this HTML page")
    return SourceDoc(id=path.stem, text=body.strip(), **meta)


def _takes_url(function: object) -> bool:
    import inspect

    try:
        return "url" in inspect.signature(function).parameters  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _plain(path: Path, text: str) -> SourceDoc:
    """A text file: the first line is the headline when it is short and the body follows."""
    if not text.strip():
        raise EmptyInput(f"{path}: empty file")
    lines = text.strip().splitlines()
    title = None
    if len(lines) > 2 and len(lines[0].split()) <= 20 and not lines[0].rstrip().endswith("."):
        title, body = lines[0].strip(), "\n".join(lines[1:]).strip()
    else:
        body = text.strip()
    return SourceDoc(id=path.stem, text=body, title=title)

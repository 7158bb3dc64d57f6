"""Reading trusted articles from files: JSONL/JSON, CSV, Parquet records, HTML pages, text files.

Every file is read and validated completely before anything from it reaches the index, so a file
with a bad line adds nothing and leaves the index as it was.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

from unspun.errors import BinaryInput, EmptyInput, InputNotFound, MalformedInput
from unspun.provenance.store import SourceDoc

RECORD_FIELDS = ("id", "text", "title", "url", "date", "site", "author")
MAX_FILE_BYTES = 2 * 1024**3


def read_sources(path: Path) -> list[SourceDoc]:
    """All articles in one file, or an UnspunError naming the file (and line) at fault."""
    if not path.is_file():
        raise InputNotFound(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise MalformedInput(f"{path}: larger than 2 GiB; split it into smaller files")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return list(_parquet(path))
    text = _read_text(path)
    if suffix in {".jsonl", ".ndjson"}:
        docs = list(_jsonl(path, text))
    elif suffix == ".json":
        docs = list(_json(path, text))
    elif suffix == ".csv":
        docs = list(_csv(path, text))
    elif suffix in {".html", ".htm", ".xhtml"}:
        docs = [_html(path, text)]
    else:
        docs = [_plain(path, text)]
    if not docs:
        raise EmptyInput(f"{path}: no articles in this file")
    return docs


def read_article_records(path: Path) -> Iterator[tuple[int, SourceDoc]]:
    """(line number, article) for each line of a JSONL file of articles to trace."""
    text = _read_text(path)
    yield from _jsonl_lines(path, text)


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise BinaryInput(f"{path}: binary data, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise BinaryInput(f"{path}: not text in any encoding we recognise") from None
        return str(best)


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


def _jsonl_lines(path: Path, text: str) -> Iterator[tuple[int, SourceDoc]]:
    for number, line in enumerate(io.StringIO(text), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise MalformedInput(f"{path}:{number}: invalid JSON ({exc.msg})") from None
        yield number, record_to_doc(record, f"{path}:{number}")


def _jsonl(path: Path, text: str) -> Iterator[SourceDoc]:
    for _, doc in _jsonl_lines(path, text):
        yield doc


def _json(path: Path, text: str) -> Iterator[SourceDoc]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # A .json file holding JSON Lines is common; read it as such.
        if text.lstrip().startswith("{") and "\n" in text.strip():
            yield from _jsonl(path, text)
            return
        raise MalformedInput(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    records = data if isinstance(data, list) else [data]
    for i, record in enumerate(records):
        yield record_to_doc(record, f"{path}[{i}]")


def _csv(path: Path, text: str) -> Iterator[SourceDoc]:
    try:
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "text" not in reader.fieldnames:
            raise MalformedInput(f"{path}: a CSV of articles needs a header with 'id' and 'text'")
        for number, row in enumerate(reader, start=2):
            yield record_to_doc(row, f"{path}:{number}")
    except csv.Error as exc:
        raise MalformedInput(f"{path}: invalid CSV ({exc})") from None


def _parquet(path: Path) -> Iterator[SourceDoc]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=None)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
        raise MalformedInput(
            f"{path}: not a readable Parquet file ({type(exc).__name__})"
        ) from None
    if "text" not in table.column_names or "id" not in table.column_names:
        raise MalformedInput(f"{path}: a Parquet file of articles needs 'id' and 'text' columns")
    keep = [c for c in RECORD_FIELDS if c in table.column_names]
    for i, row in enumerate(table.select(keep).to_pylist()):
        yield record_to_doc(row, f"{path}[row {i}]")


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

"""Reading articles from files, stdin and uploads safely: bounded size, encoding detection, binary
refusal, and the choice between the text, HTML and record parsers."""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
import sys
from pathlib import Path

from unspun.article.model import Article, Signal
from unspun.article.signals import encoding_guessed
from unspun.errors import (
    BinaryInput,
    ConfigError,
    EmptyInput,
    InputNotFound,
    InputTooLarge,
    MalformedInput,
)

DEFAULT_MAX_BYTES = 10_000_000
KINDS = ("auto", "text", "html", "json")
_HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml"}
_JSON_SUFFIXES = {".json"}
# File types people drop in by mistake, named in the error so the fix is obvious.
_MAGIC = [
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or a Word/OpenDocument file)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office file"),
    (b"SQLite format 3", "a SQLite database"),
    (b"PAR1", "a Parquet file"),
]
_HTML_SNIFF = re.compile(
    r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title"
    r"|article|main)\b",
    re.IGNORECASE | re.DOTALL,
)
_HTML_TAGS = re.compile(r"</(?:p|div|article|span|h[1-6]|li|a)>", re.IGNORECASE)


def decode_bytes(data: bytes) -> tuple[str, list[Signal]]:
    """Decode file bytes to text: UTF-8 (with or without BOM), UTF-16/32 with BOM, else a checked
    guess (with an ``encoding_guessed`` signal). Binary data raises BinaryInput."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise BinaryInput(
                    f"the input starts with a {encoding.upper()} byte-order mark but is not valid "
                    f"{encoding.upper()} (bad bytes at offset {exc.start + len(bom)})"
                ) from None
            _refuse_control_characters(text)
            return text, []
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise BinaryInput(f"the input looks like {kind}, not text; save the article as text")
    if b"\x00" in data:
        text = _utf16_without_bom(data)
        if text is not None:
            return text, [encoding_guessed("UTF-16")]
        raise BinaryInput("the input is binary data (it contains NUL bytes), not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        _refuse_control_characters(text)
        return text, []
    text, encoding = _guess(data)
    return text, [encoding_guessed(encoding)]


def read_article(
    path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, kind: str = "auto"
) -> Article:
    """Read and parse one article from a file, or from stdin when ``path`` is "-".

    At most ``max_bytes`` are ever read: larger files are refused from their size before reading,
    and stdin is read up to one byte past the limit."""
    _check_kind(kind)
    if str(path) == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise InputTooLarge(
                f"standard input is over the {_size(max_bytes)} limit; raise it with --max-bytes"
            )
        return read_article_bytes(data, name="standard input", kind=kind)
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputNotFound(f"no such file: {path}") from None
    except NotADirectoryError:
        raise InputNotFound(f"no such file: {path} (a parent is not a directory)") from None
    except PermissionError:
        raise InputNotFound(f"cannot read {path}: permission denied") from None
    except OSError as exc:
        raise InputNotFound(f"cannot read {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputNotFound(f"{path} is a directory, not a file (use 'unspun scan' for folders)")
    if info.st_size > max_bytes:
        raise InputTooLarge(
            f"{path} is {_size(info.st_size)}, over the {_size(max_bytes)} limit; "
            "raise it with --max-bytes if this really is one article"
        )
    try:
        with open(path, "rb") as handle:
            # Bounded even when stat lies (pipes, /proc files, a file growing while we read).
            data = handle.read(max_bytes + 1)
    except PermissionError:
        raise InputNotFound(f"cannot read {path}: permission denied") from None
    except IsADirectoryError:
        raise InputNotFound(f"{path} is a directory, not a file") from None
    except OSError as exc:
        raise InputNotFound(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise InputTooLarge(
            f"{path} is over the {_size(max_bytes)} limit; raise it with --max-bytes"
        )
    return read_article_bytes(data, name=str(path), kind=kind)


def read_article_bytes(
    data: bytes,
    *,
    name: str | None = None,
    kind: str = "auto",
    max_bytes: int | None = None,
) -> Article:
    """Parse an article from bytes (an upload, stdin). ``name`` (a file name) names the input in
    messages and, with kind "auto", its extension picks the parser."""
    _check_kind(kind)
    label = name or "the input"
    if max_bytes is not None and len(data) > max_bytes:
        raise InputTooLarge(f"{label} is {_size(len(data))}, over the {_size(max_bytes)} limit")
    if not data:
        raise EmptyInput(f"{label} is empty")
    try:
        text, signals = decode_bytes(data)
    except BinaryInput as exc:
        raise BinaryInput(f"{label}: {exc.message}") from None
    if not text.strip():
        raise EmptyInput(f"{label} contains only whitespace")
    chosen = kind if kind != "auto" else _sniff(text, name)
    try:
        article = _parse(text, chosen, label, name)
    except EmptyInput as exc:
        raise EmptyInput(f"{label}: {exc.message}") from None
    article.signals = [*signals, *article.signals]
    return article


def _parse(text: str, kind: str, label: str, name: str | None) -> Article:
    if kind == "html":
        from unspun.article.html import parse_html

        url = name if name and re.match(r"https?://", name) else None
        return parse_html(text, url=url)
    if kind == "json":
        from unspun.article.record import parse_record

        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            hint = ""
            if exc.msg == "Extra data":
                hint = " (several records? use 'unspun scan' for JSONL)"
            raise MalformedInput(
                f"{label}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{hint}"
            ) from None
        except RecursionError:
            raise MalformedInput(f"{label}: JSON nested too deeply") from None
        return parse_record(record, where=label)
    from unspun.article.text import parse_text

    return parse_text(text)


def _sniff(text: str, name: str | None) -> str:
    suffix = os.path.splitext(name or "")[1].lower()
    if suffix in _HTML_SUFFIXES:
        return "html"
    if suffix in _JSON_SUFFIXES:
        return "json"
    head = text[:4096]
    if _HTML_SNIFF.match(head) or len(_HTML_TAGS.findall(head)) >= 3:
        return "html"
    stripped = text.strip()
    if (
        stripped.startswith("{")
        and stripped.endswith("}")
        and re.search(r'"(?:text|html)"\s*:', stripped[:100_000])
    ):
        return "json"
    return "text"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ConfigError(f"unknown input kind {kind!r}; use one of: {', '.join(KINDS)}")


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    sample = text[:200_000]
    bad = sum(
        1
        for ch in sample
        if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or 0x7F <= ord(ch) < 0xA0 or ch == "\ufffd"
    )
    return bad / len(sample)


def _refuse_control_characters(text: str) -> None:
    if _control_ratio(text) > 0.01:
        raise BinaryInput("the input is full of control characters; it looks binary, not text")


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text saved without a byte-order mark: every other byte is NUL."""
    sample = data[:4096]
    even, odd = sample[0::2], sample[1::2]
    for zeros, encoding in ((odd, "utf-16-le"), (even, "utf-16-be")):
        if zeros and zeros.count(0) / len(zeros) > 0.9:
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            if _control_ratio(text) <= 0.01:
                return text
    return None


def _guess(data: bytes) -> tuple[str, str]:
    """Best-guess decoding of non-UTF-8 bytes, accepted only when the result reads as text."""
    from charset_normalizer import from_bytes

    # Western European text is the common case and short samples fool the statistical guess
    # (Latin-1 "Café" comes back as cp1250 "Café" but "naďve"), so try Windows-1252 first and
    # keep it when every non-ASCII character it yields is an accented letter or typographic mark.
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        western = None
    if western is not None and _plausible_western(western):
        return western, "cp1252"
    best = from_bytes(data[:2_000_000]).best()
    candidates = []
    if best is not None and best.encoding not in {"utf_8", "utf-8"}:
        candidates.append(best.encoding)
    candidates += ["cp1252", "latin_1"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if _control_ratio(text) <= 0.01 and _mostly_letters(text):
            return text, codecs.lookup(encoding).name
    raise BinaryInput("the input is not text in any encoding we can recognise")


_WESTERN = frozenset(
    [chr(c) for c in range(0xC0, 0x100) if c not in (0xD7, 0xF7)]
    + list("’‘“”–—…€«»°£§©®·¡¿ŒœŠšŽžŸ\xa0")
)


def _plausible_western(text: str) -> bool:
    sample = text[:200_000]
    foreign = [ch for ch in sample if ord(ch) > 127]
    letters = sum(1 for ch in sample if ch.isalpha()) or 1
    # Accents are sprinkled through Western text; Cyrillic or Greek read as cp1252 is all accents.
    return (
        bool(foreign)
        and len(foreign) / letters <= 0.3
        and sum(ch in _WESTERN for ch in foreign) / len(foreign) >= 0.95
    )


def _mostly_letters(text: str) -> bool:
    sample = text[:200_000]
    visible = [ch for ch in sample if not ch.isspace()]
    if not visible:
        return True
    wordish = sum(1 for ch in visible if ch.isalnum() or ch in ".,;:!?'\"()-–—’“”")
    return wordish / len(visible) >= 0.75


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"

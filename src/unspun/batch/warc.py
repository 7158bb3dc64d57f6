"""A small streaming WARC reader: plain or gzipped files, bounded memory, HTML pages out."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from unspun.errors import InputTooLarge, MalformedInput, UnspunError

# A gzip member that inflates past this is treated as a bomb and the rest of the file is refused;
# per-record members (the WARC convention) are far smaller.
MAX_MEMBER_BYTES = 1 << 30
MAX_HEADER_BYTES = 64 * 1024
_CHUNK = 64 * 1024
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass
class WarcRecord:
    """One WARC record that carries an HTML page (a response or resource), body already decoded
    from HTTP transfer/content encodings; ``charset`` is from the HTTP Content-Type if given."""

    position: int
    url: str | None
    body: bytes
    charset: str | None = None
    record_id: str | None = None


@dataclass
class WarcProblem:
    """A record that could not be read; ``fatal`` means the rest of the file was abandoned."""

    position: int
    error: UnspunError
    fatal: bool = False
    url: str | None = None


@dataclass
class WarcStats:
    """What the readers saw besides articles: WARC records and files in a folder input skipped
    because they carry no article (counted by reason)."""

    records: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


class _Inflating:
    """A read()/readline() view of a multi-member gzip file that inflates lazily, member by member,
    so memory stays at one chunk no matter how large the file is."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._inflater = zlib.decompressobj(wbits=31)
        self._buffer = bytearray()
        self._member_bytes = 0
        self._started = False
        self._eof = False

    def _fill(self, wanted: int) -> None:
        while len(self._buffer) < wanted and not self._eof:
            if self._inflater.eof:
                rest = self._inflater.unused_data
                self._inflater = zlib.decompressobj(wbits=31)
                self._member_bytes = 0
                self._started = False
                if rest:
                    self._feed(rest)
                    continue
            chunk = self._raw.read(_CHUNK)
            if not chunk:
                if self._started and not self._inflater.eof:
                    raise MalformedInput("truncated gzip data at the end of the file")
                self._eof = True
                return
            self._feed(chunk)

    def _feed(self, data: bytes) -> None:
        self._started = True
        try:
            out = self._inflater.decompress(data, _CHUNK)
            while self._inflater.unconsumed_tail:
                self._add(out)
                out = self._inflater.decompress(self._inflater.unconsumed_tail, _CHUNK)
        except zlib.error as exc:
            raise MalformedInput(f"corrupt gzip data ({exc})") from None
        self._add(out)

    def _add(self, out: bytes) -> None:
        self._member_bytes += len(out)
        if self._member_bytes > MAX_MEMBER_BYTES:
            raise InputTooLarge(
                f"a gzip member inflates past {MAX_MEMBER_BYTES} bytes (a gzip bomb?)"
            )
        self._buffer += out

    def read(self, size: int) -> bytes:
        self._fill(size)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def readline(self, limit: int) -> bytes:
        while True:
            end = self._buffer.find(b"\n", 0, limit)
            if end >= 0:
                return self.read(end + 1)
            if len(self._buffer) >= limit or self._eof:
                return self.read(limit)
            self._fill(len(self._buffer) + _CHUNK)


class _Plain:
    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw

    def read(self, size: int) -> bytes:
        return self._raw.read(size)

    def readline(self, limit: int) -> bytes:
        return self._raw.readline(limit)


def _skip(stream: _Inflating | _Plain, size: int, position: int) -> None:
    while size > 0:
        data = stream.read(min(size, _CHUNK))
        if not data:
            raise MalformedInput(f"the file ends inside record {position}")
        size -= len(data)


def _read_headers(stream: _Inflating | _Plain) -> dict[str, str]:
    headers: dict[str, str] = {}
    used = 0
    while True:
        line = stream.readline(MAX_HEADER_BYTES)
        used += len(line)
        if used > MAX_HEADER_BYTES:
            raise MalformedInput("record headers longer than 64 KiB")
        if not line:
            raise MalformedInput("the file ends inside record headers")
        text = line.decode("latin-1").rstrip("\r\n")
        if not text:
            return headers
        name, sep, value = text.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()


def iter_warc(
    path: Path, *, max_record_bytes: int, stats: WarcStats | None = None
) -> Iterator[WarcRecord | WarcProblem]:
    """Yield HTML pages (and problems) from a WARC file in file order; ``position`` counts every
    WARC record from 1 so ids stay stable whatever is skipped."""
    stats = stats if stats is not None else WarcStats()
    with open(path, "rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        stream: _Inflating | _Plain = _Inflating(raw) if magic == b"\x1f\x8b" else _Plain(raw)
        position = 0
        while True:
            try:
                line = stream.readline(MAX_HEADER_BYTES)
                while line in (b"\r\n", b"\n"):
                    line = stream.readline(MAX_HEADER_BYTES)
                if not line:
                    return
                position += 1
                stats.records += 1
                if not line.startswith(b"WARC/"):
                    raise MalformedInput(f"record {position} does not start with a WARC/ line")
                headers = _read_headers(stream)
                try:
                    length = int(headers.get("content-length", ""))
                except ValueError:
                    raise MalformedInput(f"record {position} has no valid Content-Length") from None
                if length < 0:
                    raise MalformedInput(f"record {position} has a negative Content-Length")
            except UnspunError as exc:
                # Without a trustworthy header there is no way to find the next record.
                yield WarcProblem(position or 1, exc, fatal=True)
                return
            kind = headers.get("warc-type", "").lower()
            url = headers.get("warc-target-uri") or None
            content_type = headers.get("content-type", "").lower()
            is_http = kind == "response" and "application/http" in content_type
            is_page = kind == "resource" and any(t in content_type for t in _HTML_TYPES)
            try:
                if not (is_http or is_page):
                    stats.skip(f"{kind or 'untyped'} record")
                    _skip(stream, length, position)
                    continue
                if length > max_record_bytes:
                    _skip(stream, length, position)
                    yield WarcProblem(
                        position,
                        InputTooLarge(
                            f"WARC record of {length} bytes is over the limit of "
                            f"{max_record_bytes} bytes"
                        ),
                        url=url,
                    )
                    continue
                block = stream.read(length)
                if len(block) < length:
                    raise MalformedInput(f"the file ends inside record {position}")
            except UnspunError as exc:
                yield WarcProblem(position, exc, fatal=True, url=url)
                return
            if is_page:
                yield WarcRecord(
                    position, url, block, _charset(content_type), headers.get("warc-record-id")
                )
                continue
            try:
                page = _http_page(block, max_record_bytes)
            except UnspunError as exc:
                yield WarcProblem(position, exc, url=url)
                continue
            if page is None:
                stats.skip("non-HTML response")
                continue
            body, charset = page
            yield WarcRecord(position, url, body, charset, headers.get("warc-record-id"))


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def _http_page(block: bytes, max_bytes: int) -> tuple[bytes, str | None] | None:
    """The body of an HTTP response if it is an HTML page with status 2xx, else None."""
    head, sep, body = block.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = block.partition(b"\n\n")
    if not sep:
        raise MalformedInput("HTTP response without a blank line after its headers")
    lines = head.decode("latin-1").splitlines()
    status = lines[0].split() if lines else []
    if len(status) < 2 or not status[0].startswith("HTTP/"):
        raise MalformedInput("HTTP response without a status line")
    if not status[1].startswith("2"):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip().lower()
    content_type = headers.get("content-type", "")
    if not any(t in content_type for t in _HTML_TYPES):
        return None
    if "chunked" in headers.get("transfer-encoding", ""):
        body = _dechunk(body)
    encoding = headers.get("content-encoding", "identity")
    if encoding in ("gzip", "x-gzip", "deflate"):
        body = _inflate(body, max_bytes, gzip_wrapped=encoding != "deflate")
    elif encoding not in ("identity", ""):
        raise MalformedInput(f"HTTP body in an unsupported content encoding {encoding!r}")
    return body, _charset(content_type)


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            raise MalformedInput("broken chunked transfer encoding")
        try:
            size = int(body[pos:end].split(b";")[0], 16)
        except ValueError:
            raise MalformedInput("broken chunked transfer encoding") from None
        if size < 0:  # int(..., 16) accepts "-1"; a negative size would loop forever
            raise MalformedInput("broken chunked transfer encoding")
        if size == 0:
            return bytes(out)
        out += body[end + 2 : end + 2 + size]
        pos = end + 2 + size + 2


def _inflate(body: bytes, max_bytes: int, *, gzip_wrapped: bool) -> bytes:
    inflater = zlib.decompressobj(wbits=31 if gzip_wrapped else 15)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        if gzip_wrapped:
            raise MalformedInput(f"corrupt gzip-encoded HTTP body ({exc})") from None
        try:  # servers often send raw deflate without the zlib header
            out = zlib.decompressobj(wbits=-15).decompress(body, max_bytes + 1)
        except zlib.error as exc2:
            raise MalformedInput(f"corrupt deflate-encoded HTTP body ({exc2})") from None
    if len(out) > max_bytes:
        raise InputTooLarge(f"HTTP body inflates past the limit of {max_bytes} bytes")
    return out


def write_warc_record(
    out: BinaryIO,
    *,
    url: str,
    payload: bytes,
    kind: str = "response",
    content_type: str = "text/html; charset=utf-8",
    status: str = "200 OK",
    compress: bool = False,
) -> None:
    """Append one record (an HTTP response around ``payload``); used by tests and benchmarks to
    build crawls, and handy for turning a folder of pages into a WARC."""
    if kind == "response":
        http = (
            f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        ).encode("latin-1")
        block = http + payload
        warc_type = "application/http; msgtype=response"
    else:
        block = payload
        warc_type = content_type
    head = (
        f"WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {url}\r\n"
        f"Content-Type: {warc_type}\r\nContent-Length: {len(block)}\r\n\r\n"
    ).encode("latin-1")
    record = head + block + b"\r\n\r\n"
    out.write(gzip.compress(record) if compress else record)

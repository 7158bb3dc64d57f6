"""Hostile input for every reader: arbitrary bytes and structures give a result or a clean
UnspunError, never another exception, a hang or unbounded memory. Gzip bombs and absurdly nested
HTML are bounded. Each property runs a modest number of examples: the file stays under a minute."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from unspun.article import (
    Article,
    decode_bytes,
    parse_html,
    parse_record,
    parse_text,
    read_article_bytes,
)
from unspun.errors import InputTooLarge, UnspunError
from unspun.normalize import normalize
from unspun.pipeline import CheckConfig, Checker

# UNSPUN_FUZZ_EXAMPLES raises the count for a long campaign (the README quotes one).
EXAMPLES = int(os.environ.get("UNSPUN_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # wall time is bounded by `bounded()` instead: CI machines are shared
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
HANG_SECONDS = 20


@contextlib.contextmanager
def bounded(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Fail (instead of hanging the suite) when the block runs longer than ``seconds``."""

    def expired(signum, frame):  # noqa: ARG001
        raise TimeoutError(f"input took over {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def result_or_clean_error(call, *args, **kwargs):
    """Run ``call``; an UnspunError with a message is fine, anything else fails. (Messages may
    quote input such as field names; the CLI, API and scanner fold them onto one line.)"""
    with bounded():
        try:
            return call(*args, **kwargs)
        except UnspunError as exc:
            assert " ".join(str(exc).split()), repr(exc)
            return None


# ---- strategies ---------------------------------------------------------------------------

SENTENCE = "The council said on Monday that the new bridge would open next spring. "
ENCODINGS = ["utf-8", "utf-16", "utf-16-le", "utf-32", "cp1252", "latin-1", "koi8-r", "shift_jis"]
text_bytes = st.one_of(
    st.binary(max_size=3000),
    st.builds(
        lambda text, encoding: text.encode(encoding, "replace"),
        st.text(max_size=800),
        st.sampled_from(ENCODINGS),
    ),
    st.builds(
        lambda prefix, text, suffix: prefix + text.encode() + suffix,
        st.sampled_from(
            [
                b"",
                b"\xef\xbb\xbf",
                b"\xff\xfe",
                b"\xfe\xff",
                b"\x00\x00\xfe\xff",
                b"%PDF-",
                b"\x1f\x8b",
            ]
        ),
        st.just(SENTENCE * 5),
        st.binary(max_size=50),
    ),
)
HTML_TOKENS = [
    "<html>", "</html>", "<head>", "<title>", "</title>", "<body>", "</body>", "<article>",
    "</article>", "<div>", "</div>", "<p>", "</p>", "<h1>", "</h1>", "<h2>", "</h2>", "<script>",
    "</script>", "<style>", "</style>", "<!--", "-->", "<![CDATA[", "]]>", "<meta charset=\"x\">",
    '<meta name="author" content="A. Writer">', "<br>", "<img src=x onerror=1>", "&amp;", "&#0;",
    "&#x110000;", "&nbsp;", "<", ">", "\"", "'", "=", "<!DOCTYPE html>", "<?xml version='1.0'?>",
    "<svg><foreignObject>", "<table><tr><td>", "<a href='javascript:x'>", SENTENCE,
]  # fmt: skip
html_soup = st.lists(
    st.one_of(st.sampled_from(HTML_TOKENS), st.text(max_size=30)), max_size=80
).map("".join)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    st.text(max_size=60),
    st.just(SENTENCE * 8),
    st.just("<html><body><p>" + SENTENCE * 6 + "</p></body></html>"),
    st.binary(max_size=40),
)
RECORD_KEYS = ["text", "html", "title", "subtitle", "author", "url", "date", "site", "id"]
json_like = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(RECORD_KEYS), st.text(max_size=6)), children, max_size=6
        ),
    ),
    max_leaves=15,
)
records = st.one_of(
    json_like,
    st.fixed_dictionaries({}, optional={key: json_like for key in RECORD_KEYS}),
)


# ---- article readers ----------------------------------------------------------------------


@FUZZ
@given(text_bytes)
def test_decode_bytes_gives_text_or_a_clean_error(data):
    result = result_or_clean_error(decode_bytes, data)
    if result is not None:
        text, signals = result
        assert isinstance(text, str)
        assert all(signal.message for signal in signals)


@FUZZ
@given(
    text_bytes,
    st.sampled_from(["auto", "text", "html", "json"]),
    st.sampled_from([None, "a.txt", "a.html", "a.json", "a"]),
)
def test_read_article_bytes_gives_an_article_or_a_clean_error(data, kind, name):
    article = result_or_clean_error(read_article_bytes, data, name=name, kind=kind, max_bytes=2000)
    if article is not None:
        assert isinstance(article, Article)
        assert article.body.strip()


@FUZZ
@given(
    st.one_of(
        st.text(max_size=2000),
        st.lists(
            st.sampled_from(
                ["\n", "\n\n", "By ", "Share this", SENTENCE, "Title", "\r", "\x00", "\u2028"]
            ),
            max_size=40,
        ).map("".join),
    )
)
def test_parse_text_then_check_gives_a_report_or_a_clean_error(plain_detector, text):
    article = result_or_clean_error(parse_text, text)
    if article is None:
        return
    checker = Checker(CheckConfig(detector="x", min_words=1), detector=plain_detector)
    with bounded():
        report = checker.check(article)
    data = json.loads(report.to_json())
    body = article.body
    for item in [*data["signals"], *data["passages"], *(data["tokens"] or [])]:
        if item.get("start") is not None:
            assert 0 <= item["start"] <= item["end"] <= len(body)


@FUZZ
@given(st.one_of(html_soup, st.text(max_size=500)))
def test_parse_html_gives_an_article_or_a_clean_error(html):
    article = result_or_clean_error(parse_html, html)
    if article is not None:
        assert article.body.strip()


@FUZZ
@given(records)
def test_parse_record_gives_an_article_or_a_clean_error(record):
    article = result_or_clean_error(parse_record, record, where="record 1")
    if article is not None:
        assert article.body.strip()


@FUZZ
@given(st.text(max_size=400))
def test_normalize_never_fails(text):
    with bounded():
        norm = normalize(text)
    assert len(norm.origin) == len(norm.text) + 1


# ---- labelled data and batch inputs -------------------------------------------------------

jsonl_lines = st.lists(
    st.one_of(
        records.map(lambda value: json.dumps(value, default=repr).encode()),
        st.builds(
            lambda text, label, extra: json.dumps(
                {"text": text, "label": label, **extra}, default=repr
            ).encode(),
            st.text(max_size=80),
            st.sampled_from(["human", "machine", "robot", None, 1]),
            st.dictionaries(
                st.sampled_from(["domain", "pair_id", "generator", "id"]), json_like, max_size=3
            ),
        ),
        st.binary(max_size=120),
    ),
    max_size=12,
).map(lambda lines: b"\n".join(line.replace(b"\n", b" ") for line in lines))


@FUZZ
@given(jsonl_lines)
def test_read_labelled_gives_records_or_a_clean_error(tmp_path_factory, data):
    from unspun.detect.data import read_labelled

    path = tmp_path_factory.mktemp("labelled") / "data.jsonl"
    path.write_bytes(data)
    result = result_or_clean_error(read_labelled, [path])
    if result is not None:
        assert all(item.label in ("human", "machine") and item.text.strip() for item in result)


def scan_file(path: Path, fmt: str, max_record_bytes: int = 5000) -> list:
    """Every record of one input, each parsed as the scanner would; returns the articles."""
    from unspun.batch.inputs import InputUnit, iter_unit
    from unspun.batch.rows import _to_article

    articles = []
    with bounded():
        raws = list(iter_unit(InputUnit(path, path.name, fmt), max_record_bytes=max_record_bytes))
    for raw in raws:
        assert raw.kind in {"record", "html", "text", "invalid"}
        if raw.kind == "invalid":
            assert raw.error and "\n" not in raw.error
        article = result_or_clean_error(_to_article, raw)
        if article is not None:
            articles.append(article)
    return articles


csv_cells = st.one_of(
    st.text(max_size=40),
    st.just(SENTENCE * 6),
    st.sampled_from(['"', '""', ",", "\n", "\r\n", "\x00", "\ufeff", "text", "html"]),
)
csv_files = st.one_of(
    st.lists(st.lists(csv_cells, max_size=5), max_size=8).map(
        lambda rows: "\n".join(",".join(row) for row in rows).encode("utf-8", "surrogatepass")
    ),
    st.builds(
        lambda header, rows: ("\n".join([header, *rows])).encode("utf-8", "surrogatepass"),
        st.sampled_from(["text", "text,title", "html,url", "id,text,date", '"text"', "title"]),
        st.lists(st.lists(csv_cells, max_size=4).map(",".join), max_size=6),
    ),
    st.binary(max_size=400),
)


@FUZZ
@given(jsonl_lines)
def test_scan_jsonl_never_crashes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("jsonl") / "feed.jsonl"
    path.write_bytes(data)
    scan_file(path, "jsonl")


@FUZZ
@given(csv_files)
def test_scan_csv_never_crashes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("csv") / "feed.csv"
    path.write_bytes(data)
    scan_file(path, "csv")


@settings(
    max_examples=max(15, EXAMPLES // 4), deadline=None, suppress_health_check=list(HealthCheck)
)
@given(st.binary(max_size=600), st.booleans())
def test_scan_parquet_of_garbage_is_a_clean_error(tmp_path_factory, data, magic):
    path = tmp_path_factory.mktemp("parquet") / "feed.parquet"
    path.write_bytes((b"PAR1" + data + b"PAR1") if magic else data)
    assert scan_file(path, "parquet") == []


@settings(
    max_examples=max(15, EXAMPLES // 4), deadline=None, suppress_health_check=list(HealthCheck)
)
@given(st.lists(st.tuples(st.sampled_from([".html", ".txt", ".htm"]), text_bytes), max_size=4))
def test_scan_directory_of_garbage_never_crashes(tmp_path_factory, files):
    folder = tmp_path_factory.mktemp("pages")
    for number, (suffix, data) in enumerate(files):
        (folder / f"page{number}{suffix}").write_bytes(data)
    scan_file(folder, "directory")


# WARC: structured records with wrong lengths, broken HTTP, chunking and encodings, whole-file
# gzip per record, and truncation at any point.


@st.composite
def warc_files(draw) -> bytes:
    out = []
    for _ in range(draw(st.integers(0, 4))):
        body = draw(
            st.one_of(
                html_soup.map(str.encode),
                st.just(f"<p>{SENTENCE * 5}</p>".encode()),
                st.binary(max_size=200),
            )
        )
        encoding = draw(st.sampled_from(["", "gzip", "deflate", "br", "gzip-corrupt"]))
        if encoding == "gzip":
            body = gzip.compress(body)
        elif encoding == "deflate":
            body = zlib.compress(body)
        elif encoding == "gzip-corrupt":
            body = gzip.compress(body)[: len(body) // 2] + b"junk"
            encoding = "gzip"
        chunked = draw(st.booleans())
        if chunked:
            size = draw(st.sampled_from([len(body), len(body) + 7, 0, -3]))
            body = f"{size:x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
        status = draw(
            st.sampled_from(["HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found", "HTTP/1.1", "junk", ""])
        )
        ctype = draw(
            st.sampled_from(
                [
                    "text/html; charset=utf-8",
                    "text/html; charset=bogus",
                    "text/plain",
                    "application/xhtml+xml",
                ]
            )
        )
        headers = [f"Content-Type: {ctype}"]
        if encoding:
            headers.append(f"Content-Encoding: {encoding}")
        if chunked:
            headers.append("Transfer-Encoding: chunked")
        http = ("\r\n".join([status, *headers]) + "\r\n\r\n").encode() + body
        kind = draw(st.sampled_from(["response", "resource", "request", "metadata", ""]))
        block = http if kind != "resource" else body
        wtype = "text/html" if kind == "resource" else "application/http; msgtype=response"
        length = draw(
            st.sampled_from([str(len(block)), str(len(block) + 5), "-1", "abc", "99999999999", ""])
        )
        header = (
            f"WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: http://example.com/{len(out)}\r\n"
            f"Content-Type: {wtype}\r\nContent-Length: {length}\r\n\r\n"
        ).encode()
        record = header + block + b"\r\n\r\n"
        out.append(gzip.compress(record) if draw(st.booleans()) else record)
    data = b"".join(out)
    if draw(st.booleans()) and data:
        data = data[: draw(st.integers(0, len(data)))]
    return data


@FUZZ
@given(st.one_of(warc_files(), st.binary(max_size=500)))
def test_scan_warc_never_crashes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("warc") / "crawl.warc"
    path.write_bytes(data)
    scan_file(path, "warc")


def test_a_valid_warc_still_yields_its_page(tmp_path):
    # The fuzzer's generator can produce valid files; make sure the happy path reads them.
    page = f"<html><head><title>Bridge</title></head><body><p>{SENTENCE * 6}</p></body></html>"
    page = page.encode()
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + page
    record = (
        (
            f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://example.com/a\r\n"
            "Content-Type: application/http; msgtype=response\r\n"
            f"Content-Length: {len(http)}\r\n\r\n"
        ).encode()
        + http
        + b"\r\n\r\n"
    )
    path = tmp_path / "crawl.warc.gz"
    path.write_bytes(gzip.compress(record))
    articles = scan_file(path, "warc", max_record_bytes=100_000)
    assert len(articles) == 1 and "bridge would open" in articles[0].body


def test_warc_negative_chunk_size_is_an_error_not_a_hang():
    from unspun.batch.warc import _dechunk

    with bounded(5), pytest.raises(UnspunError):
        _dechunk(b"-20\r\nabc\r\n")


# ---- API request models ---------------------------------------------------------------------


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=300), json_like.map(lambda v: json.dumps(v, default=repr).encode())
    )
)
def test_api_request_models_validate_or_reject_cleanly(body):
    from unspun.api.app import article_from_request
    from unspun.api.schemas import ArticleRequest, BatchRequest, TraceRequest

    for model in (ArticleRequest, BatchRequest, TraceRequest):
        try:
            request = model.model_validate_json(body)
        except ValidationError:
            continue
        if isinstance(request, BatchRequest):
            for item in request.articles:
                result_or_clean_error(article_from_request, item)
        else:
            result_or_clean_error(article_from_request, request)


# ---- bombs and absurd nesting -------------------------------------------------------------


def gzip_bomb(inflated: int, prefix: bytes = b"") -> bytes:
    """A gzip member of ``inflated`` bytes that is almost all zeros (about 1000:1)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(prefix)]
    zeros = bytes(1 << 20)
    for _ in range(inflated >> 20):
        parts.append(compressor.compress(zeros))
    parts.append(compressor.flush())
    return b"".join(parts)


@contextlib.contextmanager
def peak_memory() -> Iterator[list[int]]:
    tracemalloc.start()
    box: list[int] = []
    try:
        yield box
    finally:
        box.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


def test_gzip_bomb_warc_file_is_refused_with_bounded_memory(tmp_path, monkeypatch):
    from unspun.batch import warc

    # A smaller member limit than production keeps the test fast; the code path is the same.
    monkeypatch.setattr(warc, "MAX_MEMBER_BYTES", 64 << 20)
    header = b"WARC/1.0\r\nWARC-Type: metadata\r\nContent-Length: 4000000000\r\n\r\n"
    path = tmp_path / "bomb.warc.gz"
    path.write_bytes(gzip_bomb(200 << 20, prefix=header))
    assert path.stat().st_size < 1 << 20
    began = time.monotonic()
    with peak_memory() as peak:
        articles = scan_file(path, "warc")
    assert articles == []
    assert time.monotonic() - began < HANG_SECONDS
    assert peak[0] < 200 << 20, f"peak {peak[0] >> 20} MiB"


def test_gzip_bomb_http_body_fails_one_record_and_the_next_is_read(tmp_path):
    from unspun.batch.inputs import InputUnit, iter_unit

    bomb = gzip_bomb(64 << 20, prefix=b"<html><body><p>")
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\n" + bomb
    page = f"<html><body><p>{SENTENCE * 6}</p></body></html>".encode()
    good = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + page
    data = b""
    for number, block in enumerate([http, good]):
        data += (
            (
                f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://example.com/{number}\r\n"
                "Content-Type: application/http; msgtype=response\r\n"
                f"Content-Length: {len(block)}\r\n\r\n"
            ).encode()
            + block
            + b"\r\n\r\n"
        )
    path = tmp_path / "crawl.warc"
    path.write_bytes(data)
    with peak_memory() as peak, bounded():
        raws = list(iter_unit(InputUnit(path, "crawl.warc", "warc"), max_record_bytes=1_000_000))
    assert [raw.kind for raw in raws] == ["invalid", "html"]
    assert "limit" in raws[0].error
    assert peak[0] < 100 << 20, f"peak {peak[0] >> 20} MiB"


def test_gzip_upload_is_refused_not_inflated():
    bomb = gzip_bomb(16 << 20)
    with pytest.raises(UnspunError, match="gzip"):
        read_article_bytes(bomb, name="upload")


def test_oversized_input_is_refused_before_parsing():
    with pytest.raises(InputTooLarge):
        read_article_bytes(b"x" * 2001, max_bytes=2000)


@pytest.mark.parametrize(
    "html",
    [
        "<html><body>" + "<div>" * 100_000 + f"<p>{SENTENCE * 20}</p>" + "</div>" * 100_000,
        "<html><body>" + "<div>" * 100_000 + f"<p>{SENTENCE * 20}",
        "<p>" + "<b>" * 90_000 + SENTENCE * 20,
        "<html><body>" + "<table><tr><td>" * 30_000 + SENTENCE * 20,
        "<html><body><p>" + "<!--" * 100_000 + SENTENCE,
    ],
    ids=[
        "100k-nested-divs",
        "100k-unclosed-divs",
        "90k-nested-b",
        "30k-nested-tables",
        "100k-comments",
    ],
)
def test_absurdly_nested_html_is_bounded(html):
    began = time.monotonic()
    with peak_memory() as peak:
        result_or_clean_error(parse_html, html)
    assert time.monotonic() - began < HANG_SECONDS
    assert peak[0] < 500 << 20, f"peak {peak[0] >> 20} MiB"

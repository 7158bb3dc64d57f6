"""Reading articles from files, stdin and uploads: encodings, format choice, and every kind of
bad input giving one clear UnspunError (never a traceback, never an unbounded read)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import threading
from pathlib import Path

import pytest

from unspun.article import decode_bytes, read_article, read_article_bytes
from unspun.errors import (
    BinaryInput,
    ConfigError,
    EmptyInput,
    InputNotFound,
    InputTooLarge,
    MalformedInput,
    UnspunError,
)

ARTICLE = (
    "Harbour Road gets cycle lanes\n\nBy Jane Holloway\n\n"
    "The council approved protected cycle lanes on Tuesday. Work starts in May.\n\n"
    "Shop owners said they were worried about deliveries during the works.\n"
)


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


# --- decoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        ARTICLE.encode("utf-8"),
        b"\xef\xbb\xbf" + ARTICLE.encode("utf-8"),
        ARTICLE.encode("utf-16"),  # with a BOM
        b"\xfe\xff" + ARTICLE.encode("utf-16-be"),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "utf16be-bom"],
)
def test_unicode_encodings_decode_without_signals(data: bytes) -> None:
    text, signals = decode_bytes(data)
    assert text == ARTICLE
    assert signals == []


def test_latin1_is_guessed_with_a_signal(tmp_path: Path) -> None:
    text = "Café owners in Genève said the façade would reopen. " * 3
    data = text.encode("latin-1")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    decoded, signals = decode_bytes(data)
    assert decoded == text
    assert [s.id for s in signals] == ["encoding_guessed"]
    assert "cp1252" in signals[0].message and "not UTF-8" in signals[0].message
    article = read_article(write(tmp_path, "latin1.txt", data))
    assert article.body == text.strip()
    assert [s.id for s in article.signals] == ["encoding_guessed"]


def test_cyrillic_single_byte_encoding_is_not_mistaken_for_western() -> None:
    text = "Мэр города сказал, что мост будет закрыт ещё шесть недель."
    decoded, signals = decode_bytes(text.encode("cp1251"))
    assert decoded == text and signals[0].id == "encoding_guessed"


def test_utf16_without_bom_is_recognised() -> None:
    decoded, signals = decode_bytes(ARTICLE.encode("utf-16-le"))
    assert decoded == ARTICLE and signals[0].text == "UTF-16"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
        (b"some text\x00\x01\x02\x00\x00binary\x00" * 50, "NUL bytes"),
        (bytes(range(1, 32)) * 40, "control characters"),
    ],
    ids=["pdf", "png", "zip", "nul", "controls"],
)
def test_binary_input_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(BinaryInput, match=message):
        decode_bytes(data)


def test_random_bytes_are_refused() -> None:
    data = bytes((i * 7919 + 13) % 256 for i in range(5000))
    with pytest.raises(BinaryInput):
        decode_bytes(data)


# --- files ------------------------------------------------------------------------------------


def test_read_text_file(tmp_path: Path) -> None:
    article = read_article(write(tmp_path, "a.txt", ARTICLE))
    assert article.title == "Harbour Road gets cycle lanes"
    assert article.author == "Jane Holloway"
    assert len(article.paragraphs) == 2
    assert article.signals == []


def test_empty_and_whitespace_files(tmp_path: Path) -> None:
    with pytest.raises(EmptyInput, match="is empty"):
        read_article(write(tmp_path, "empty.txt", b""))
    with pytest.raises(EmptyInput, match="only whitespace"):
        read_article(write(tmp_path, "blank.txt", " \n\r\n\t  \n"))
    with pytest.raises(EmptyInput, match="only whitespace"):
        read_article(write(tmp_path, "blank16.txt", "  \n \n".encode("utf-16")))
    with pytest.raises(EmptyInput, match="no article text left"):
        read_article(
            write(tmp_path, "chrome.txt", "Author: Dana\n\nShare this:\n\nLeave a Comment")
        )


def test_missing_path_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputNotFound, match="no such file"):
        read_article(tmp_path / "nope.txt")
    with pytest.raises(InputNotFound, match="no such file"):
        read_article(write(tmp_path, "file.txt", ARTICLE) / "child.txt")
    with pytest.raises(InputNotFound, match="is a directory"):
        read_article(tmp_path)


def test_huge_file_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with open(path, "wb") as handle:
        handle.truncate(100_000_000)  # sparse: costs no disk and must never be read
    with pytest.raises(InputTooLarge) as caught:
        read_article(path)
    message = str(caught.value)
    assert "100.0 MB" in message and "10.0 MB" in message and "--max-bytes" in message
    with pytest.raises(InputTooLarge, match="1.0 kB"):
        read_article(write(tmp_path, "small.txt", ARTICLE * 10), max_bytes=1000)
    assert read_article(write(tmp_path, "fits.txt", ARTICLE), max_bytes=1000).paragraphs


def test_html_by_extension_and_by_content(tmp_path: Path) -> None:
    page = (
        "<!DOCTYPE html><html><head><title>Lanes approved</title></head><body><article>"
        "<h1>Lanes approved</h1><p>The council approved protected cycle lanes on Tuesday after "
        "a long debate.</p><p>Work starts in May and will take about ten weeks.</p>"
        "</article></body></html>"
    )
    by_name = read_article(write(tmp_path, "page.htm", page))
    by_content = read_article(write(tmp_path, "page.txt", page))
    assert (
        by_name.paragraphs
        == by_content.paragraphs
        == [
            "The council approved protected cycle lanes on Tuesday after a long debate.",
            "Work starts in May and will take about ten weeks.",
        ]
    )
    assert by_name.title == "Lanes approved"
    as_text = read_article(write(tmp_path, "page2.html", page), kind="text")
    assert "<p>" in as_text.body  # the user asked for text: no HTML parsing


def test_json_record_file(tmp_path: Path) -> None:
    record = {
        "text": "The council approved the lanes. Work starts in May.",
        "title": "Lanes",
        "author": "Jane Holloway",
        "date": "2026-03-03",
    }
    article = read_article(write(tmp_path, "a.json", json.dumps(record)))
    assert (article.title, article.author, article.date) == ("Lanes", "Jane Holloway", "2026-03-03")
    sniffed = read_article_bytes(json.dumps(record).encode(), name="upload")
    assert sniffed.title == "Lanes"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "unterminated', "invalid JSON at line 1 column"),
        ('{"text": "a"}\n{"text": "b"}\n', "Extra data.*unspun scan"),
        ('["just", "a", "list"]', "must be an object"),
        ('{"title": "no text"}', "no 'text'"),
        ('{"text": 12}', "'text' must be a string"),
        ("[" * 100_000 + "]" * 100_000, "JSON"),
    ],
    ids=["truncated", "jsonl", "list", "no-text", "text-not-string", "deep"],
)
def test_malformed_json_records(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(MalformedInput, match=message) as caught:
        read_article(write(tmp_path, "bad.json", content))
    assert "bad.json" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_stdin_is_read_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    class Stdin:
        def __init__(self, data: bytes) -> None:
            self.buffer = io.BytesIO(data)

    monkeypatch.setattr(sys, "stdin", Stdin(ARTICLE.encode()))
    assert read_article("-").author == "Jane Holloway"
    monkeypatch.setattr(sys, "stdin", Stdin(b"x" * 5000))
    with pytest.raises(InputTooLarge, match="standard input"):
        read_article("-", max_bytes=1000)
    assert sys.stdin.buffer.tell() == 1001  # never read past the limit


def test_pipe_is_read_bounded(tmp_path: Path) -> None:
    # A FIFO has no size to stat, so the bounded read is what stops it.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def writer() -> None:
        with contextlib.suppress(BrokenPipeError), open(fifo, "wb") as handle:
            handle.write(b"word " * 100_000)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    with pytest.raises(InputTooLarge):
        read_article(fifo, max_bytes=100)
    thread.join(timeout=10)


def test_upload_bytes_use_name_for_format_and_messages() -> None:
    with pytest.raises(BinaryInput, match="^scan.pdf: the input looks like a PDF"):
        read_article_bytes(b"%PDF-1.4 ...", name="scan.pdf")
    with pytest.raises(InputTooLarge):
        read_article_bytes(b"x" * 2000, name="big.txt", max_bytes=1000)
    with pytest.raises(EmptyInput, match="^upload.txt is empty"):
        read_article_bytes(b"", name="upload.txt")


def test_unknown_kind() -> None:
    with pytest.raises(ConfigError, match="unknown input kind 'xml'"):
        read_article_bytes(ARTICLE.encode(), kind="xml")


def test_error_classes_have_distinct_exit_codes() -> None:
    classes = [InputNotFound, EmptyInput, BinaryInput, InputTooLarge, MalformedInput, ConfigError]
    codes = [cls.exit_code for cls in classes]
    assert len(set(codes)) == len(codes)
    assert all(issubclass(cls, UnspunError) for cls in classes)

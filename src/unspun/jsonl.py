"""JSON Lines, read the same way by every command: a UTF-8 BOM at the start of the file is accepted,
blank lines are skipped (but counted, so line numbers match an editor's), and a malformed line is
reported in one line with its number."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unspun.errors import InputNotFound, MalformedInput

# Oversized lines are skipped in pieces of this size, never held whole.
_DRAIN_BYTES = 64 * 1024


@dataclass(frozen=True)
class Line:
    """One non-blank line: its 1-based ``number`` and its raw bytes (BOM and line end removed).
    ``too_long``: the line was over the caller's limit and skipped unread (``data`` is empty)."""

    number: int
    data: bytes
    too_long: bool = False


def iter_lines(path: str | Path, *, max_line_bytes: int | None = None) -> Iterator[Line]:
    """The non-blank lines of ``path`` in order, streamed one at a time.

    Decoding is left to the caller (``parse_line``, or its own decoder), so one bad byte only
    spoils its own line. Only a file that cannot be opened raises (``InputNotFound``).
    """
    path = Path(path)
    if not path.exists():
        raise InputNotFound(f"{path}: no such file")
    if path.is_dir():
        raise InputNotFound(f"{path}: is a directory, expected a JSONL file")
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputNotFound(f"{path}: cannot open ({exc.strerror or exc})") from None
    limit = -1 if max_line_bytes is None else max_line_bytes + 1
    with handle:
        number = 0
        while raw := handle.readline(limit):
            number += 1
            if max_line_bytes is not None and len(raw) > max_line_bytes and raw[-1:] != b"\n":
                while rest := handle.readline(_DRAIN_BYTES):
                    if rest.endswith(b"\n"):
                        break
                yield Line(number, b"", too_long=True)
                continue
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            data = raw.strip()
            if data:
                yield Line(number, data)


def parse_line(line: Line, where: str) -> Any:
    """The JSON value of one line; ``MalformedInput`` '``where``: ...' when it is not UTF-8 text
    or not valid JSON."""
    try:
        text = line.data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedInput(f"{where}: not UTF-8 text") from None
    return parse_json(text, where)


def parse_json(text: str, where: str) -> Any:
    """The JSON value of one decoded line, or ``MalformedInput`` '``where``: invalid JSON (...)'."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedInput(f"{where}: invalid JSON ({exc.msg})") from None
    except RecursionError:
        raise MalformedInput(f"{where}: JSON nested too deeply") from None


def read_objects(path: str | Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each line's JSON object with where it came from ('file:line'), for callers that stop at
    the first bad line: ``MalformedInput`` names the file and line."""
    for line in iter_lines(path):
        where = f"{path}:{line.number}"
        value = parse_line(line, where)
        if not isinstance(value, dict):
            raise MalformedInput(f"{where}: expected a JSON object, got {type(value).__name__}")
        yield where, value

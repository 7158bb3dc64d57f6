"""Labelled texts for training and evaluation: JSONL with ``text``, ``label`` and optional
``domain``, ``generator``, ``pair_id``, ``id``; malformed lines are reported by line number."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from unspun.errors import EmptyInput, InputNotFound, MalformedInput

LABELS = ("human", "machine")


@dataclass(frozen=True)
class LabelledText:
    text: str
    label: str  # "human" | "machine"
    domain: str = "unknown"
    generator: str = "unknown"
    pair_id: str | None = None
    id: str | None = None

    @property
    def is_machine(self) -> bool:
        return self.label == "machine"


def read_labelled(paths: Iterable[str | Path]) -> list[LabelledText]:
    """Read JSONL files; raise MalformedInput naming the file and line of the first bad line."""
    records: list[LabelledText] = []
    for raw_path in paths:
        path = Path(raw_path)
        if not path.exists():
            raise InputNotFound(f"{path}: no such file")
        if path.is_dir():
            raise InputNotFound(f"{path}: is a directory, expected a JSONL file")
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise InputNotFound(f"{path}: cannot open ({exc.strerror})") from None
        with handle:
            # Decoded line by line so a bad byte is reported on its own line (a text-mode reader
            # decodes in chunks and fails before the first line is even numbered).
            for number, raw_line in enumerate(handle, start=1):
                try:
                    line = raw_line.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError:
                    raise MalformedInput(f"{path}:{number}: not UTF-8 text") from None
                if line.strip():
                    records.append(_parse_line(line, path, number))
    if not records:
        raise EmptyInput("no labelled records found in " + ", ".join(str(p) for p in paths))
    return records


def _parse_line(line: str, path: Path, number: int) -> LabelledText:
    where = f"{path}:{number}"
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise MalformedInput(f"{where}: invalid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise MalformedInput(f"{where}: expected a JSON object, got {type(data).__name__}")
    text, label = data.get("text"), data.get("label")
    if not isinstance(text, str) or not text.strip():
        raise MalformedInput(f"{where}: missing or empty 'text'")
    if label not in LABELS:
        raise MalformedInput(f"{where}: 'label' must be 'human' or 'machine', got {label!r}")

    def optional(key: str, default: str | None) -> str | None:
        value = data.get(key, default)
        return default if value is None else str(value)

    return LabelledText(
        text=text,
        label=label,
        domain=optional("domain", "unknown") or "unknown",
        generator=optional("generator", "human" if label == "human" else "unknown") or "unknown",
        pair_id=optional("pair_id", None),
        id=optional("id", None),
    )

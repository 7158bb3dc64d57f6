"""Labelled texts for training and evaluation: JSONL with ``text``, ``label`` and optional
``domain``, ``generator``, ``pair_id``, ``id``; malformed lines are reported by line number."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unspun.errors import EmptyInput, MalformedInput
from unspun.jsonl import read_objects

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
    paths = list(paths)
    records = [_labelled(data, where) for path in paths for where, data in read_objects(path)]
    if not records:
        raise EmptyInput("no labelled records found in " + ", ".join(str(p) for p in paths))
    return records


def pair_key(record: LabelledText) -> str:
    """What keeps a human text and its machine counterpart on the same side of a split."""
    return record.pair_id or record.id or hashlib.sha1(record.text.encode()).hexdigest()


def _labelled(data: dict[str, Any], where: str) -> LabelledText:
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

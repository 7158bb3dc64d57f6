"""What every index backend stores and answers: the shared types and the backend protocol.

Two backends implement it: SQLite + FTS5 in a directory (the embedded default, sqlite.py) and
PostgreSQL (+ pgvector when the extension is available, postgres.py) for large archives;
``store.open_store`` picks one by location.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

# 2: the stored embedding mixes the article's opening with its lead (fingerprint.search_vectors).
SCHEMA_VERSION = 2
OLD_INDEX = "index {} was built by an older unspun; rebuild it with unspun index add"


@dataclass
class SourceDoc:
    """One trusted article as given to the index (before features are computed)."""

    id: str
    text: str
    title: str | None = None
    url: str | None = None
    date: str | None = None
    site: str | None = None
    author: str | None = None


@dataclass
class PreparedDoc:
    """A SourceDoc with everything the index stores for fast tracing."""

    doc: SourceDoc
    content_hash: str
    embedding: np.ndarray  # float32, unit length
    minhash: np.ndarray  # uint64 hash values
    features: dict = field(default_factory=dict)  # entities, values, quotes (JSON-able)


@dataclass
class StoredDoc:
    """A document read back from the index, with the features tracing compares."""

    key: int  # the backend's row id
    doc: SourceDoc
    minhash: np.ndarray
    features: dict


class IndexStore(Protocol):
    """A backend. ``key`` is the backend's integer row id for a document."""

    location: str

    def known_hashes(self, hashes: list[str]) -> set[str]: ...

    def add(self, docs: list[PreparedDoc]) -> int: ...

    def count(self) -> int: ...

    def stats(self) -> dict: ...

    def text_search(self, terms: list[str], limit: int) -> list[tuple[int, float]]: ...

    def vector_search(self, vector: np.ndarray, limit: int) -> list[tuple[int, float]]: ...

    def fetch(self, keys: list[int]) -> list[StoredDoc]: ...

    def keys_for_ids(self, ids: list[str]) -> list[int]: ...

    def sentence_vectors(self, key: int) -> np.ndarray | None: ...

    def put_sentence_vectors(self, key: int, vectors: np.ndarray) -> None: ...

    def meta(self) -> dict: ...

    def set_meta(self, values: dict) -> None: ...

    def close(self) -> None: ...


def features_json(features: dict) -> str:
    return json.dumps(features, ensure_ascii=False, separators=(",", ":"))


def vector_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def vector_from_bytes(blob: bytes, dim: int | None = None) -> np.ndarray:
    vector = np.frombuffer(blob, dtype=np.float32)
    return vector.reshape(-1, dim) if dim else vector

"""The embedded index: one SQLite file in a directory, FTS5 for BM25, embeddings searched exactly.

Exact search keeps every document's vector in one float32 matrix in memory (10,000 articles are
15 MB) and answers a query with one matrix-vector product, which is faster than an approximate
index at this size and never misses a neighbour.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from unspun.errors import SourceIndexError
from unspun.provenance.backend import (
    OLD_INDEX,
    SCHEMA_VERSION,
    PreparedDoc,
    SourceDoc,
    StoredDoc,
    features_json,
    vector_bytes,
    vector_from_bytes,
)

F = TypeVar("F", bound=Callable[..., Any])


def _locked(method: F) -> F:
    """One connection is shared by the API's worker threads; SQLite wants one user at a time."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):  # noqa: ANN001, ANN202
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    key INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    content_hash TEXT NOT NULL UNIQUE,
    title TEXT, url TEXT, date TEXT, site TEXT, author TEXT,
    text TEXT NOT NULL,
    features TEXT NOT NULL,
    minhash BLOB NOT NULL,
    embedding BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_id ON docs(id);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    title, text, content='docs', content_rowid='key', tokenize='porter unicode61'
);
CREATE TABLE IF NOT EXISTS sentence_vectors (key INTEGER PRIMARY KEY, vectors BLOB NOT NULL);
"""


class SqliteStore:
    """SQLite + FTS5 backend living in ``directory/index.sqlite``."""

    def __init__(self, directory: Path) -> None:
        self.location = str(directory)
        self._lock = threading.RLock()
        try:
            directory.mkdir(parents=True, exist_ok=True)
            # timeout: wait for another process's write (a parallel `index add`) instead of failing.
            self._db = sqlite3.connect(
                directory / "index.sqlite", check_same_thread=False, timeout=30
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            version = self.meta().get("schema_version")
            if version is None:
                self.set_meta({"schema_version": SCHEMA_VERSION})
            elif int(version) < SCHEMA_VERSION:
                raise SourceIndexError(OLD_INDEX.format(directory))
            elif int(version) > SCHEMA_VERSION:
                raise SourceIndexError(
                    f"index {directory} was built by a newer unspun (schema {version}); "
                    "upgrade unspun to read it"
                )
        except sqlite3.DatabaseError as exc:
            raise SourceIndexError(f"cannot open index {directory}: {exc}") from None
        self._matrix: np.ndarray | None = None
        self._matrix_keys: np.ndarray | None = None

    # -- writing -------------------------------------------------------------------------------
    @_locked
    def known_hashes(self, hashes: list[str]) -> set[str]:
        known: set[str] = set()
        for i in range(0, len(hashes), 500):
            chunk = hashes[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT content_hash FROM docs WHERE content_hash IN ({marks})", chunk
            )
            known.update(row[0] for row in rows)
        return known

    @_locked
    def add(self, docs: list[PreparedDoc]) -> int:
        """Insert documents in one transaction; a content hash already present is skipped."""
        added = 0
        try:
            with self._db:
                for prepared in docs:
                    d = prepared.doc
                    cursor = self._db.execute(
                        "INSERT OR IGNORE INTO docs (id, content_hash, title, url, date, site, "
                        "author, text, features, minhash, embedding) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        (
                            d.id,
                            prepared.content_hash,
                            d.title,
                            d.url,
                            d.date,
                            d.site,
                            d.author,
                            d.text,
                            features_json(prepared.features),
                            np.asarray(prepared.minhash, dtype=np.uint64).tobytes(),
                            vector_bytes(prepared.embedding),
                        ),
                    )
                    if cursor.rowcount:
                        self._db.execute(
                            "INSERT INTO docs_fts (rowid, title, text) VALUES (?,?,?)",
                            (cursor.lastrowid, d.title or "", d.text),
                        )
                        added += 1
        except sqlite3.DatabaseError as exc:
            raise SourceIndexError(f"cannot write to index {self.location}: {exc}") from None
        self._matrix = None
        return added

    @_locked
    def put_sentence_vectors(self, key: int, vectors: np.ndarray) -> None:
        try:
            with self._db:
                self._db.execute(
                    "INSERT OR REPLACE INTO sentence_vectors (key, vectors) VALUES (?, ?)",
                    (key, vector_bytes(vectors)),
                )
        except sqlite3.DatabaseError:
            pass  # a cache: a read-only or busy index just recomputes them next time

    @_locked
    def set_meta(self, values: dict) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in values.items()],
            )

    # -- reading -------------------------------------------------------------------------------
    @_locked
    def meta(self) -> dict:
        return {k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM meta")}

    @_locked
    def count(self) -> int:
        return self._db.execute("SELECT count(*) FROM docs").fetchone()[0]

    @_locked
    def stats(self) -> dict:
        row = self._db.execute(
            "SELECT count(*), count(DISTINCT site), min(date), max(date), "
            "coalesce(sum(length(text)), 0) FROM docs"
        ).fetchone()
        cached = self._db.execute("SELECT count(*) FROM sentence_vectors").fetchone()[0]
        path = Path(self.location) / "index.sqlite"
        return {
            "backend": "sqlite",
            "location": self.location,
            "articles": row[0],
            "sites": row[1],
            "first_date": row[2],
            "last_date": row[3],
            "characters": row[4],
            "articles_with_sentence_vectors": cached,
            "size_bytes": path.stat().st_size if path.exists() else 0,
            "vector_search": "exact (numpy)",
            "text_search": "BM25 (SQLite FTS5)",
            **{k: v for k, v in self.meta().items() if k != "schema_version"},
        }

    @_locked
    def text_search(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        if not terms:
            return []
        # Each term quoted so FTS5 never reads user words as operators; OR keeps recall high.
        query = " OR ".join('"' + t.replace('"', "") + '"' for t in terms if t.strip())
        try:
            rows = self._db.execute(
                "SELECT rowid, -bm25(docs_fts, 2.0, 1.0) FROM docs_fts WHERE docs_fts MATCH ? "
                "ORDER BY bm25(docs_fts, 2.0, 1.0) LIMIT ?",
                (query, limit),
            ).fetchall()
        except sqlite3.OperationalError as exc:
            raise SourceIndexError(f"text search failed in {self.location}: {exc}") from None
        return [(int(k), float(s)) for k, s in rows]

    def _load_matrix(self) -> None:
        rows = self._db.execute("SELECT key, embedding FROM docs ORDER BY key").fetchall()
        if not rows:
            self._matrix = np.zeros((0, 1), dtype=np.float32)
            self._matrix_keys = np.zeros(0, dtype=np.int64)
            return
        self._matrix_keys = np.array([r[0] for r in rows], dtype=np.int64)
        self._matrix = np.vstack([vector_from_bytes(r[1]) for r in rows])

    @_locked
    def vector_search(self, vector: np.ndarray, limit: int) -> list[tuple[int, float]]:
        if self._matrix is None:
            self._load_matrix()
        assert self._matrix is not None and self._matrix_keys is not None
        if len(self._matrix_keys) == 0:
            return []
        sims = self._matrix @ np.asarray(vector, dtype=np.float32)
        limit = min(limit, len(sims))
        top = np.argpartition(-sims, limit - 1)[:limit]
        top = top[np.argsort(-sims[top])]
        return [(int(self._matrix_keys[i]), float(sims[i])) for i in top]

    @_locked
    def fetch(self, keys: list[int]) -> list[StoredDoc]:
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        rows = self._db.execute(
            "SELECT key, id, title, url, date, site, author, text, features, minhash "
            f"FROM docs WHERE key IN ({marks})",
            keys,
        ).fetchall()
        by_key = {
            r[0]: StoredDoc(
                key=r[0],
                doc=SourceDoc(
                    id=r[1], title=r[2], url=r[3], date=r[4], site=r[5], author=r[6], text=r[7]
                ),
                features=json.loads(r[8]),
                minhash=np.frombuffer(r[9], dtype=np.uint64),
            )
            for r in rows
        }
        return [by_key[k] for k in keys if k in by_key]

    def iter_prepared(self, batch: int = 1000):  # noqa: ANN201 - Iterator[list[PreparedDoc]]
        """Everything stored, as PreparedDoc batches: copies an index to another backend without
        embedding anything again."""
        last = 0
        while True:
            rows = self._db.execute(
                "SELECT key, id, title, url, date, site, author, text, features, minhash, "
                "embedding, "
                "content_hash FROM docs WHERE key > ? ORDER BY key LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [
                PreparedDoc(
                    doc=SourceDoc(
                        id=r[1], title=r[2], url=r[3], date=r[4], site=r[5], author=r[6], text=r[7]
                    ),
                    content_hash=r[11],
                    embedding=vector_from_bytes(r[10]),
                    minhash=np.frombuffer(r[9], dtype=np.uint64),
                    features=json.loads(r[8]),
                )
                for r in rows
            ]

    @_locked
    def keys_for_ids(self, ids: list[str]) -> list[int]:
        """Row keys of the articles with these ids (an id added twice with other text: both)."""
        marks = ",".join("?" * len(ids))
        return [r[0] for r in self._db.execute(f"SELECT key FROM docs WHERE id IN ({marks})", ids)]

    @_locked
    def sentence_vectors(self, key: int) -> np.ndarray | None:
        row = self._db.execute(
            "SELECT vectors FROM sentence_vectors WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else vector_from_bytes(row[0])

    @_locked
    def close(self) -> None:
        self._db.close()

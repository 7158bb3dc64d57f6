"""The server index: PostgreSQL full-text search plus pgvector (HNSW, cosine) for big archives.

Same behaviour as the SQLite index. PostgreSQL has no BM25; text candidates are ranked with
``ts_rank_cd`` over a weighted tsvector (title A, body B), then re-ranked by the same hybrid score.
When the ``vector`` extension cannot be created, embeddings are kept in ``bytea`` and searched
exactly in numpy (fine for tens of thousands of articles, not millions) and ``stats`` says so.
"""

from __future__ import annotations

import contextlib
import json

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

DIM = 384
PG_TEXT_TERMS = 24


class PostgresStore:
    """PostgreSQL backend; tables are prefixed ``unspun_`` so one database can hold other data."""

    def __init__(self, url: str, *, create: bool = False) -> None:
        try:
            import psycopg
        except ImportError:
            raise SourceIndexError(
                "the PostgreSQL index needs psycopg: pip install 'unspun[postgres]'"
            ) from None
        self.location = _redact(url)
        self._psycopg = psycopg
        try:
            self._db = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise SourceIndexError(
                f"cannot connect to {self.location}: {_first_line(exc)}"
            ) from None
        self.pgvector = self._try_pgvector()
        exists = self._scalar("SELECT to_regclass('unspun_docs') IS NOT NULL")
        if not exists and not create:
            raise SourceIndexError(
                f"no index in {self.location}; create one with: unspun index add FILES --index URL"
            )
        if not exists:
            self._create_schema()
        else:
            self._check_version()
        self._matrix: np.ndarray | None = None
        self._matrix_keys: np.ndarray | None = None
        self.pgvector = self.pgvector and self._column_type() == "vector"

    def _try_pgvector(self) -> bool:
        try:
            self._db.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except self._psycopg.Error:
            return False
        try:
            from pgvector.psycopg import register_vector
        except ImportError:
            return False
        try:
            register_vector(self._db)
        except self._psycopg.Error:
            return False  # the extension exists but its type is not on this search_path
        return True

    def _column_type(self) -> str:
        return self._scalar(
            "SELECT udt_name FROM information_schema.columns "
            "WHERE table_name = 'unspun_docs' AND column_name = 'embedding'"
        )

    def _create_schema(self) -> None:
        vector_type = f"vector({DIM})" if self.pgvector else "bytea"
        with self._db.transaction():
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS unspun_meta (key text PRIMARY KEY, value text)"
            )
            self._db.execute(
                f"""CREATE TABLE IF NOT EXISTS unspun_docs (
                    key bigserial PRIMARY KEY,
                    id text NOT NULL,
                    content_hash text NOT NULL UNIQUE,
                    title text, url text, date text, site text, author text,
                    text text NOT NULL,
                    features jsonb NOT NULL,
                    minhash bytea NOT NULL,
                    embedding {vector_type} NOT NULL,
                    tsv tsvector GENERATED ALWAYS AS (
                        setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
                        setweight(to_tsvector('english', text), 'B')) STORED
                )"""
            )
            self._db.execute(
                "CREATE INDEX IF NOT EXISTS unspun_docs_tsv ON unspun_docs USING gin (tsv)"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS unspun_docs_id ON unspun_docs (id)")
            if self.pgvector:
                self._db.execute(
                    "CREATE INDEX IF NOT EXISTS unspun_docs_embedding ON unspun_docs "
                    "USING hnsw (embedding vector_cosine_ops)"
                )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS unspun_sentence_vectors "
                "(key bigint PRIMARY KEY, vectors bytea NOT NULL)"
            )
        self.set_meta({"schema_version": SCHEMA_VERSION})

    def _check_version(self) -> None:
        version = self._scalar("SELECT value FROM unspun_meta WHERE key = 'schema_version'")
        version = int(json.loads(version)) if version is not None else 1
        if version < SCHEMA_VERSION:
            self.close()
            raise SourceIndexError(OLD_INDEX.format(self.location))
        if version > SCHEMA_VERSION:
            self.close()
            raise SourceIndexError(
                f"index {self.location} was built by a newer unspun (schema {version}); "
                "upgrade unspun to read it"
            )

    def _scalar(self, sql: str, params: tuple = ()):  # noqa: ANN202 - any SQL value
        row = self._db.execute(sql, params).fetchone()
        return None if row is None else row[0]

    # -- writing -------------------------------------------------------------------------------
    def known_hashes(self, hashes: list[str]) -> set[str]:
        rows = self._db.execute(
            "SELECT content_hash FROM unspun_docs WHERE content_hash = ANY(%s)", (hashes,)
        ).fetchall()
        return {r[0] for r in rows}

    def add(self, docs: list[PreparedDoc]) -> int:
        added = 0
        try:
            with self._db.transaction():
                for prepared in docs:
                    d = prepared.doc
                    embedding = (
                        np.asarray(prepared.embedding, dtype=np.float32)
                        if self.pgvector
                        else vector_bytes(prepared.embedding)
                    )
                    cursor = self._db.execute(
                        "INSERT INTO unspun_docs (id, content_hash, title, url, date, site, "
                        "author, "
                        "text, features, minhash, embedding) VALUES "
                        "(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (content_hash) DO NOTHING",
                        (
                            d.id,
                            prepared.content_hash,
                            d.title,
                            d.url,
                            d.date,
                            d.site,
                            d.author,
                            d.text.replace("\x00", ""),
                            features_json(prepared.features),
                            np.asarray(prepared.minhash, dtype=np.uint64).tobytes(),
                            embedding,
                        ),
                    )
                    added += cursor.rowcount
        except self._psycopg.Error as exc:
            raise SourceIndexError(f"cannot write to {self.location}: {_first_line(exc)}") from None
        self._matrix = None
        return added

    def put_sentence_vectors(self, key: int, vectors: np.ndarray) -> None:
        # A cache: a read-only role just recomputes the vectors next time.
        with contextlib.suppress(self._psycopg.Error):
            self._db.execute(
                "INSERT INTO unspun_sentence_vectors (key, vectors) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET vectors = EXCLUDED.vectors",
                (key, vector_bytes(vectors)),
            )

    def set_meta(self, values: dict) -> None:
        with self._db.transaction():
            for k, v in values.items():
                self._db.execute(
                    "INSERT INTO unspun_meta (key, value) VALUES (%s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    (k, json.dumps(v)),
                )

    # -- reading -------------------------------------------------------------------------------
    def meta(self) -> dict:
        return {k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM unspun_meta")}

    def count(self) -> int:
        return int(self._scalar("SELECT count(*) FROM unspun_docs"))

    def stats(self) -> dict:
        row = self._db.execute(
            "SELECT count(*), count(DISTINCT site), min(date), max(date), "
            "coalesce(sum(length(text)), 0) "
            "FROM unspun_docs"
        ).fetchone()
        return {
            "backend": "postgresql",
            "location": self.location,
            "articles": row[0],
            "sites": row[1],
            "first_date": row[2],
            "last_date": row[3],
            "characters": int(row[4]),
            "articles_with_sentence_vectors": int(
                self._scalar("SELECT count(*) FROM unspun_sentence_vectors")
            ),
            "size_bytes": int(self._scalar("SELECT pg_total_relation_size('unspun_docs')")),
            "vector_search": "pgvector HNSW (cosine)"
            if self.pgvector
            else "exact (numpy; pgvector unavailable)",
            "text_search": "PostgreSQL full-text (ts_rank_cd)",
            **{k: v for k, v in self.meta().items() if k != "schema_version"},
        }

    def text_search(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        # ts_rank_cd reads the tsvector of every matching row, so cost grows with the number of
        # OR-ed terms (64 terms: ~340 ms on 10,000 articles, 24: ~30 ms); callers list the rarest
        # terms first, and those carry the match.
        words = [w for w in (t.replace("'", " ").replace("\\", " ").strip() for t in terms) if w]
        words = words[:PG_TEXT_TERMS]
        if not words:
            return []
        # websearch syntax never errors on user words; "or" between terms keeps recall high.
        query = " or ".join(words)
        rows = self._db.execute(
            "SELECT key, ts_rank_cd(tsv, q, 1) AS rank FROM unspun_docs, "
            "websearch_to_tsquery('english', %s) q WHERE tsv @@ q ORDER BY rank DESC LIMIT %s",
            (query, limit),
        ).fetchall()
        return [(int(k), float(s)) for k, s in rows]

    def vector_search(self, vector: np.ndarray, limit: int) -> list[tuple[int, float]]:
        vector = np.asarray(vector, dtype=np.float32)
        if self.pgvector:
            # ef_search above the limit so HNSW returns as many neighbours as asked.
            self._db.execute(f"SET hnsw.ef_search = {max(40, int(limit) * 2)}")
            rows = self._db.execute(
                "SELECT key, 1 - (embedding <=> %s) FROM unspun_docs "
                "ORDER BY embedding <=> %s LIMIT %s",
                (vector, vector, limit),
            ).fetchall()
            return [(int(k), float(s)) for k, s in rows]
        if self._matrix is None:
            rows = self._db.execute(
                "SELECT key, embedding FROM unspun_docs ORDER BY key"
            ).fetchall()
            self._matrix_keys = np.array([r[0] for r in rows], dtype=np.int64)
            self._matrix = (
                np.vstack([vector_from_bytes(bytes(r[1])) for r in rows])
                if rows
                else np.zeros((0, DIM), dtype=np.float32)
            )
        assert self._matrix_keys is not None
        if len(self._matrix_keys) == 0:
            return []
        sims = self._matrix @ vector
        top = np.argsort(-sims)[:limit]
        return [(int(self._matrix_keys[i]), float(sims[i])) for i in top]

    def fetch(self, keys: list[int]) -> list[StoredDoc]:
        if not keys:
            return []
        rows = self._db.execute(
            "SELECT key, id, title, url, date, site, author, text, features, minhash "
            "FROM unspun_docs WHERE key = ANY(%s)",
            (list(keys),),
        ).fetchall()
        by_key = {
            int(r[0]): StoredDoc(
                key=int(r[0]),
                doc=SourceDoc(
                    id=r[1], title=r[2], url=r[3], date=r[4], site=r[5], author=r[6], text=r[7]
                ),
                features=r[8] if isinstance(r[8], dict) else json.loads(r[8]),
                minhash=np.frombuffer(bytes(r[9]), dtype=np.uint64),
            )
            for r in rows
        }
        return [by_key[k] for k in keys if k in by_key]

    def keys_for_ids(self, ids: list[str]) -> list[int]:
        rows = self._db.execute("SELECT key FROM unspun_docs WHERE id = ANY(%s)", (ids,)).fetchall()
        return [int(r[0]) for r in rows]

    def sentence_vectors(self, key: int) -> np.ndarray | None:
        row = self._db.execute(
            "SELECT vectors FROM unspun_sentence_vectors WHERE key = %s", (key,)
        ).fetchone()
        return None if row is None else vector_from_bytes(bytes(row[0]))

    def drop(self) -> None:
        """Remove every unspun table (tests and ``index`` rebuilds)."""
        for table in ("unspun_docs", "unspun_meta", "unspun_sentence_vectors"):
            self._db.execute(f"DROP TABLE IF EXISTS {table}")

    def close(self) -> None:
        self._db.close()


def _redact(url: str) -> str:
    """The URL without its password, for messages and stats."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

"""Opening an index store: a postgresql:// URL is a PostgreSQL backend, anything else a directory
holding a SQLite one. The types every backend shares live in backend.py and are re-exported here."""

from __future__ import annotations

from pathlib import Path

from unspun.errors import SourceIndexError
from unspun.provenance.backend import (
    OLD_INDEX,
    SCHEMA_VERSION,
    IndexStore,
    PreparedDoc,
    SourceDoc,
    StoredDoc,
    features_json,
    vector_bytes,
    vector_from_bytes,
)

__all__ = [
    "OLD_INDEX",
    "SCHEMA_VERSION",
    "IndexStore",
    "PreparedDoc",
    "SourceDoc",
    "StoredDoc",
    "features_json",
    "open_store",
    "vector_bytes",
    "vector_from_bytes",
]


def open_store(location: str, *, create: bool = False) -> IndexStore:
    """Open the index at ``location``: a postgresql:// URL or a directory (SQLite)."""
    if location.startswith(("postgresql://", "postgres://")):
        from unspun.provenance.postgres import PostgresStore

        return PostgresStore(location, create=create)
    from unspun.provenance.sqlite import SqliteStore

    path = Path(location).expanduser()
    if path.exists() and not path.is_dir():
        raise SourceIndexError(f"index location {location} is a file; an index is a directory")
    if not create and not (path / "index.sqlite").is_file():
        raise SourceIndexError(
            f"no index at {location}; create one with: unspun index add FILES --index {location}"
        )
    return SqliteStore(path)

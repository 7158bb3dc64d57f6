"""The crawl state of a scan with URL inputs, a small SQLite file beside the output
(``OUT.state.sqlite``): per feed or sitemap its ETag, Last-Modified and the pages it listed (so a
``304 Not Modified`` still yields its pages), and per page the date its listing gave when it was
last checked. What each page's own validators and text were lives in the output's rows; this file
only saves requests, so losing it costs requests, never a row."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from unspun.errors import ConfigError
from unspun.fetch.listings import Listing

STATE_VERSION = "1"


@dataclass
class SourceState:
    url: str
    kind: str
    etag: str | None
    last_modified: str | None
    listing: Listing | None


def state_path(out: Path) -> Path:
    return out.with_name(out.name + ".state.sqlite")


class CrawlState:
    """Read and written by the scan's driver thread only."""

    def __init__(self, path: Path, *, restart: bool = False) -> None:
        self.path = path
        if restart:
            for leftover in (path, path.with_name(path.name + "-journal")):
                leftover.unlink(missing_ok=True)
        try:
            self._db = sqlite3.connect(path)
            self._db.executescript(
                """
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
                CREATE TABLE IF NOT EXISTS sources (
                    url TEXT PRIMARY KEY, kind TEXT NOT NULL, etag TEXT, last_modified TEXT,
                    fetched_at TEXT, listing TEXT);
                CREATE TABLE IF NOT EXISTS pages (
                    url TEXT PRIMARY KEY, listed_date TEXT, checked_at TEXT);
                """
            )
            self._db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('version', ?)", (STATE_VERSION,)
            )
            self._db.commit()
            self._listed = dict(self._db.execute("SELECT url, listed_date FROM pages"))
        except sqlite3.DatabaseError as exc:
            raise ConfigError(
                f"{path} is not a readable crawl state ({exc}); delete it, or pass --restart"
            ) from None

    def close(self) -> None:
        self._db.close()

    def source(self, url: str) -> SourceState | None:
        row = self._db.execute(
            "SELECT kind, etag, last_modified, listing FROM sources WHERE url = ?", (url,)
        ).fetchone()
        if row is None:
            return None
        kind, etag, last_modified, listing = row
        try:
            parsed = Listing.from_json(json.loads(listing)) if listing else None
        except (ValueError, KeyError, TypeError):
            parsed, etag, last_modified = None, None, None  # damaged: fetch it in full again
        return SourceState(url, kind, etag, last_modified, parsed)

    def save_source(
        self,
        url: str,
        listing: Listing,
        *,
        etag: str | None,
        last_modified: str | None,
        fetched_at: str,
    ) -> None:
        """The listing and its validators in one transaction: a 304 later always has the pages."""
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?, ?)",
                (
                    url,
                    listing.kind,
                    etag,
                    last_modified,
                    fetched_at,
                    json.dumps(listing.to_json()),
                ),
            )

    def listed_date(self, url: str) -> str | None:
        return self._listed.get(url)

    def save_listed_dates(self, items: list[tuple[str, str | None, str]]) -> None:
        """(page url, the date its listing gave, when checked) for pages whose row is committed."""
        if not items:
            return
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO pages VALUES (?, ?, ?)", items)
        for url, date, _ in items:
            self._listed[url] = date

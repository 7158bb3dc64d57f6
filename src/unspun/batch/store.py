"""Checkpointed output: numbered Parquet parts committed atomically next to the output. The parts
(and a finished output) are the only record of what is done, so a killed scan resumes exactly
once."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from unspun.batch.rows import RESULT_COLUMNS, ROW_SCHEMA
from unspun.errors import ConfigError, MalformedInput

METADATA_KEY = b"unspun.scan"
MANIFEST = "scan.json"


@dataclass
class ScanTotals:
    """Counts over the whole output (this run and earlier runs of the same scan)."""

    records: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    duplicates: int = 0


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - not every platform opens directories
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class PageHistory:
    """What the output holds about one fetched URL: ``versions`` rows, the latest of which said
    ``http_status``, had these validators and this text (``content_hash``) or this ``error``."""

    COLUMNS = ("http_status", "etag", "last_modified", "content_hash", "error")

    fetched_at: Any
    versions: int = 1
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    error: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PageHistory:
        history = cls(fetched_at=row["fetched_at"])
        history.update(row)
        return history

    def update(self, row: dict[str, Any]) -> None:
        self.fetched_at = row["fetched_at"]
        for name in self.COLUMNS:
            setattr(self, name, row[name])

    @property
    def was_read(self) -> bool:
        """Whether the latest fetch got the page (a 2xx answer), whatever checking it gave."""
        return self.http_status is not None and 200 <= self.http_status < 300

    @property
    def outcome(self) -> str:
        """What a page's text came to: its hash, or 'error' (no article, not a page...)."""
        return self.content_hash if self.error is None and self.content_hash else "error"


class PartStore:
    """The parts folder ``<out>.parts/`` of one scan. ``fingerprint`` names what makes two runs the
    same scan (inputs, detector, settings); a checkpoint of a different scan is never mixed in."""

    def __init__(self, out: Path, fingerprint: dict[str, Any]) -> None:
        self.out = out
        self.directory = out.with_name(out.name + ".parts")
        self.fingerprint = fingerprint
        self._next = 1
        self._resume_output = True

    # -- starting -------------------------------------------------------------------------------

    def open(self, *, restart: bool = False) -> None:
        """Create or reuse the parts folder; refuse one left by a different scan unless told to."""
        manifest = self.directory / MANIFEST
        self._resume_output = not restart
        if self.directory.exists() and (restart or not manifest.is_file()):
            shutil.rmtree(self.directory)
        if manifest.is_file():
            try:
                previous = json.loads(manifest.read_text("utf-8"))
            except (OSError, json.JSONDecodeError):
                previous = None
            if previous != self.fingerprint:
                raise ConfigError(
                    f"{self.directory} holds the checkpoint of a different scan (other inputs or "
                    "detector settings); rerun with the same arguments to resume it, or pass "
                    "--restart to discard it"
                )
        else:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / f".{MANIFEST}.{uuid.uuid4().hex}.tmp"
            _fsync_write(tmp, json.dumps(self.fingerprint, sort_keys=True).encode("utf-8"))
            os.replace(tmp, manifest)
            _fsync_dir(self.directory)
        for leftover in self.directory.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)  # a part that was being written when the run died
        numbers = [int(p.stem.split("-")[1]) for p in self._parts()]
        self._next = max(numbers, default=0) + 1

    def _parts(self) -> list[Path]:
        return sorted(self.directory.glob("part-*.parquet"))

    def _finished_output(self) -> Path | None:
        """The existing output if it was written by this same scan (so its rows count as done)."""
        if not self._resume_output or not self.out.is_file():
            return None
        try:
            metadata = pq.read_schema(self.out).metadata or {}
        except (pa.ArrowException, OSError):
            return None
        try:
            previous = json.loads(metadata.get(METADATA_KEY, b"null"))
        except json.JSONDecodeError:
            return None
        return self.out if previous == self.fingerprint else None

    def _sources(self) -> list[Path]:
        finished = self._finished_output()
        return ([finished] if finished else []) + self._parts()

    def _read(self, path: Path, columns: list[str]) -> Iterator[pa.RecordBatch]:
        try:
            yield from pq.ParquetFile(path).iter_batches(batch_size=8192, columns=columns)
        except (pa.ArrowException, OSError) as exc:
            raise MalformedInput(f"cannot read checkpoint {path} ({exc})") from None

    def done(self) -> tuple[set[str], dict[str, str]]:
        """Record ids already written, and content hash -> first record id for de-duplication."""
        done: set[str] = set()
        firsts: dict[str, str] = {}
        for path in self._sources():
            for batch in self._read(path, ["record_id", "content_hash", "duplicate_of"]):
                ids, hashes, dups = (batch.column(i).to_pylist() for i in range(3))
                done.update(ids)
                for record_id, digest, first in zip(ids, hashes, dups, strict=True):
                    if digest is not None:
                        firsts.setdefault(digest, first or record_id)
        return done, firsts

    def page_history(self) -> dict[str, PageHistory]:
        """Per URL of a page fetched by earlier runs of this scan: how many rows it has and what
        its latest fetch found (validators, status, text hash, error)."""
        columns = ["url", "fetched_at", *PageHistory.COLUMNS]
        history: dict[str, PageHistory] = {}
        for path in self._sources():
            if "fetched_at" not in pq.read_schema(path).names:
                continue
            for batch in self._read(path, columns):
                for row in batch.to_pylist():
                    if row["fetched_at"] is None or not row["url"]:
                        continue
                    known = history.get(row["url"])
                    if known is None:
                        history[row["url"]] = PageHistory.from_row(row)
                        continue
                    known.versions += 1
                    if row["fetched_at"] >= known.fetched_at:
                        known.update(row)
        return history

    # -- writing --------------------------------------------------------------------------------

    def commit(self, table: pa.Table) -> Path | None:
        """Write one part atomically (temp file, fsync, rename): after a crash it is either
        entirely there or not at all."""
        if table.num_rows == 0:
            return None
        final = self.directory / f"part-{self._next:06d}.parquet"
        tmp = self.directory / f".{final.name}.{uuid.uuid4().hex}.tmp"
        pq.write_table(table, tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, final)
        _fsync_dir(self.directory)
        self._next += 1
        return final

    def finish(self) -> ScanTotals:
        """Merge the finished output (if any) and all parts into ``out`` atomically, each record id
        once, duplicates given their first occurrence's result; then drop the parts folder."""
        sources = self._sources()
        wanted: set[str] = set()
        for path in sources:
            for batch in self._read(path, ["duplicate_of"]):
                wanted.update(v for v in batch.column(0).to_pylist() if v is not None)
        results: dict[str, dict[str, Any]] = {}
        if wanted:
            for path in sources:
                for batch in self._read(path, ["record_id", "duplicate_of", *RESULT_COLUMNS]):
                    for row in batch.to_pylist():
                        if row["record_id"] in wanted and row["duplicate_of"] is None:
                            results.setdefault(row["record_id"], row)
        schema = ROW_SCHEMA.with_metadata(
            {METADATA_KEY: json.dumps(self.fingerprint, sort_keys=True).encode("utf-8")}
        )
        totals = ScanTotals()
        written: set[str] = set()
        tmp = self.out.with_name(f".{self.out.name}.{uuid.uuid4().hex}.tmp")
        try:
            with pq.ParquetWriter(tmp, schema) as writer:
                for path in sources:
                    for batch in self._read(path, ROW_SCHEMA.names):
                        rows = []
                        for row in batch.to_pylist():
                            if row["record_id"] in written:
                                continue  # committed twice around a crash: keep the first
                            written.add(row["record_id"])
                            _fill_duplicate(row, results)
                            _count(totals, row)
                            rows.append(row)
                        if rows:
                            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, self.out)
        finally:
            tmp.unlink(missing_ok=True)
        # Rename first so a crash mid-delete never leaves a half-empty checkpoint behind.
        trash = self.directory.with_name(f".{self.directory.name}.{uuid.uuid4().hex}.old")
        if self.directory.exists():
            os.replace(self.directory, trash)
            shutil.rmtree(trash, ignore_errors=True)
        return totals


def _fill_duplicate(row: dict[str, Any], results: dict[str, dict[str, Any]]) -> None:
    first = row["duplicate_of"]
    if first is None or row["verdict"] is not None or row["error"] is not None:
        return
    original = results.get(first)
    if original is None:
        row["error"] = f"duplicate of {first}, whose result is missing"
        return
    for column in RESULT_COLUMNS:
        row[column] = original[column]


def _count(totals: ScanTotals, row: dict[str, Any]) -> None:
    totals.records += 1
    if row["duplicate_of"] is not None:
        totals.duplicates += 1
    if row["error"] is not None:
        totals.errors += 1
    elif row["verdict"] is not None:
        totals.verdicts[row["verdict"]] = totals.verdicts.get(row["verdict"], 0) + 1

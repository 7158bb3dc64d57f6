"""Scan engines: the local one (in-process, or a spawn process pool with one Checker per process).
Every engine turns batches of raw records into row tables with ``scan_batch``; the Ray engine
lives in ``ray_engine``."""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.managers import BaseManager
from typing import Any

import pyarrow as pa

from unspun.batch.inputs import RawRecord
from unspun.batch.rows import SeenHashes, rows_to_table, scan_batch
from unspun.detect.base import import_plugins
from unspun.pipeline import CheckConfig, Checker


@dataclass(frozen=True)
class ScanSettings:
    """What every worker needs to build its own Checker; small and picklable on purpose."""

    config: CheckConfig
    plugins: tuple[str, ...] = field(default_factory=tuple)

    def make_checker(self) -> Checker:
        # Workers import the plugins they were given, whatever their own environment says.
        import_plugins(self.plugins)
        return Checker(self.config)


# -- in-process -----------------------------------------------------------------------------------


def run_inline(
    settings: ScanSettings, batches: Iterable[list[RawRecord]], seen: SeenHashes
) -> Iterator[pa.Table]:
    checker = settings.make_checker()
    for batch in batches:
        yield rows_to_table(scan_batch(checker, seen.claim, batch))


# -- process pool ---------------------------------------------------------------------------------


class _SeenManager(BaseManager):
    pass


_SeenManager.register("SeenHashes", SeenHashes)

# Per-process state of a pool worker: its settings, the shared hash table, its Checker.
_worker: dict[str, Any] = {}


def _init_worker(settings: ScanSettings, seen: Any) -> None:
    _worker.update(settings=settings, seen=seen, checker=None)


def _work(batch: list[RawRecord]) -> pa.Table:
    if _worker["checker"] is None:
        # Built on the first batch rather than in the initializer so a failure (a missing model)
        # comes back to the driver as the UnspunError it is, not as a broken pool.
        _worker["checker"] = _worker["settings"].make_checker()
        torch = sys.modules.get("torch")
        if torch is not None:
            # Each process is one worker: one core each, so N workers do not fight over N cores.
            torch.set_num_threads(1)
    return rows_to_table(scan_batch(_worker["checker"], _worker["seen"].claim, batch))


def run_pool(
    settings: ScanSettings,
    batches: Iterable[list[RawRecord]],
    seen: SeenHashes,
    workers: int,
) -> Iterator[pa.Table]:
    """Batches through ``workers`` spawned processes; at most two batches per worker are in flight,
    so memory stays bounded however large the input is. Tables come back in submission order."""
    context = get_context("spawn")
    with _SeenManager(ctx=context) as manager:
        shared = manager.SeenHashes(seen.snapshot())  # type: ignore[attr-defined]
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(settings, shared),
        ) as pool:
            pending: deque[Future[pa.Table]] = deque()
            try:
                for batch in batches:
                    pending.append(pool.submit(_work, batch))
                    if len(pending) >= 2 * workers:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()

"""The Ray engine: the same per-batch step as the local engine, on Ray Data. Inputs are read by read
tasks, models live in an actor pool fed by ``map_batches`` (GPU actors when the cluster has GPUs),
de-duplication goes through one small actor, and the driver alone commits output parts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from unspun.batch.engine import ScanSettings
from unspun.batch.inputs import InputUnit, iter_unit
from unspun.batch.rows import (
    ROW_SCHEMA,
    SeenHashes,
    records_to_table,
    rows_to_table,
    scan_batch,
    table_to_records,
)
from unspun.detect.base import PLUGINS_ENV
from unspun.errors import ConfigError, UnspunError


def _read_task_fn(unit: InputUnit, done_ref: Any, max_record_bytes: int, block_rows: int):
    def read() -> Iterator[pa.Table]:
        import ray

        done = ray.get(done_ref)
        buffer = []
        for record in iter_unit(unit, max_record_bytes=max_record_bytes):
            if record.record_id in done:
                continue
            buffer.append(record)
            if len(buffer) >= block_rows:
                yield records_to_table(buffer)
                buffer = []
        if buffer:
            yield records_to_table(buffer)

    return read


def _record_source(units: list[InputUnit], done_ref: Any, max_record_bytes: int, block_rows: int):
    from ray.data import Datasource, ReadTask
    from ray.data.block import BlockMetadata

    class RecordSource(Datasource):
        """One read task per input; each streams its records as small Arrow blocks."""

        def estimate_inmemory_data_size(self) -> int | None:
            return None

        def get_read_tasks(self, parallelism: int, **_: Any) -> list[ReadTask]:
            return [
                ReadTask(
                    _read_task_fn(unit, done_ref, max_record_bytes, block_rows),
                    BlockMetadata(
                        num_rows=None,
                        size_bytes=None,
                        exec_stats=None,
                        input_files=(str(unit.path),),
                    ),
                )
                for unit in units
            ]

    return RecordSource()


class ScanActor:
    """Holds one Checker for its lifetime; called by Ray Data with Arrow batches of raw records."""

    def __init__(self, settings: ScanSettings, seen: Any) -> None:
        self.checker = settings.make_checker()
        self.seen = seen

    def _claim(self, pairs: list[tuple[str, str]]) -> list[str | None]:
        import ray

        return ray.get(self.seen.claim.remote(pairs))

    def __call__(self, batch: pa.Table) -> pa.Table:
        return rows_to_table(scan_batch(self.checker, self._claim, table_to_records(batch)))


def _unspun_cause(exc: BaseException) -> UnspunError | None:
    """Ray wraps errors raised in actors; find the UnspunError inside, if there is one."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, UnspunError):
            return current
        todo += [getattr(current, "cause", None), current.__cause__, current.__context__]
    return None


def run_ray(
    settings: ScanSettings,
    units: list[InputUnit],
    done: set[str],
    seen: SeenHashes,
    *,
    actors: int,
    batch_size: int,
    address: str | None,
    max_record_bytes: int,
) -> Iterator[pa.Table]:
    """Yield row tables as the actor pool finishes batches (in no particular order)."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise ConfigError("--engine ray needs Ray: pip install 'unspun[ray]'") from None

    import logging

    # Our own progress bar and summary say what matters; Ray Data's INFO lines would interleave.
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    started_here = False
    if not ray.is_initialized():
        env = {key: os.environ[key] for key in (PLUGINS_ENV, "PYTHONPATH") if os.environ.get(key)}
        try:
            ray.init(
                address=address,
                include_dashboard=False,
                log_to_driver=False,
                logging_level="ERROR",
                runtime_env={"env_vars": env} if env else None,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ConfigError(f"cannot start or reach Ray at {address or 'local'}: {exc}") from None
        started_here = True
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        gpus = ray.cluster_resources().get("GPU", 0)
        # GPU actors when the cluster has GPUs: share them evenly, at most one per actor.
        num_gpus = min(1.0, gpus / actors) if gpus else 0
        seen_actor = ray.remote(num_cpus=0)(SeenHashes).remote(seen.snapshot())
        done_ref = ray.put(done)
        dataset = ray.data.read_datasource(
            _record_source(units, done_ref, max_record_bytes, batch_size),
            # Reading is light; it must not take the CPUs the model actors are waiting for.
            num_cpus=0,
        ).map_batches(
            ScanActor,
            fn_constructor_kwargs={"settings": settings, "seen": seen_actor},
            batch_size=batch_size,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=0 if num_gpus else 1,
            num_gpus=num_gpus,
        )
        try:
            for table in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
                yield table.select(ROW_SCHEMA.names).cast(ROW_SCHEMA)
        except Exception as exc:
            cause = _unspun_cause(exc)
            if cause is not None:
                raise cause from None
            raise
    finally:
        if started_here:
            ray.shutdown()

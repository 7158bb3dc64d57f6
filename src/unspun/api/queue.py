"""The work queue between the event loop and the detector: requests wait their turn for a bounded
time, are merged into batches and checked on worker threads, so the loop only ever waits and the
model is used efficiently."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from unspun.article.model import Article
from unspun.errors import UnspunError
from unspun.pipeline import Checker

T = TypeVar("T")


class QueueWaitExpired(UnspunError):
    """A request that waited its whole ``queue_wait`` without the detector getting to it."""

    http_status = 503
    code = "overloaded"


class CheckTimedOut(UnspunError):
    """Checking that went on past ``request_timeout`` after it left the queue."""

    http_status = 504
    code = "timeout"


@dataclass(eq=False)
class _Job:
    article: Article
    checker: Checker
    future: asyncio.Future[dict[str, Any]]
    # Set when a worker takes the job: its wait is over, its time limit starts.
    started: asyncio.Event = field(default_factory=asyncio.Event)


class CheckQueue:
    """Merges articles from concurrent requests into ``check_many`` calls on worker threads.

    Admission (how many requests may wait) is decided before a request's body is read, by
    :class:`Admission`; this queue orders the admitted work and bounds it in time: an article
    waits at most ``max_wait`` seconds for a worker (then :class:`QueueWaitExpired`, a 503) and
    is checked within ``run_timeout`` seconds after that (then :class:`CheckTimedOut`, a 504).
    None: no limit.
    """

    def __init__(
        self,
        checker: Checker,
        *,
        batch_size: int = 16,
        workers: int = 1,
        max_wait: float | None = None,
        run_timeout: float | None = None,
    ) -> None:
        self.checker = checker
        self.batch_size = max(1, batch_size)
        self.workers = max(1, workers)
        self.max_wait = max_wait
        self.run_timeout = run_timeout
        # Jobs put on the queue that no worker has taken yet (what /v1/health reports as waiting).
        self._waiting: set[_Job] = set()
        # Parsing HTML is CPU work too; it gets its own small pool so it never waits behind models.
        self._check_pool = ThreadPoolExecutor(self.workers, thread_name_prefix="unspun-check")
        self._parse_pool = ThreadPoolExecutor(2, thread_name_prefix="unspun-parse")
        self._jobs: asyncio.Queue[_Job] | None = None
        self._consumers: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        # Measured cost of one article on one worker (moving average); None until measured.
        self.seconds_per_article: float | None = None

    def _ensure_started(self) -> asyncio.Queue[_Job]:
        # Started lazily on the running loop: the app also works without a lifespan (ASGI tests).
        loop = asyncio.get_running_loop()
        if self._jobs is None or self._loop is not loop:
            self._loop = loop
            self._jobs = asyncio.Queue()
            self._consumers = [
                loop.create_task(self._consume(self._jobs)) for _ in range(self.workers)
            ]
        return self._jobs

    async def run_cpu(self, function: Callable[..., T], *args: Any) -> T:
        """Run light CPU work (parsing) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._parse_pool, function, *args)

    async def run_model(self, function: Callable[..., T], *args: Any) -> T:
        """Run other model work (tracing) on the detector's threads, never on the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._check_pool, function, *args)

    async def check(
        self, articles: Sequence[Article], *, checker: Checker | None = None
    ) -> list[dict[str, Any]]:
        """JSON reports for ``articles`` in order; raises the error of an article that fails.

        ``checker``: the one to check them with (default: the queue's own)."""
        jobs_queue = self._ensure_started()
        loop = asyncio.get_running_loop()
        checker = checker or self.checker
        jobs = [_Job(article, checker, loop.create_future()) for article in articles]
        for job in jobs:
            self._waiting.add(job)
            jobs_queue.put_nowait(job)
        try:
            await self._wait_for_start(jobs)
            try:
                async with asyncio.timeout(self.run_timeout):
                    return list(await asyncio.gather(*(job.future for job in jobs)))
            except TimeoutError:
                raise CheckTimedOut(
                    f"checking took longer than the {self.run_timeout:g} s limit"
                ) from None
        finally:
            # Whatever ended the request (an answer, a limit, the client gone), jobs nobody waits
            # for any more are marked done, and the worker skips them instead of checking them.
            for job in jobs:
                self._waiting.discard(job)
                if not job.future.done():
                    job.future.cancel()

    async def _wait_for_start(self, jobs: list[_Job]) -> None:
        try:
            async with asyncio.timeout(self.max_wait):
                for job in jobs:
                    await job.started.wait()
        except TimeoutError:
            raise QueueWaitExpired(
                f"the server is busy: this request waited {self.max_wait:g} s in the queue "
                "without being started; retry later"
            ) from None

    @property
    def waiting(self) -> int:
        """Articles on the queue that no worker has taken yet."""
        return len(self._waiting)

    def _batch_limit(self) -> int:
        """Articles to merge into one detector call: up to ``batch_size``, and no more than the
        measured speed checks in a quarter of ``run_timeout``, so that a merged batch is never
        what pushes its requests past the time limit (on a slow CPU a batch of 16 takes 30 s)."""
        if self.run_timeout is None or self.seconds_per_article is None:
            return self.batch_size
        fits = int(self.run_timeout / 4 / max(self.seconds_per_article, 1e-6))
        return max(1, min(self.batch_size, fits))

    async def _consume(self, jobs_queue: asyncio.Queue[_Job]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            job = await jobs_queue.get()
            if job.future.done():  # abandoned (time limit, client gone): take no room in a batch
                continue
            batch, limit = [job], self._batch_limit()
            while len(batch) < limit and not jobs_queue.empty():
                job = jobs_queue.get_nowait()
                if not job.future.done():
                    batch.append(job)
            # Merged only with jobs for the same checker (one, unless a test swapped it in).
            for checker in {id(job.checker): job.checker for job in batch}.values():
                await self._run(loop, checker, [j for j in batch if j.checker is checker])

    async def _run(
        self, loop: asyncio.AbstractEventLoop, checker: Checker, batch: list[_Job]
    ) -> None:
        batch = [job for job in batch if not job.future.done()]
        if not batch:
            return
        for job in batch:
            self._waiting.discard(job)
            job.started.set()
        articles = [job.article for job in batch]
        started = loop.time()
        outcomes = await loop.run_in_executor(
            self._check_pool, self._check_batch, checker, articles
        )
        self._measure((loop.time() - started) / len(articles))
        for job, outcome in zip(batch, outcomes, strict=True):
            if job.future.done():
                continue
            if isinstance(outcome, BaseException):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(outcome)

    def _measure(self, seconds: float) -> None:
        previous = self.seconds_per_article
        self.seconds_per_article = seconds if previous is None else 0.7 * previous + 0.3 * seconds

    def _check_batch(
        self, checker: Checker, articles: list[Article]
    ) -> list[dict[str, Any] | BaseException]:
        """Runs on a worker thread. One failing article must not fail the others merged with it."""
        try:
            return [_finite(r.to_json_dict()) for r in checker.check_many(articles)]
        except Exception:  # noqa: BLE001 - retried one by one below to find the culprit
            if len(articles) == 1:
                return [_as_error(articles[0], checker)]
        return [_as_error(article, checker) for article in articles]

    def close(self) -> None:
        for task in self._consumers:
            task.cancel()
        self._consumers = []
        self._jobs = None
        self._check_pool.shutdown(wait=False, cancel_futures=True)
        self._parse_pool.shutdown(wait=False, cancel_futures=True)


def _as_error(article: Article, checker: Checker) -> dict[str, Any] | BaseException:
    try:
        return _finite(checker.check(article).to_json_dict())
    except UnspunError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - reported as a 500 JSON body, never a traceback
        return exc


def _finite(value: Any) -> Any:
    """Replace NaN/inf (not JSON) by null anywhere in a report, e.g. a -inf log-probability."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


class Admission:
    """Admits a request to the queue or refuses it at once: at most ``capacity`` requests are
    admitted (waiting or being checked); one more is refused, so the queue and the bodies it
    buffers stay bounded however many clients arrive. How long an admitted request may wait is
    the queue's ``max_wait``."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self.pending = 0

    def try_enter(self) -> bool:
        # Only touched from the event loop thread, so a plain counter is race-free.
        if self.pending >= self.capacity:
            return False
        self.pending += 1
        return True

    def leave(self) -> None:
        self.pending = max(0, self.pending - 1)

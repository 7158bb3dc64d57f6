"""The work queue between the event loop and the detector: requests are merged into batches and
checked on worker threads, so the loop only ever waits and the model is used efficiently."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from unspun.article.model import Article
from unspun.errors import UnspunError
from unspun.pipeline import Checker

T = TypeVar("T")


@dataclass
class _Job:
    article: Article
    checker: Checker
    future: asyncio.Future[dict[str, Any]]


class CheckQueue:
    """Merges articles from concurrent requests into ``check_many`` calls on worker threads.

    Admission (how many requests may wait) is decided before a request's body is read, by
    :class:`Admission`; this queue itself only orders the admitted work.
    """

    def __init__(self, checker: Checker, *, batch_size: int = 16, workers: int = 1) -> None:
        self.checker = checker
        self.batch_size = max(1, batch_size)
        self.workers = max(1, workers)
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
            jobs_queue.put_nowait(job)
        # If the request is cancelled (time limit, client gone) gather cancels the futures and the
        # worker skips those jobs instead of checking articles nobody waits for.
        return list(await asyncio.gather(*(job.future for job in jobs)))

    async def _consume(self, jobs_queue: asyncio.Queue[_Job]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await jobs_queue.get()]
            while len(batch) < self.batch_size and not jobs_queue.empty():
                batch.append(jobs_queue.get_nowait())
            waiting = [job for job in batch if not job.future.done()]
            # Merged only with jobs for the same checker (one, unless a test swapped it in).
            for checker in {id(job.checker): job.checker for job in waiting}.values():
                await self._run(loop, checker, [j for j in waiting if j.checker is checker])

    async def _run(
        self, loop: asyncio.AbstractEventLoop, checker: Checker, batch: list[_Job]
    ) -> None:
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

    def estimated_wait(self, pending: int) -> float | None:
        """Seconds a new request would wait behind ``pending`` admitted ones; None if unmeasured."""
        if self.seconds_per_article is None:
            return None
        return pending * self.seconds_per_article / self.workers

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
    """Admits a request to the queue or refuses it at once (no unbounded queue): refused when
    ``capacity`` requests are already admitted, or when the measured speed says a new one would
    wait longer than ``max_wait`` seconds (it would only time out; a 503 lets it retry later)."""

    def __init__(
        self, capacity: int, *, queue: CheckQueue | None = None, max_wait: float | None = None
    ) -> None:
        self.capacity = max(1, capacity)
        self.queue = queue
        self.max_wait = max_wait
        self.pending = 0

    def try_enter(self) -> bool:
        # Only touched from the event loop thread, so a plain counter is race-free.
        if self.pending >= self.capacity:
            return False
        queue, limit = self.queue, self.max_wait
        if queue is not None and limit is not None and self.pending >= queue.workers:
            wait = queue.estimated_wait(self.pending)
            if wait is not None and wait > limit:
                return False
        self.pending += 1
        return True

    def leave(self) -> None:
        self.pending = max(0, self.pending - 1)

"""The server's URL fetches (``{"url": ...}`` with no text or html): a per-client rate limit, a
bound on fetches at once, and the same safe fetch as ``unspun check URL`` (non-public addresses
refused unless the server was started with ``--allow-private-urls``), run off the event loop."""

from __future__ import annotations

import asyncio
import math
import threading
import time

from unspun.api.settings import ServiceSettings
from unspun.article.model import Article
from unspun.errors import ConfigError, RateLimited
from unspun.fetch.client import FetchedPage, Fetcher, FetchSettings, fetch_article

# Clients remembered by the rate limiter; past this the ones with full buckets are forgotten.
_MAX_CLIENTS = 10_000


class RateLimiter:
    """A token bucket per client: ``per_minute`` fetches, refilled evenly over the minute."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str, count: int = 1) -> None:
        """Spend ``count`` fetches of ``client``'s allowance, or raise RateLimited."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < count:
                wait = (count - tokens) / self.rate if self.rate else math.inf
                self._buckets[client] = (tokens, now)
                raise RateLimited(
                    f"too many URL fetches: at most {self.capacity:g} a minute per client; "
                    f"retry in {math.ceil(wait)} s",
                    retry_after=wait,
                )
            self._buckets[client] = (tokens - count, now)
            if len(self._buckets) > _MAX_CLIENTS:
                self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        full = [
            key
            for key, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * self.rate >= self.capacity
        ]
        for key in full:
            del self._buckets[key]


class UrlFetcher:
    """Fetches for one server process; thread-safe (the fetches run on worker threads)."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.enabled = settings.url_fetches_per_minute > 0
        self.limiter = RateLimiter(max(settings.url_fetches_per_minute, 0))
        self.fetcher = Fetcher(
            FetchSettings(
                timeout=settings.fetch_timeout,
                max_bytes=settings.fetch_max_bytes,
                allow_private=settings.allow_private_urls,
            )
        )
        self._slots: asyncio.Semaphore | None = None
        self.concurrency = settings.fetch_concurrency

    def close(self) -> None:
        self.fetcher.close()

    def admit(self, client: str, count: int) -> None:
        """Refuse at once when fetching is off or the client is over its allowance."""
        if not self.enabled:
            raise ConfigError(
                "this server does not fetch URLs; send the article's 'text' or 'html'"
            )
        self.limiter.take(client, count)

    async def fetch(self, url: str) -> tuple[Article, FetchedPage]:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        async with self._slots:
            return await asyncio.to_thread(fetch_article, url, self.fetcher)

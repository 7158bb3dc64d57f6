"""Crawling politely: robots.txt honoured (urllib.robotparser, for the token ``unspun``), at most
``per_host`` requests at once and ``delay`` seconds between request starts to one host (or the
site's Crawl-delay, if longer), and retries with exponential backoff on 429, 5xx, timeouts and
broken connections, honouring Retry-After for the whole host."""

from __future__ import annotations

import contextlib
import random
import threading
import time
import urllib.robotparser
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from unspun.errors import (
    FetchError,
    FetchHTTPError,
    FetchTimeout,
    UnspunError,
    URLRefused,
)
from unspun.fetch.client import FetchedPage, Fetcher, FetchSettings

ROBOTS_TOKEN = "unspun"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_CRAWL_DELAY = 60.0
ROBOTS_MAX_BYTES = 512_000


@dataclass(frozen=True)
class CrawlSettings:
    """How a scan fetches. ``delay``: seconds between the starts of two requests to one host;
    ``per_host``: requests to one host at once; ``connections``: requests at once overall;
    ``retries``: further tries after a 429, a 5xx, a timeout or a broken connection, waiting
    ``backoff`` seconds, doubling each time, or what Retry-After asks up to ``max_wait``;
    ``max_pages``: pages taken from one input (newest first when the listing has dates)."""

    fetch: FetchSettings = field(default_factory=FetchSettings)
    delay: float = 1.0
    per_host: int = 1
    connections: int = 8
    retries: int = 3
    backoff: float = 1.0
    max_wait: float = 120.0
    max_pages: int = 1000
    robots: bool = True


class _Host:
    def __init__(self, per_host: int, delay: float) -> None:
        self.slots = threading.Semaphore(per_host)
        self.lock = threading.Lock()
        self.next_start = 0.0
        self.delay = delay
        self.robots: urllib.robotparser.RobotFileParser | None = None
        self.robots_error: str | None = None
        self.robots_lock = threading.Lock()


def host_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


class PoliteClient:
    """Thread-safe: many threads may fetch at once; each host is paced on its own."""

    def __init__(self, settings: CrawlSettings, fetcher: Fetcher | None = None) -> None:
        self.settings = settings
        self.fetcher = fetcher or Fetcher(settings.fetch)
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()
        self.requests = 0

    def close(self) -> None:
        self.fetcher.close()

    def _host(self, key: str) -> _Host:
        with self._lock:
            host = self._hosts.get(key)
            if host is None:
                host = self._hosts[key] = _Host(self.settings.per_host, self.settings.delay)
            return host

    @contextlib.contextmanager
    def _slot(self, key: str) -> Iterator[None]:
        host = self._host(key)
        with host.slots:
            with host.lock:
                wait = host.next_start - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                host.next_start = time.monotonic() + host.delay
            with self._lock:
                self.requests += 1
            yield

    def _defer(self, key: str, seconds: float) -> None:
        host = self._host(key)
        with host.lock:
            host.next_start = max(host.next_start, time.monotonic() + seconds)

    def _backoff(self, attempt: int) -> float:
        return self.settings.backoff * (2**attempt) * (1 + random.random() / 4)

    def get(self, url: str, **options) -> FetchedPage:
        """``Fetcher.get`` within the rules: robots.txt, pacing, retries."""
        key = host_key(url)
        if self.settings.robots:
            self._check_robots(key, url)
        retries = self.settings.retries
        for attempt in range(retries + 1):
            with self._slot(key):
                try:
                    return self.fetcher.get(url, **options)
                except FetchHTTPError as exc:
                    if exc.status not in RETRY_STATUSES or attempt == retries:
                        raise
                    wait = exc.retry_after
                    if wait is not None and wait > self.settings.max_wait:
                        raise FetchHTTPError(
                            f"{exc.message}, asking to retry after {wait:.0f} s (unspun waits at "
                            f"most {self.settings.max_wait:g} s)",
                            exc.status,
                            wait,
                        ) from None
                    wait = wait if wait is not None else self._backoff(attempt)
                except FetchError as exc:
                    transient = type(exc) in (FetchError, FetchTimeout)
                    if not transient or attempt == retries:
                        raise
                    wait = self._backoff(attempt)
            self._defer(key, wait)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- robots.txt -------------------------------------------------------------------------------

    def _check_robots(self, key: str, url: str) -> None:
        host = self._host(key)
        with host.robots_lock:
            if host.robots is None and host.robots_error is None:
                self._read_robots(key, host)
        if host.robots_error is not None:
            raise URLRefused(f"{url} not fetched: {host.robots_error}")
        assert host.robots is not None
        if not host.robots.can_fetch(ROBOTS_TOKEN, url):
            raise URLRefused(f"{url} is disallowed by {key}/robots.txt")

    def _read_robots(self, key: str, host: _Host) -> None:
        """RFC 9309: a 4xx answer allows everything; a 5xx or no answer disallows everything for
        this run (the site may be struggling); Crawl-delay slows this host down."""
        parser = urllib.robotparser.RobotFileParser(f"{key}/robots.txt")
        try:
            with self._slot(key):
                page = self.fetcher.get(
                    f"{key}/robots.txt", accept=None, max_bytes=ROBOTS_MAX_BYTES
                )
            lines = page.body.decode("utf-8", "replace").splitlines()
        except FetchHTTPError as exc:
            if 400 <= exc.status < 500:
                lines = []
            else:
                host.robots_error = f"{key}/robots.txt answered HTTP {exc.status}"
                return
        except URLRefused:
            raise
        except UnspunError as exc:
            host.robots_error = f"{key}/robots.txt could not be read ({exc.message})"
            return
        parser.parse(lines)
        delay = parser.crawl_delay(ROBOTS_TOKEN)
        if delay:
            host.delay = max(host.delay, min(float(delay), MAX_CRAWL_DELAY))
        host.robots = parser

"""Service limits of the HTTP API: body size, queue depth, time limits and API keys."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

API_KEYS_ENV = "UNSPUN_API_KEYS"


@dataclass(frozen=True)
class ServiceSettings:
    """Everything that bounds what one server process accepts; the defaults suit a newsroom LAN.

    ``max_pending``: requests admitted to the checking routes at once (waiting, or being checked);
    one more gets ``503`` with ``Retry-After`` at once, so memory stays bounded by
    ``max_pending x max_body_bytes``.
    ``queue_wait``: seconds an admitted request may wait for the detector; a request not started by
    then gets ``503`` with ``Retry-After`` (None: wait as long as it takes).
    ``body_timeout``: seconds a client has to send its whole body; a trickle gets ``408``.
    ``header_timeout``: seconds to send the request line and headers (enforced by ``unspun serve``).
    ``request_timeout``: seconds a request's checking may take once it has left the queue (the wait
    is bounded by ``queue_wait``); else ``504``.
    ``max_drain_bytes``: a refused request's body (``413``, ``401``, ``503``) is read and dropped up
    to this many bytes before the answer, so that a client which sends its whole body before
    reading (urllib, requests) gets the answer instead of a reset connection; a longer declared
    body is answered at once. Default 16 x ``max_body_bytes``.
    ``max_batch``: articles in one ``/v1/check/batch`` request.
    ``batch_size``: articles the worker hands to the detector in one call (requests are merged).
    ``allow_private_urls``: fetch ``{"url": ...}`` from loopback, private, link-local and other
    non-public addresses too (refused by default: a server must not be a way into its own network).
    ``url_fetches_per_minute``: URL fetches one client (address) may ask for a minute; 0 turns
    fetching off. ``fetch_timeout``, ``fetch_max_bytes``: limits of one fetch;
    ``fetch_concurrency``: fetches under way at once.
    """

    max_body_bytes: int = 1_000_000
    max_batch: int = 32
    max_pending: int = 64
    batch_size: int = 16
    workers: int = 1
    body_timeout: float = 10.0
    header_timeout: float = 10.0
    request_timeout: float = 30.0
    queue_wait: float | None = 90.0
    max_drain_bytes: int | None = None
    retry_after: int = 2
    api_keys: frozenset[str] = field(default_factory=frozenset)
    allow_private_urls: bool = False
    url_fetches_per_minute: int = 30
    fetch_timeout: float = 15.0
    fetch_max_bytes: int = 5_000_000
    fetch_concurrency: int = 8

    @property
    def drain_limit(self) -> int:
        if self.max_drain_bytes is not None:
            return self.max_drain_bytes
        return 16 * self.max_body_bytes

    @staticmethod
    def keys_from_env(environ: dict[str, str] | None = None) -> frozenset[str]:
        """API keys from ``UNSPUN_API_KEYS`` (comma or whitespace separated); empty = no auth."""
        raw = (environ if environ is not None else os.environ).get(API_KEYS_ENV, "")
        return frozenset(key for key in raw.replace(",", " ").split() if key)

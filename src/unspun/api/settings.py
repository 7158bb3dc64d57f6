"""Service limits of the HTTP API: body size, queue depth, time limits and API keys."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

API_KEYS_ENV = "UNSPUN_API_KEYS"


@dataclass(frozen=True)
class ServiceSettings:
    """Everything that bounds what one server process accepts; the defaults suit a newsroom LAN.

    ``max_pending``: requests admitted to the checking routes at once (queued or running); one more
    gets ``503`` with ``Retry-After`` before its body is read, so memory stays bounded by
    ``max_pending x max_body_bytes``.
    ``body_timeout``: seconds a client has to send its whole body; a trickle gets ``408``.
    ``header_timeout``: seconds to send the request line and headers (enforced by ``unspun serve``).
    ``request_timeout``: seconds from a full body to a response, queue wait included; else ``504``.
    ``max_queue_wait``: refuse (503) a request that the measured speed says would wait longer than
    this in the queue; default half of ``request_timeout``, so overload shows as 503, not 504.
    ``max_batch``: articles in one ``/v1/check/batch`` request.
    ``batch_size``: articles the worker hands to the detector in one call (requests are merged).
    """

    max_body_bytes: int = 1_000_000
    max_batch: int = 32
    max_pending: int = 256
    batch_size: int = 16
    workers: int = 1
    body_timeout: float = 10.0
    header_timeout: float = 10.0
    request_timeout: float = 30.0
    max_queue_wait: float | None = None
    retry_after: int = 2
    api_keys: frozenset[str] = field(default_factory=frozenset)

    @property
    def queue_wait_limit(self) -> float:
        return self.max_queue_wait if self.max_queue_wait is not None else self.request_timeout / 2

    @staticmethod
    def keys_from_env(environ: dict[str, str] | None = None) -> frozenset[str]:
        """API keys from ``UNSPUN_API_KEYS`` (comma or whitespace separated); empty = no auth."""
        raw = (environ if environ is not None else os.environ).get(API_KEYS_ENV, "")
        return frozenset(key for key in raw.replace(",", " ").split() if key)

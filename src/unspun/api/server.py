"""Running the app under uvicorn, with a limit on how long a client may take to send its headers."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from unspun.api.guard import error_body
from unspun.api.settings import ServiceSettings


def _timeout_response() -> bytes:
    body = error_body("header_timeout", "the request headers did not arrive in time")
    return (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
    )


def guarded_protocol(header_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol, plus: a request whose line and headers trickle in for longer than
    ``header_timeout`` seconds is answered 408 and the connection closed (uvicorn itself waits
    forever, which lets a few slow clients hold many connections)."""

    class HeaderTimeoutH11(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def data_received(self, data: bytes) -> None:
            between_requests = self.cycle is None or self.cycle.response_complete
            if self._header_timer is None and between_requests:
                self._header_timer = self.loop.call_later(
                    header_timeout, self._headers_too_slow, self.cycle
                )
            super().data_received(data)
            if self._header_timer is not None and not (
                self.cycle is None or self.cycle.response_complete
            ):
                # A request started: its headers are complete; the body has its own limit.
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self, cycle_at_start: Any) -> None:
            self._header_timer = None
            if self.cycle is cycle_at_start and not self.transport.is_closing():
                self.transport.write(_timeout_response())
                self.transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None
            super().connection_lost(exc)

    return HeaderTimeoutH11


def build_server(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: ServiceSettings | None = None,
    log_level: str = "info",
    access_log: bool = False,
    max_connections: int | None = None,
) -> uvicorn.Server:
    """A uvicorn server for ``app``; call ``.run()`` (blocking) or ``.serve()`` (async)."""
    settings = settings or ServiceSettings()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=guarded_protocol(settings.header_timeout),
        lifespan="on",
        log_level=log_level,
        access_log=access_log,
        timeout_keep_alive=5,
        limit_concurrency=max_connections,
        server_header=False,
        proxy_headers=False,
    )
    return uvicorn.Server(config)

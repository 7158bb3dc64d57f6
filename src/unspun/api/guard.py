"""The outer ASGI layer every request passes: API keys, admission to the work queue, body size and
body time limits, the per-request time limit, and security headers. Errors leave as JSON, and a
refused request's body is read and dropped (within bounds) first, so clients receive them."""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from unspun.api.queue import Admission
from unspun.api.settings import ServiceSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Routes that put work on the queue: admitted (or refused with 503) before their body is read.
QUEUED_ROUTES = frozenset({"/v1/check", "/v1/check/batch", "/v1/trace"})
# Open without an API key: liveness probes and the static page (which asks for a key itself).
OPEN_API_ROUTES = frozenset({"/v1/health"})

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        b"frame-ancestors 'none'",
    ),
]


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


async def send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    *,
    headers: list[tuple[bytes, bytes]] | None = None,
    close: bool = False,
) -> None:
    body = error_body(code, message)
    all_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *SECURITY_HEADERS,
        *(headers or []),
    ]
    if close:
        all_headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    def __init__(self, received: int, complete: bool) -> None:
        super().__init__(received)
        self.received = received  # bytes read so far
        self.complete = complete  # whether that was the whole body


class _ClientGone(Exception):
    pass


class ServiceGuard:
    """Pure ASGI middleware (no per-request objects beyond the buffered body, at most the limit)."""

    def __init__(self, app: ASGIApp, settings: ServiceSettings, admission: Admission) -> None:
        self.app = app
        self.settings = settings
        self.admission = admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        send = self._with_security_headers(send)

        needs_key = path.startswith("/v1/") and path not in OPEN_API_ROUTES
        if needs_key and not self._authorised(headers):
            await self._refuse(
                receive,
                send,
                headers,
                401,
                "unauthorised",
                "this server needs an API key: send it as 'Authorization: Bearer KEY' "
                "or 'X-API-Key: KEY'",
                headers=[(b"www-authenticate", b'Bearer realm="unspun"')],
            )
            return

        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await send_error(send, 400, "bad_request", "Content-Length is not a number")
                return
            if length > self.settings.max_body_bytes:
                await self._refuse(
                    receive, send, headers, 413, "too_large", self._too_large_message(), close=True
                )
                return

        queued = scope.get("method") == "POST" and path in QUEUED_ROUTES
        if queued and not self.admission.try_enter():
            await self._refuse(
                receive,
                send,
                headers,
                503,
                "overloaded",
                f"the server is busy (its queue is full: {self.admission.pending} requests); "
                "retry shortly",
                headers=[(b"retry-after", str(self.settings.retry_after).encode())],
                close=True,
            )
            return
        try:
            await self._handle(scope, receive, send, headers, buffer_body=queued)
        finally:
            if queued:
                self.admission.leave()

    async def _refuse(
        self,
        receive: Receive,
        send: Send,
        request_headers: dict[bytes, bytes],
        status: int,
        code: str,
        message: str,
        *,
        headers: list[tuple[bytes, bytes]] | None = None,
        close: bool = False,
    ) -> None:
        """Answer an error before the app sees the request, reading and dropping its body first.

        Closing a connection whose body has not been read makes the kernel reset it, and clients
        that send the whole body before reading (urllib, requests) then report a broken pipe or a
        reset instead of this answer. So the rest of the body is drained, at most
        ``drain_limit`` bytes within ``body_timeout`` seconds; past those bounds (or when the
        client waits for ``100 Continue``) the answer goes out at once and the connection closes.
        """
        drained = await self._drain(receive, request_headers)
        await send_error(send, status, code, message, headers=headers, close=close or not drained)

    async def _drain(
        self, receive: Receive, request_headers: dict[bytes, bytes], received: int = 0
    ) -> bool:
        """Read and drop the rest of the request body; True when all of it was read."""
        declared = request_headers.get(b"content-length")
        chunked = b"transfer-encoding" in request_headers
        if declared is None and not chunked:
            return True  # no body
        expects_continue = request_headers.get(b"expect", b"").lower() == b"100-continue"
        if expects_continue and received == 0:
            return False  # the client sends nothing until told to; reading would tell it to
        limit = self.settings.drain_limit
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                return False
            if length == 0:
                return True
            if length > limit:
                return False
        try:
            async with asyncio.timeout(self.settings.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return False
                    received += len(message.get("body", b""))
                    if received > limit:
                        return False
                    if not message.get("more_body", False):
                        return True
        except TimeoutError:
            return False

    def _time_limit(self, queued: bool) -> float | None:
        """Seconds a request may take once its body is in. The queue bounds a queued request's
        wait and its checking separately (503 / 504); this is the outer bound on both."""
        if not queued:
            return self.settings.request_timeout
        if self.settings.queue_wait is None:
            return None
        return self.settings.queue_wait + self.settings.request_timeout

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        request_headers: dict[bytes, bytes],
        *,
        buffer_body: bool,
    ) -> None:
        # Only admitted requests have their body read here (bounded by admission x size limit);
        # any other route with a body answers 404/405 without reading it.
        if buffer_body:
            try:
                async with asyncio.timeout(self.settings.body_timeout):
                    body = await self._read_body(receive)
            except TimeoutError:
                await send_error(
                    send,
                    408,
                    "body_timeout",
                    f"the request body did not arrive within {self.settings.body_timeout:g} s",
                    close=True,
                )
                return
            except _BodyTooLarge as too_large:
                # A chunked body (or one longer than it said) past the limit: drop the rest too.
                if not too_large.complete:
                    await self._drain(receive, request_headers, too_large.received)
                await send_error(send, 413, "too_large", self._too_large_message(), close=True)
                return
            except _ClientGone:
                return
            receive = _replay(body, receive)

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        limit = self._time_limit(buffer_body)
        try:
            async with asyncio.timeout(limit):
                await self.app(scope, receive, tracking_send)
        except TimeoutError:
            if not started:
                await send_error(
                    send, 504, "timeout", f"the request took longer than the {limit:g} s limit"
                )

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.settings.max_body_bytes:
                raise _BodyTooLarge(size, complete=not message.get("more_body", False))
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _authorised(self, headers: dict[bytes, bytes]) -> bool:
        keys = self.settings.api_keys
        if not keys:
            return True
        offered = headers.get(b"x-api-key", b"").decode("latin-1").strip()
        authorization = headers.get(b"authorization", b"").decode("latin-1").strip()
        if not offered and authorization.lower().startswith("bearer "):
            offered = authorization[7:].strip()
        if not offered:
            return False
        # Compare against every key in constant time so timing does not reveal a near match.
        matched = False
        for key in keys:
            matched |= hmac.compare_digest(offered.encode(), key.encode())
        return matched

    def _too_large_message(self) -> str:
        return f"the request body is over the {self.settings.max_body_bytes:,}-byte limit"

    @staticmethod
    def _with_security_headers(send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return wrapped


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the buffered body over once, then passes on the real messages."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay

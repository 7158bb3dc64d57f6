"""The outer ASGI layer every request passes: API keys, admission to the work queue, body size and
body time limits, the per-request time limit, and security headers. Errors leave as JSON."""

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
    pass


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
            await send_error(
                send,
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
                await send_error(send, 413, "too_large", self._too_large_message(), close=True)
                return

        queued = scope.get("method") == "POST" and path in QUEUED_ROUTES
        if queued and not self.admission.try_enter():
            await send_error(
                send,
                503,
                "overloaded",
                f"the server is busy ({self.admission.pending} requests queued); retry shortly",
                headers=[(b"retry-after", str(self.settings.retry_after).encode())],
                close=True,
            )
            return
        try:
            await self._handle(scope, receive, send, buffer_body=queued)
        finally:
            if queued:
                self.admission.leave()

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, *, buffer_body: bool
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
            except _BodyTooLarge:
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

        try:
            async with asyncio.timeout(self.settings.request_timeout):
                await self.app(scope, receive, tracking_send)
        except TimeoutError:
            if not started:
                await send_error(
                    send,
                    504,
                    "timeout",
                    f"checking took longer than the {self.settings.request_timeout:g} s limit",
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
                raise _BodyTooLarge
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

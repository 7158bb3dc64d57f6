"""Every failure the API answers leaves as one JSON body, ``{"error": {"code", "message"}}``:
the status-to-code table, the documented error responses and the handlers that produce them."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from unspun.api.schemas import ErrorResponse
from unspun.api.settings import ServiceSettings
from unspun.errors import RateLimited, UnspunError

log = logging.getLogger("unspun.api")

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        401: "missing or wrong API key",
        408: "the body did not arrive in time",
        413: "the body is over the size limit",
        422: "invalid input, with a readable message; a URL the server refuses to fetch "
        "(url_refused) or that is not an HTML or text page (fetch_not_html)",
        429: "too many URL fetches from this client (with Retry-After)",
        502: "the page at the given URL could not be fetched (fetch_failed, host_not_found, "
        "fetch_http_error, fetch_too_large, fetch_redirect)",
        503: "queue full, or not started within the queue wait (both with Retry-After); or a "
        "model/index unavailable",
        504: "checking took longer than the time limit after the request left the queue; or "
        "the page at the given URL did not arrive in time (fetch_timeout)",
    }.items()
}

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorised",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def validation_message(exc: RequestValidationError) -> str:
    """Pydantic's error list as one readable line: 'articles[0].text: Input should be a string'."""
    parts = []
    for error in exc.errors()[:3]:
        location = ""
        for item in error.get("loc", ()):
            if item == "body":
                continue
            location += f"[{item}]" if isinstance(item, int) else (f".{item}" if location else item)
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        if error.get("type") == "json_invalid":
            message = "the body is not valid JSON"
            location = ""
        elif error.get("type") == "missing" and not location:
            message = "a JSON object body is required"
        parts.append(f"{location}: {message}" if location else message)
    more = len(exc.errors()) - len(parts)
    line = "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
    return " ".join(line.split())[:500]


def add_error_handlers(api: FastAPI, settings: ServiceSettings) -> None:
    """Map unspun's errors, validation errors, HTTP errors and anything unexpected to JSON."""

    @api.exception_handler(UnspunError)
    async def _unspun_error(_: Request, exc: UnspunError):
        headers = {"Retry-After": str(settings.retry_after)} if exc.http_status == 503 else None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
        return error_response(exc.http_status, exc.code, " ".join(str(exc).split()), headers)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError):
        return error_response(422, "invalid_input", validation_message(exc))

    @api.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException):
        code = STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, message, dict(exc.headers or {}) or None)

    @api.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        log.exception("unexpected error while answering a request")
        return error_response(
            500, "internal", f"internal error ({type(exc).__name__}); see the server log"
        )

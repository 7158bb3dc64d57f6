"""The FastAPI application: routes for checking, tracing and health, the static page, and the
mapping of every failure to a JSON ``{"error": {"code", "message"}}`` body."""

from __future__ import annotations

import importlib.resources
import logging
import re
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from unspun.api.guard import ServiceGuard
from unspun.api.queue import Admission, CheckQueue
from unspun.api.schemas import (
    ArticleRequest,
    BatchRequest,
    DetectorEntry,
    DetectorsResponse,
    ErrorResponse,
    HealthResponse,
    LoadedDetector,
    QueueState,
    Report,
    TraceRequest,
    TraceResponse,
)
from unspun.api.settings import ServiceSettings
from unspun.article.model import Article
from unspun.errors import BinaryInput, ConfigError, UnspunError
from unspun.pipeline import Checker
from unspun.report import ArticleInfo

log = logging.getLogger("unspun.api")

# The page and its assets, loaded once: requests choose among these names and never build a path,
# so no request can reach any other file.
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        401: "missing or wrong API key",
        408: "the body did not arrive in time",
        413: "the body is over the size limit",
        422: "invalid input, with a readable message",
        503: "queue full (with Retry-After) or a model/index unavailable",
        504: "over the per-request time limit",
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
}


def _load_static() -> dict[str, tuple[bytes, str]]:
    assets: dict[str, tuple[bytes, str]] = {}
    folder = importlib.resources.files("unspun.api") / "static"
    for entry in folder.iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
        if entry.is_file() and suffix in STATIC_TYPES:
            assets[entry.name] = (entry.read_bytes(), STATIC_TYPES[suffix])
    return assets


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None):
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def _validation_message(exc: RequestValidationError) -> str:
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


def article_from_request(request: ArticleRequest) -> Article:
    """Parse the request's text or HTML with the same parsers as ``unspun check``."""
    from unspun.article.record import parse_record
    from unspun.article.text import parse_text

    fields = {
        name: _clean_text(getattr(request, name)) for name in ("title", "author", "url", "date")
    }
    if request.text is not None:
        text = _clean_text(request.text) or ""
        _refuse_binary(text)
        return parse_text(text, **fields)
    html = _clean_text(request.html) or ""
    _refuse_binary(html)
    # parse_record lets stated fields win over what was guessed from the page, and recomputes the
    # byline signals for a stated author.
    return parse_record({"html": html, **fields}, where="the request")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean_text(value: str | None) -> str | None:
    # JSON may escape a lone surrogate ("\\ud800") that pydantic lets through inside a longer
    # string; it cannot be written back out as UTF-8, so it becomes U+FFFD (one character for one,
    # which keeps every offset in the report valid).
    return None if value is None else _SURROGATE.sub("\ufffd", value)


def _refuse_binary(text: str) -> None:
    sample = text[:200_000]
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    if sample and control / len(sample) > 0.01:
        raise BinaryInput("the input is full of control characters; it looks binary, not text")


def create_app(
    checker: Checker,
    settings: ServiceSettings | None = None,
    *,
    available: dict[str, str] | None = None,
) -> ServiceGuard:
    """The ASGI app serving ``checker``, already loaded (models load once, before any request).

    ``available``: registry names -> descriptions for ``GET /v1/detectors`` (default: registry).
    The returned object is the guarded ASGI app; the FastAPI app is its ``.app`` and the work queue
    its ``.queue``.
    """
    from unspun import __version__

    settings = settings or ServiceSettings()
    queue = CheckQueue(checker, batch_size=settings.batch_size, workers=settings.workers)
    admission = Admission(settings.max_pending, queue=queue, max_wait=settings.queue_wait_limit)
    static = _load_static()
    calibrated = checker.calibration is not None

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        queue.close()

    api = FastAPI(
        title="unspun",
        version=__version__,
        summary="Check news articles for machine writing and trace them to their sources.",
        description=(
            "Every answer about an article is the same JSON report as `unspun check --format json` "
            '(schema `unspun.report/1`). Errors are `{"error": {"code", "message"}}`. '
            "The server never fetches URLs given to it."
        ),
        docs_url=None,  # FastAPI's own /docs loads from a CDN; ours is served from the package
        redoc_url=None,
        lifespan=lifespan,
    )

    @api.exception_handler(UnspunError)
    async def _unspun_error(_: Request, exc: UnspunError):
        headers = {"Retry-After": str(settings.retry_after)} if exc.http_status == 503 else None
        return _error(exc.http_status, exc.code, " ".join(str(exc).split()), headers)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError):
        return _error(422, "invalid_input", _validation_message(exc))

    @api.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException):
        code = STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return _error(exc.status_code, code, message, dict(exc.headers or {}) or None)

    @api.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        log.exception("unexpected error while answering a request")
        return _error(500, "internal", f"internal error ({type(exc).__name__}); see the server log")

    async def _articles(requests: list[ArticleRequest]) -> list[Article]:
        articles = []
        for position, item in enumerate(requests):
            try:
                articles.append(await queue.run_cpu(article_from_request, item))
            except UnspunError as exc:
                if len(requests) > 1:
                    exc.message = f"articles[{position}]: {exc.message}"
                    exc.args = (exc.message,)
                raise
        return articles

    @api.post(
        "/v1/check",
        tags=["check"],
        response_model=Report,
        responses=ERROR_RESPONSES,
        summary="Check one article",
    )
    async def check(request: ArticleRequest) -> JSONResponse:
        """The JSON report of one article, exactly as `unspun check --format json` writes it."""
        articles = await _articles([request])
        reports = await queue.check(articles)
        return JSONResponse(reports[0])

    @api.post(
        "/v1/check/batch",
        tags=["check"],
        response_model=list[Report],
        responses=ERROR_RESPONSES,
        summary="Check several articles",
    )
    async def check_batch(request: BatchRequest) -> JSONResponse:
        """A list of reports, in the order of `articles` (at most the server's batch limit)."""
        if len(request.articles) > settings.max_batch:
            raise ConfigError(
                f"articles: at most {settings.max_batch} articles per batch request, "
                f"got {len(request.articles)}"
            )
        articles = await _articles(request.articles)
        return JSONResponse(await queue.check(articles))

    @api.post(
        "/v1/trace",
        tags=["trace"],
        response_model=TraceResponse,
        responses={
            **ERROR_RESPONSES,
            501: {"model": ErrorResponse, "description": "no index configured"},
        },
        summary="Trace an article to its sources",
    )
    async def trace(request: TraceRequest) -> JSONResponse:
        """Candidate sources and the claims checked against them (needs `unspun serve --index`)."""
        if checker.provenance is None:
            return _error(
                501,
                "no_index",
                "this server has no source index; start it with `unspun serve --index LOCATION`",
            )
        article = (await _articles([request]))[0]
        result = await queue.run_model(_trace, checker, article, request.top)
        return JSONResponse(result)

    @api.get("/v1/detectors", tags=["service"], response_model=DetectorsResponse)
    async def detectors() -> DetectorsResponse:
        """The detector this server uses and the ones `unspun serve --detector` can load."""
        names = available
        if names is None:
            from unspun.detect.base import available_detectors

            names = await queue.run_cpu(available_detectors)
        return DetectorsResponse(
            loaded=LoadedDetector(
                name=checker.detector.name,
                version=checker.detector.version,
                calibrated=calibrated,
                target_fpr=checker.config.target_fpr,
            ),
            available=[DetectorEntry(name=n, description=d) for n, d in names.items()],
        )

    @api.get("/v1/health", tags=["service"], response_model=HealthResponse)
    async def health() -> HealthResponse:
        """Liveness and load; answers even while the queue is full (needs no API key)."""
        return HealthResponse(
            status="ok",
            version=__version__,
            detector=checker.detector.name,
            calibrated=calibrated,
            index=checker.provenance is not None,
            auth=bool(settings.api_keys),
            queue=QueueState(pending=admission.pending, capacity=admission.capacity),
            limits={
                "max_body_bytes": settings.max_body_bytes,
                "max_batch": settings.max_batch,
                "request_timeout_s": settings.request_timeout,
            },
        )

    def _asset(name: str) -> Response:
        content, media_type = static[name]
        return Response(content, media_type=media_type, headers={"Cache-Control": "no-cache"})

    @api.get("/", include_in_schema=False)
    async def page() -> Response:
        return _asset("index.html")

    @api.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return _asset("docs.html")

    @api.get("/static/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name not in static:
            return _error(404, "not_found", "no such file")
        return _asset(name)

    guarded = ServiceGuard(api, settings, admission)
    guarded.queue = queue  # type: ignore[attr-defined]
    return guarded


def _trace(checker: Checker, article: Article, top: int) -> dict[str, Any]:
    """Sources and claims of one article, on a worker thread. Uses the same ``annotate`` step as a
    full check (so the answer matches a report's ``sources`` and ``claims``), without detection."""
    found = SimpleNamespace(sources=None, claims=None)
    checker.provenance.annotate(article, found, top=top)  # type: ignore[union-attr]
    answer = TraceResponse(
        article=ArticleInfo(
            title=article.title,
            author=article.author,
            date=article.date,
            url=article.url,
            site=article.site,
            body=article.body,
        ),
        sources=found.sources or [],
        claims=found.claims,
    )
    return answer.model_dump(mode="json")

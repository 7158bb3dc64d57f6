"""The FastAPI application, assembled: settings, the loaded state, error handlers, the routers
(``unspun.api.routes``) and the outer guard. Routes reach the state through
``unspun.api.dependencies``."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from unspun.api.articles import article_from_request
from unspun.api.dependencies import ServiceState
from unspun.api.errors import add_error_handlers
from unspun.api.fetching import UrlFetcher
from unspun.api.guard import ServiceGuard
from unspun.api.queue import Admission, CheckQueue
from unspun.api.routes import check, pages, service, trace
from unspun.api.settings import ServiceSettings
from unspun.pipeline import Checker

__all__ = ["article_from_request", "create_app"]


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
    queue = CheckQueue(
        checker,
        batch_size=settings.batch_size,
        workers=settings.workers,
        max_wait=settings.queue_wait,
        run_timeout=settings.request_timeout,
    )
    admission = Admission(settings.max_pending)

    url_fetcher = UrlFetcher(settings) if settings.url_fetches_per_minute > 0 else None

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        queue.close()
        if url_fetcher is not None:
            url_fetcher.close()

    api = FastAPI(
        title="unspun",
        version=__version__,
        summary="Check news articles for machine writing and trace them to their sources.",
        description=(
            "Every answer about an article is the same JSON report as `unspun check --format json` "
            '(schema `unspun.report/2`). Errors are `{"error": {"code", "message"}}`. '
            "An article given only by its `url` is fetched by the server (public addresses only, "
            "unless it was started with `--allow-private-urls`; rate-limited per client); a `url` "
            "next to `text` or `html` is only recorded."
        ),
        docs_url=None,  # FastAPI's own /docs loads from a CDN; ours is served from the package
        redoc_url=None,
        lifespan=lifespan,
    )
    api.state.service = ServiceState(
        checker=checker,
        settings=settings,
        queue=queue,
        admission=admission,
        static=pages.load_static(),
        available=available,
        url_fetcher=url_fetcher,
    )
    add_error_handlers(api, settings)
    for router in (check.router, trace.router, service.router, pages.router):
        api.include_router(router)

    guarded = ServiceGuard(api, settings, admission)
    guarded.queue = queue  # type: ignore[attr-defined]
    return guarded

"""``POST /v1/check`` and ``POST /v1/check/batch``: the JSON report of each article."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from unspun.api.articles import parse_articles
from unspun.api.dependencies import LoadedChecker, Queue, Settings
from unspun.api.errors import ERROR_RESPONSES
from unspun.api.schemas import ArticleRequest, BatchRequest, Report
from unspun.errors import ConfigError

router = APIRouter(tags=["check"], responses=ERROR_RESPONSES)


@router.post("/v1/check", response_model=Report, summary="Check one article")
async def check(request: ArticleRequest, checker: LoadedChecker, queue: Queue) -> JSONResponse:
    """The JSON report of one article, exactly as `unspun check --format json` writes it."""
    articles = await parse_articles(queue, [request])
    reports = await queue.check(articles, checker=checker)
    return JSONResponse(reports[0])


@router.post("/v1/check/batch", response_model=list[Report], summary="Check several articles")
async def check_batch(
    request: BatchRequest, checker: LoadedChecker, queue: Queue, settings: Settings
) -> JSONResponse:
    """A list of reports, in the order of `articles` (at most the server's batch limit)."""
    if len(request.articles) > settings.max_batch:
        raise ConfigError(
            f"articles: at most {settings.max_batch} articles per batch request, "
            f"got {len(request.articles)}"
        )
    articles = await parse_articles(queue, request.articles)
    return JSONResponse(await queue.check(articles, checker=checker))

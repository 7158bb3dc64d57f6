"""``POST /v1/trace``: an article's candidate sources and its claims checked against them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from unspun.api.articles import parse_articles
from unspun.api.dependencies import Fetcher, LoadedChecker, Queue, client_of
from unspun.api.errors import ERROR_RESPONSES, error_response
from unspun.api.schemas import ErrorResponse, TraceRequest, TraceResponse
from unspun.article.model import Article
from unspun.pipeline import Checker, article_info

router = APIRouter(tags=["trace"])


@router.post(
    "/v1/trace",
    response_model=TraceResponse,
    responses={
        **ERROR_RESPONSES,
        501: {"model": ErrorResponse, "description": "no index configured"},
    },
    summary="Trace an article to its sources",
)
async def trace(
    request: TraceRequest, http: Request, checker: LoadedChecker, queue: Queue, fetcher: Fetcher
) -> JSONResponse:
    """Candidate sources and the claims checked against them (needs `unspun serve --index`)."""
    if checker.provenance is None:
        return error_response(
            501,
            "no_index",
            "this server has no source index; start it with `unspun serve --index LOCATION`",
        )
    articles, _ = await parse_articles(queue, [request], fetcher=fetcher, client=client_of(http))
    article = articles[0]
    result = await queue.run_model(trace_article, checker, article, request.top)
    return JSONResponse(result)


def trace_article(checker: Checker, article: Article, top: int) -> dict[str, Any]:
    """Sources and claims of one article, on a worker thread. Uses the same ``annotate`` step as a
    full check (so the answer matches a report's ``sources`` and ``claims``), without detection."""
    found = SimpleNamespace(sources=None, claims=None)
    checker.provenance.annotate(article, found, top=top)  # type: ignore[union-attr]
    answer = TraceResponse(
        article=article_info(article),
        sources=found.sources or [],
        claims=found.claims,
    )
    return answer.model_dump(mode="json")

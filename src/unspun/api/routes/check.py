"""``POST /v1/check`` and ``POST /v1/check/batch``: the JSON report of each article."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from unspun.api.articles import parse_articles
from unspun.api.dependencies import Fetcher, LoadedChecker, Queue, Settings, client_of
from unspun.api.errors import ERROR_RESPONSES
from unspun.api.schemas import ArticleRequest, BatchRequest, Report
from unspun.errors import ConfigError
from unspun.report import SCHEMA, SCHEMA_V1, report_v1

router = APIRouter(tags=["check"], responses=ERROR_RESPONSES)

# Clients written against unspun.report/1 ask for it with ?schema=unspun.report/1 and get the
# human percentile under its old names and the verdict 'human' for 'not_flagged'.
ReportSchema = Annotated[
    Literal["unspun.report/2", "unspun.report/1"],
    Query(
        alias="schema",
        description=f"the report version to answer in: {SCHEMA} (default) or {SCHEMA_V1} for "
        "clients written against it",
    ),
]


def _in_schema(reports: list[dict], schema: str) -> list[dict]:
    return [report_v1(report) for report in reports] if schema == SCHEMA_V1 else reports


def _with_fetch(reports: list[dict], fetched: list[dict | None]) -> list[dict]:
    for report, info in zip(reports, fetched, strict=True):
        if info is not None:
            report["fetch"] = info
    return reports


@router.post("/v1/check", response_model=Report, summary="Check one article")
async def check(
    request: ArticleRequest,
    http: Request,
    checker: LoadedChecker,
    queue: Queue,
    fetcher: Fetcher,
    schema: ReportSchema = SCHEMA,
) -> JSONResponse:
    """The JSON report of one article, exactly as `unspun check --format json` writes it. With
    only a `url`, the server fetches the page first (the report's `fetch` says what it got)."""
    articles, fetched = await parse_articles(
        queue, [request], fetcher=fetcher, client=client_of(http)
    )
    reports = _with_fetch(await queue.check(articles, checker=checker), fetched)
    return JSONResponse(_in_schema(reports, schema)[0])


@router.post("/v1/check/batch", response_model=list[Report], summary="Check several articles")
async def check_batch(
    request: BatchRequest,
    http: Request,
    checker: LoadedChecker,
    queue: Queue,
    settings: Settings,
    fetcher: Fetcher,
    schema: ReportSchema = SCHEMA,
) -> JSONResponse:
    """A list of reports, in the order of `articles` (at most the server's batch limit)."""
    if len(request.articles) > settings.max_batch:
        raise ConfigError(
            f"articles: at most {settings.max_batch} articles per batch request, "
            f"got {len(request.articles)}"
        )
    articles, fetched = await parse_articles(
        queue, request.articles, fetcher=fetcher, client=client_of(http)
    )
    reports = _with_fetch(await queue.check(articles, checker=checker), fetched)
    return JSONResponse(_in_schema(reports, schema))

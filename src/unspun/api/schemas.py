"""Request and response models of the HTTP API: the typed models are its validation and its docs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from unspun.report import ArticleInfo, ClaimInfo, Report, SourceInfo

__all__ = [
    "ArticleRequest",
    "BatchRequest",
    "DetectorEntry",
    "DetectorsResponse",
    "ErrorBody",
    "ErrorResponse",
    "HealthResponse",
    "Report",
    "TraceRequest",
    "TraceResponse",
]


class ArticleRequest(BaseModel):
    """One article: its ``text`` (plain text, paragraphs separated by blank lines), its ``html``
    (a saved page; the article is extracted from it), or only its ``url``, which the server then
    fetches (http and https only; loopback, private, link-local and metadata addresses refused
    unless the server runs with ``--allow-private-urls``; rate-limited per client). With ``text``
    or ``html``, ``url`` is only recorded in the report, never fetched."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "text": "Council approves budget\n\nThe council voted 7-2 on Monday...",
                    "title": "Council approves budget",
                },
                {"url": "https://news.example/2024/05/01/council-budget"},
            ]
        },
    )

    text: str | None = Field(None, description="article as plain text")
    html: str | None = Field(None, description="article as an HTML page")
    title: str | None = Field(None, max_length=1_000, description="headline, if known")
    author: str | None = Field(None, max_length=1_000)
    url: str | None = Field(
        None,
        max_length=4_096,
        description="the article's address: fetched when it is the only body field (no text or "
        "html), else recorded only",
    )
    date: str | None = Field(None, max_length=100, description="publication date, e.g. 2024-05-01")

    @model_validator(mode="after")
    def _one_body(self) -> ArticleRequest:
        if self.text is not None and self.html is not None:
            raise ValueError("give exactly one of 'text' or 'html'")
        if self.text is None and self.html is None and not (self.url or "").strip():
            raise ValueError(
                "give exactly one of 'text' or 'html' (or only a 'url' for the server to fetch)"
            )
        return self

    @property
    def fetches(self) -> bool:
        """Whether the server fetches ``url`` (no text or html given)."""
        return self.text is None and self.html is None


class BatchRequest(BaseModel):
    """Several articles checked together; the answer is a list of reports in the same order."""

    model_config = ConfigDict(extra="forbid")

    articles: list[ArticleRequest] = Field(min_length=1, description="articles to check")


class TraceRequest(ArticleRequest):
    """An article to trace to its likely sources in the configured index."""

    top: int = Field(5, ge=1, le=50, description="how many candidate sources to return")


class TraceResponse(BaseModel):
    """Candidate sources, best first, and the article's claims labelled against them; claim
    offsets index into ``article.body``."""

    article: ArticleInfo
    sources: list[SourceInfo]
    claims: list[ClaimInfo] | None


class ErrorBody(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. 'too_large'")
    message: str = Field(description="one line in plain English")


class ErrorResponse(BaseModel):
    """Every error answer has this shape, whatever the status code."""

    error: ErrorBody


class DetectorEntry(BaseModel):
    name: str
    description: str


class LoadedDetector(BaseModel):
    name: str
    version: str
    calibrated: bool
    target_fpr: float


class DetectorsResponse(BaseModel):
    loaded: LoadedDetector = Field(description="the detector this server checks with")
    available: list[DetectorEntry] = Field(description="detectors `unspun serve --detector` knows")


class QueueState(BaseModel):
    pending: int = Field(description="checking requests admitted now (queued or running)")
    capacity: int = Field(description="admitted requests beyond which the server answers 503")
    waiting: int = Field(0, description="articles on the queue that the detector has not started")


class HealthResponse(BaseModel):
    status: Literal["ok"]
    version: str
    detector: str
    calibrated: bool
    index: bool = Field(description="whether /v1/trace is available")
    auth: bool = Field(description="whether /v1/* needs an API key")
    queue: QueueState
    limits: dict[str, Any]

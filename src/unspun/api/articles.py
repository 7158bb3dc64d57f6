"""Request bodies to articles, with the same parsers as ``unspun check``; light CPU work that the
routes run off the event loop."""

from __future__ import annotations

import re

from unspun.api.fetching import UrlFetcher
from unspun.api.queue import CheckQueue
from unspun.api.schemas import ArticleRequest
from unspun.article.model import Article
from unspun.errors import BinaryInput, ConfigError, UnspunError

_SURROGATE = re.compile("[\ud800-\udfff]")


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


async def parse_articles(
    queue: CheckQueue,
    requests: list[ArticleRequest],
    *,
    fetcher: UrlFetcher | None = None,
    client: str = "",
) -> tuple[list[Article], list[dict | None]]:
    """Articles of ``requests`` in order, and for each one fetched from its ``url`` what was
    fetched (the report's ``fetch``); in a batch, an error names the article it came from."""
    wanted = sum(1 for item in requests if item.fetches)
    if wanted:
        if fetcher is None:
            raise ConfigError("this server does not fetch URLs; send 'text' or 'html'")
        fetcher.admit(client, wanted)  # the whole request's fetches, before any starts
    articles: list[Article] = []
    fetched: list[dict | None] = []
    for position, item in enumerate(requests):
        try:
            if item.fetches:
                assert fetcher is not None and item.url is not None
                article, page = await fetcher.fetch(item.url.strip())
                _state_fields(article, item)
                articles.append(article)
                fetched.append(page.info())
            else:
                articles.append(await queue.run_cpu(article_from_request, item))
                fetched.append(None)
        except UnspunError as exc:
            if len(requests) > 1:
                exc.message = f"articles[{position}]: {exc.message}"
                exc.args = (exc.message,)
            raise
    return articles, fetched


def _state_fields(article: Article, request: ArticleRequest) -> None:
    """Stated title, author and date win over what the fetched page says, as for html."""
    for name in ("title", "author", "date"):
        value = _clean_text(getattr(request, name))
        if value and value.strip():
            setattr(article, name, value.strip())


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

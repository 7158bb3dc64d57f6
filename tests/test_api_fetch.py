"""``{"url": ...}`` on the HTTP API: the server fetches a URL given alone (and only then), refuses
loopback and other non-public addresses unless started with ``--allow-private-urls``, answers fetch
failures as JSON errors with their own codes, and limits fetches per client."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from web_site import news_site, publish_listings

from unspun.api.app import create_app
from unspun.api.settings import ServiceSettings
from unspun.pipeline import CheckConfig, Checker

TEXT = (
    "The council met on Monday to discuss the budget for the coming year. " * 4
    + "\n\n"
    + "Residents asked for new benches and better lighting in the park. " * 4
)


@pytest.fixture(scope="module")
def site():
    site = news_site(slow=2.0, huge_bytes=300_000)
    with site.running():
        publish_listings(site)
        yield site


@pytest.fixture
def checker(plain_detector) -> Checker:
    return Checker(CheckConfig(detector="mean-word-length"), detector=plain_detector)


def post(app: Any, route: str, body: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://unspun.test") as client:
            return await client.post(route, json=body)

    return asyncio.run(go())


def error_of(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert "\n" not in body["error"]["message"]
    return body["error"]


def test_a_loopback_url_is_refused_by_default_and_fetched_when_allowed(site, checker):
    page = site.url("/news/1.html")
    site.clear()
    refused = create_app(checker)
    for url, reason in (
        (page, "127.0.0.1 is a loopback address"),
        (site.url("/news/1.html", host="localhost"), "localhost resolves to"),
        ("file:///etc/passwd", "only http and https URLs"),
        ("gopher://127.0.0.1/", "only http and https URLs"),
    ):
        error = error_of(post(refused, "/v1/check", {"url": url}), 422)
        assert error["code"] == "url_refused" and reason in error["message"]
        assert "--allow-private-urls" in error["message"] or "only http" in error["message"]
    assert site.requested() == []  # refused before any connection

    allowed = create_app(checker, ServiceSettings(allow_private_urls=True))
    response = post(allowed, "/v1/check", {"url": page})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["article"]["url"] == page and report["article"]["date"] == "2024-05-01"
    assert report["article"]["title"] == "Council approves budget"
    assert report["fetch"]["final_url"] == page and report["fetch"]["status"] == 200
    assert site.fetched() == ["/news/1.html"]
    # The same request in the old schema carries it too.
    old = post(allowed, "/v1/check?schema=unspun.report/1", {"url": page}).json()
    assert old["schema"] == "unspun.report/1" and old["fetch"]["final_url"] == page


def test_url_next_to_text_is_recorded_never_fetched(site, checker):
    app = create_app(checker, ServiceSettings(allow_private_urls=True))
    site.clear()
    url = site.url("/news/2.html")
    response = post(app, "/v1/check", {"text": TEXT, "url": url})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["article"]["url"] == url and report["fetch"] is None
    assert site.requested() == []


def test_fetch_failures_are_json_errors_with_their_codes(site, checker):
    app = create_app(checker, ServiceSettings(allow_private_urls=True, fetch_timeout=0.5))
    for path, status, code, message in (
        ("/news/missing.html", 502, "fetch_http_error", "HTTP 404 Not Found"),
        ("/files/report.pdf", 422, "fetch_not_html", "not an HTML or text page"),
        ("/news/loop-a.html", 502, "fetch_redirect", "redirect loop"),
        ("/news/slow.html", 504, "fetch_timeout", "no answer within 0.5 s"),
    ):
        error = error_of(post(app, "/v1/check", {"url": site.url(path)}), status)
        assert error["code"] == code and message in error["message"]


def test_batches_fetch_and_name_the_article_that_failed(site, checker):
    app = create_app(checker, ServiceSettings(allow_private_urls=True))
    good = site.url("/news/3.html")
    response = post(app, "/v1/check/batch", {"articles": [{"url": good}, {"text": TEXT}]})
    assert response.status_code == 200, response.text
    first, second = response.json()
    assert first["fetch"]["final_url"] == good and second["fetch"] is None
    bad = {"articles": [{"text": TEXT}, {"url": site.url("/news/missing.html")}]}
    error = error_of(post(app, "/v1/check/batch", bad), 502)
    assert error["message"].startswith("articles[1]: HTTP 404")


def test_fetches_are_rate_limited_per_client(site, checker):
    app = create_app(checker, ServiceSettings(allow_private_urls=True, url_fetches_per_minute=2))
    url = site.url("/news/4.html")
    for _ in range(2):
        assert post(app, "/v1/check", {"url": url}).status_code == 200
    response = post(app, "/v1/check", {"url": url})
    error = error_of(response, 429)
    assert error["code"] == "rate_limited" and "at most 2 a minute" in error["message"]
    assert int(response.headers["retry-after"]) >= 1
    # Text is not a fetch: still served.
    assert post(app, "/v1/check", {"text": TEXT}).status_code == 200

    off = create_app(checker, ServiceSettings(url_fetches_per_minute=0))
    error = error_of(post(off, "/v1/check", {"url": url}), 422)
    assert "does not fetch URLs" in error["message"]

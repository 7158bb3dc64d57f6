"""The HTTP API through httpx against the real app: reports, validation, limits, auth, errors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from conftest import MeanWordLengthDetector

from unspun.api.app import create_app
from unspun.api.settings import ServiceSettings
from unspun.article.text import parse_text
from unspun.pipeline import CheckConfig, Checker

ARTICLE = (
    "Council approves new budget after long debate\n\n"
    "The city council voted seven to two on Monday night to approve a budget that raises "
    "spending on road repairs and school buses while holding property taxes flat for a third "
    "year in a row.\n\n"
    "Supporters said the plan keeps promises made to residents during the spring listening "
    "sessions. Opponents argued that the reserve fund would fall below the level recommended "
    "by the state auditor, leaving the city exposed if a recession arrives.\n\n"
    "The mayor is expected to sign the budget later this week, and the new spending begins in July."
)

HTML = (
    "<!doctype html><html><head><title>Storm closes harbour</title></head><body>"
    "<nav>Home | News | Sport</nav><article><h1>Storm closes harbour</h1>"
    "<p>A winter storm forced the harbour master to close the port on Tuesday morning, stranding "
    "two ferries and a dozen fishing boats that had been due to leave before dawn.</p>"
    "<p>Crews spent the afternoon securing moorings and clearing debris from the quay, and the "
    "harbour is expected to reopen once the wind drops below gale force on Wednesday.</p>"
    "<p>Local businesses said the closure would cost them a day of trade, but most agreed that "
    "safety had to come first when the waves were breaking over the sea wall.</p>"
    "</article><footer>Copyright 2024</footer></body></html>"
)


@pytest.fixture
def checker(plain_detector) -> Checker:
    return Checker(CheckConfig(detector="mean-word-length"), detector=plain_detector)


def call(app: Any, method: str, url: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://unspun.test") as client:
            return await client.request(method, url, **kwargs)

    return asyncio.run(go())


def assert_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    message = body["error"]["message"]
    assert message and "\n" not in message and "Traceback" not in message
    return message


def test_check_returns_the_same_report_as_the_library(checker):
    app = create_app(checker)
    response = call(app, "POST", "/v1/check", json={"text": ARTICLE, "author": "Jo Reporter"})
    assert response.status_code == 200, response.text
    report = response.json()
    expected = checker.check(parse_text(ARTICLE, author="Jo Reporter")).to_json_dict()
    assert report == json.loads(json.dumps(expected))
    assert report["schema"] == "unspun.report/2"
    assert report["verdict"] in {"machine", "not_flagged", "uncertain"}
    assert report["article"]["author"] == "Jo Reporter"
    assert report["passages"], "passages are scored"
    assert all(0.0 <= p["score"] <= 1.0 for p in report["passages"])


def test_old_clients_get_the_version_1_report_when_they_ask_for_it(checker):
    app = create_app(checker)
    current = call(app, "POST", "/v1/check", json={"text": ARTICLE}).json()
    old = call(app, "POST", "/v1/check?schema=unspun.report/1", json={"text": ARTICLE}).json()
    assert old["schema"] == "unspun.report/1" and "human_percentile" not in old
    assert old["machine_probability"] == old["human_share_below"] == current["human_percentile"]
    assert old["verdict"] == {"not_flagged": "human"}.get(current["verdict"], current["verdict"])
    assert {k: v for k, v in old.items() if k not in V1_ONLY} == {
        k: v for k, v in current.items() if k not in ("schema", "verdict", "human_percentile")
    }
    one = {"articles": [{"text": ARTICLE}]}
    batch = call(app, "POST", "/v1/check/batch?schema=unspun.report/1", json=one).json()
    assert batch == [old]
    assert_error(
        call(app, "POST", "/v1/check?schema=unspun.report/9", json={"text": ARTICLE}),
        422,
        "invalid_input",
    )


V1_ONLY = ("schema", "verdict", "machine_probability", "human_share_below")


def test_html_article_is_extracted_and_caller_metadata_wins(checker):
    app = create_app(checker)
    response = call(
        app,
        "POST",
        "/v1/check",
        json={"html": HTML, "date": "2024-01-09", "url": "http://x.test/a"},
    )
    assert response.status_code == 200, response.text
    article = response.json()["article"]
    assert "winter storm" in article["body"]
    assert "Home | News" not in article["body"]
    assert article["date"] == "2024-01-09"
    assert article["url"] == "http://x.test/a"


def test_batch_returns_reports_in_order(checker):
    app = create_app(checker)
    texts = [ARTICLE, ARTICLE.replace("budget", "plan"), ARTICLE.replace("council", "board")]
    response = call(app, "POST", "/v1/check/batch", json={"articles": [{"text": t} for t in texts]})
    assert response.status_code == 200, response.text
    reports = response.json()
    assert isinstance(reports, list) and len(reports) == 3
    assert [r["article"]["body"][:40] for r in reports] == [
        checker.check(parse_text(t)).article.body[:40] for t in texts
    ]


def test_batch_limits_and_bad_members(checker):
    app = create_app(checker, ServiceSettings(max_batch=2))
    too_many = {"articles": [{"text": ARTICLE}] * 3}
    assert "at most 2" in assert_error(
        call(app, "POST", "/v1/check/batch", json=too_many), 422, "bad_config"
    )
    assert_error(call(app, "POST", "/v1/check/batch", json={"articles": []}), 422, "invalid_input")
    one_empty = {"articles": [{"text": ARTICLE}, {"text": "   \n  "}]}
    message = assert_error(call(app, "POST", "/v1/check/batch", json=one_empty), 422, "empty_input")
    assert message.startswith("articles[1]:")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"text": ARTICLE, "html": HTML}, "exactly one of 'text' or 'html'"),
        ({}, "exactly one of 'text' or 'html'"),
        ({"text": 5}, "text: Input should be a valid string"),
        ({"text": ARTICLE, "colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"text": ARTICLE, "title": "x" * 2000}, "title:"),
        ([1, 2, 3], "Input should be a valid dictionary"),
    ],
)
def test_invalid_requests_get_readable_422(checker, body, needle):
    app = create_app(checker)
    message = assert_error(call(app, "POST", "/v1/check", json=body), 422, "invalid_input")
    assert needle in message


def test_malformed_json_and_empty_body_get_422(checker):
    app = create_app(checker)
    headers = {"content-type": "application/json"}
    message = assert_error(
        call(app, "POST", "/v1/check", content=b'{"text": "unterminated', headers=headers),
        422,
        "invalid_input",
    )
    assert "not valid JSON" in message
    assert_error(call(app, "POST", "/v1/check", content=b"", headers=headers), 422, "invalid_input")


def test_empty_and_binary_text_are_refused_with_their_codes(checker):
    app = create_app(checker)
    assert_error(call(app, "POST", "/v1/check", json={"text": "  \n\t "}), 422, "empty_input")
    binary = "".join(chr(i % 32) for i in range(2000))
    assert_error(call(app, "POST", "/v1/check", json={"text": binary}), 422, "binary_input")
    assert_error(call(app, "POST", "/v1/check", json={"html": "no tags"}), 422, "malformed_input")


def test_lone_surrogates_do_not_break_the_answer(checker):
    # JSON may escape a lone surrogate, which cannot be written back as UTF-8.
    app = create_app(checker)
    headers = {"content-type": "application/json"}
    raw = '{"text": "' + ARTICLE.replace("\n", "\\n") + ' \\ud800 end"}'
    response = call(app, "POST", "/v1/check", content=raw.encode(), headers=headers)
    assert response.status_code == 200, response.text
    assert "\ufffd end" in response.json()["article"]["body"]
    raw = '{"text": "' + ARTICLE.replace("\n", "\\n") + '", "title": "\\udfff"}'
    response = call(app, "POST", "/v1/check", content=raw.encode(), headers=headers)
    assert "title: Input should be a valid string" in assert_error(response, 422, "invalid_input")


def test_oversized_body_gets_413_with_or_without_content_length(checker):
    app = create_app(checker, ServiceSettings(max_body_bytes=20_000))
    big = {"text": ARTICLE * 50}
    assert_error(call(app, "POST", "/v1/check", json=big), 413, "too_large")

    async def chunks():
        for _ in range(30):
            yield b"x" * 1_000

    assert_error(call(app, "POST", "/v1/check", content=chunks()), 413, "too_large")


def test_unknown_routes_and_methods_answer_json(checker):
    app = create_app(checker)
    assert_error(call(app, "GET", "/v1/nothing-here"), 404, "not_found")
    assert_error(call(app, "GET", "/v1/check"), 405, "method_not_allowed")


def test_api_keys(checker):
    app = create_app(checker, ServiceSettings(api_keys=frozenset({"s3cret-key", "other"})))
    body = {"text": ARTICLE}
    response = call(app, "POST", "/v1/check", json=body)
    assert "API key" in assert_error(response, 401, "unauthorised")
    assert response.headers["www-authenticate"].startswith("Bearer")
    for headers in (
        {"x-api-key": "wrong"},
        {"authorization": "Bearer s3cret-ke"},
        {"authorization": "Basic s3cret-key"},
        {"x-api-key": ""},
    ):
        assert_error(
            call(app, "POST", "/v1/check", json=body, headers=headers), 401, "unauthorised"
        )
    assert_error(call(app, "GET", "/v1/detectors"), 401, "unauthorised")
    ok = call(app, "POST", "/v1/check", json=body, headers={"authorization": "Bearer s3cret-key"})
    assert ok.status_code == 200
    ok = call(app, "POST", "/v1/check", json=body, headers={"x-api-key": "other"})
    assert ok.status_code == 200
    # Probes and the page stay open; the page asks for the key itself.
    health = call(app, "GET", "/v1/health")
    assert health.status_code == 200 and health.json()["auth"] is True
    assert call(app, "GET", "/").status_code == 200


def test_api_keys_from_environment():
    keys = ServiceSettings.keys_from_env({"UNSPUN_API_KEYS": " a1, b2  c3,,"})
    assert keys == frozenset({"a1", "b2", "c3"})
    assert ServiceSettings.keys_from_env({}) == frozenset()


def test_trace_without_index_is_a_json_501(checker):
    app = create_app(checker)
    message = assert_error(call(app, "POST", "/v1/trace", json={"text": ARTICLE}), 501, "no_index")
    assert "--index" in message


def test_health_and_detectors(checker):
    app = create_app(checker, available={"mean-word-length": "test detector"})
    health = call(app, "GET", "/v1/health").json()
    assert health["status"] == "ok" and health["detector"] == "mean-word-length"
    assert health["calibrated"] is True and health["index"] is False
    assert health["queue"]["pending"] == 0 and health["queue"]["capacity"] == 64
    detectors = call(app, "GET", "/v1/detectors").json()
    assert detectors["loaded"]["name"] == "mean-word-length"
    assert detectors["available"] == [{"name": "mean-word-length", "description": "test detector"}]


def test_openapi_and_docs_are_served_without_a_cdn(checker):
    app = create_app(checker)
    spec = call(app, "GET", "/openapi.json").json()
    assert {"/v1/check", "/v1/check/batch", "/v1/trace", "/v1/detectors", "/v1/health"} <= set(
        spec["paths"]
    )
    assert "ArticleRequest" in spec["components"]["schemas"]
    docs = call(app, "GET", "/docs")
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    assert "http://" not in docs.text and "https://" not in docs.text


def test_page_and_assets_are_self_contained(checker):
    app = create_app(checker)
    page = call(app, "GET", "/")
    assert page.status_code == 200 and "<textarea" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    for asset, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        response = call(app, "GET", f"/static/{asset}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
        assert "https://" not in response.text and "http://" not in response.text.replace(
            "http://127.0.0.1", ""
        )


class ShortWordDetector(MeanWordLengthDetector):
    """A second real detector with the opposite reading: short words score high."""

    name = "short-words"
    version = "test-2"

    @staticmethod
    def _mean_length(text: str) -> float:
        words = text.split()
        return 10.0 - sum(len(w) for w in words) / len(words) if words else 0.0


def test_the_checker_is_a_dependency_a_test_can_swap(checker):
    from unspun.api.dependencies import get_checker

    app = create_app(checker)
    other = Checker(
        CheckConfig(detector="short-words", target_fpr=0.05), detector=ShortWordDetector()
    )
    app.app.dependency_overrides[get_checker] = lambda: other
    report = call(app, "POST", "/v1/check", json={"text": ARTICLE}).json()
    assert report["detector"]["name"] == "short-words" and report["target_fpr"] == 0.05
    assert report == json.loads(json.dumps(other.check(parse_text(ARTICLE)).to_json_dict()))
    batch = call(app, "POST", "/v1/check/batch", json={"articles": [{"text": ARTICLE}] * 2})
    assert [r["detector"]["version"] for r in batch.json()] == ["test-2", "test-2"]
    assert call(app, "GET", "/v1/health").json()["detector"] == "short-words"
    # Without the override the loaded checker answers again.
    app.app.dependency_overrides.clear()
    report = call(app, "POST", "/v1/check", json={"text": ARTICLE}).json()
    assert report["detector"]["name"] == "mean-word-length"

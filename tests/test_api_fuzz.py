"""Arbitrary JSON against the request models: every answer is a report or a clean JSON error."""

from __future__ import annotations

import asyncio
import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unspun.api.app import create_app
from unspun.pipeline import CheckConfig, Checker

FIELDS = ["text", "html", "title", "author", "url", "date", "articles", "top"]
SENTENCE = "The committee met on Tuesday and agreed to publish the report next month. "

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.just(SENTENCE * 12),
    st.just("<html><body><p>" + SENTENCE * 6 + "</p></body></html>"),
)
keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=8))
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=5),
    ),
    max_leaves=12,
)
# Bodies shaped like real requests, with wrong types and extra keys mixed in.
article_like = st.fixed_dictionaries(
    {},
    optional={name: json_values for name in ("text", "html", "title", "url", "top")},
)
bodies = st.one_of(
    json_values,
    article_like,
    st.fixed_dictionaries({"articles": st.lists(st.one_of(article_like, json_values), max_size=4)}),
)


def _post_all(app, route: str, payload: bytes) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://unspun.test") as client:
            return await client.post(
                route, content=payload, headers={"content-type": "application/json"}
            )

    return asyncio.run(go())


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=bodies,
    route=st.sampled_from(["/v1/check", "/v1/check/batch", "/v1/trace"]),
)
def test_any_json_body_gets_a_report_or_a_clean_error(plain_detector, body, route):
    app = create_app(Checker(CheckConfig(), detector=plain_detector))
    response = _post_all(app, route, json.dumps(body).encode())
    assert response.headers["content-type"].startswith("application/json")
    answer = response.json()
    if response.status_code == 200:
        reports = answer if route.endswith("batch") else [answer]
        assert all(r["schema"] == "unspun.report/2" for r in reports)
        return
    assert response.status_code in {413, 422, 501}, (response.status_code, answer)
    assert set(answer) == {"error"}
    assert isinstance(answer["error"]["message"], str) and answer["error"]["message"]
    assert "\n" not in answer["error"]["message"]

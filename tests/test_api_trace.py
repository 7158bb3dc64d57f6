"""`/v1/trace` and sources in reports, against a real SQLite index of the example corpus."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from unspun.api.app import create_app
from unspun.pipeline import CheckConfig, Checker

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "examples" / "reference-corpus.jsonl"
EXAMPLE = REPO / "examples" / "spun-article.txt"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> str:
    if not (CORPUS.is_file() and EXAMPLE.is_file()):
        pytest.skip("examples/reference-corpus.jsonl or spun-article.txt is not present")
    from unspun.provenance import SourceIndex
    from unspun.provenance.records import read_sources

    location = str(tmp_path_factory.mktemp("index") / "sources")
    index = SourceIndex(location, create=True)
    index.add(read_sources(CORPUS))
    index.close()
    return location


def post(app, url: str, body: dict) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://unspun.test") as client:
            return await client.post(url, json=body, timeout=120)

    return asyncio.run(go())


def test_trace_and_check_name_the_source(index_dir, plain_detector):
    checker = Checker(CheckConfig(index=index_dir), detector=plain_detector)
    app = create_app(checker)
    text = EXAMPLE.read_text(encoding="utf-8")

    traced = post(app, "/v1/trace", {"text": text, "top": 3})
    assert traced.status_code == 200, traced.text
    answer = traced.json()
    assert 1 <= len(answer["sources"]) <= 3
    assert answer["sources"][0]["id"] == "velmora-port-strike"
    assert answer["sources"][0]["reason"]
    assert answer["claims"], "the article's claims are labelled"
    body = answer["article"]["body"]
    for claim in answer["claims"]:
        assert claim["status"] in {"supported", "unsupported", "contradicted", "not_checkable"}
        assert body[claim["start"] : claim["end"]] == claim["text"]
    # "15 container ships" where the source says 12: the spun figure is not supported.
    ships = [c for c in answer["claims"] if "15 container ships" in c["text"]]
    assert ships and ships[0]["status"] in {"contradicted", "unsupported"}

    report = post(app, "/v1/check", {"text": text}).json()
    assert report["sources"][0]["id"] == "velmora-port-strike"
    assert report["claims"] == answer["claims"]

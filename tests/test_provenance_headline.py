"""Headline tracing: an article that kept one story's headline over a body about another story
traces to the headline's story (real MiniLM encoder, the project's reference corpus); an index
built before headline vectors were stored still traces the same way; an older re-ranker file
without a headline stage still loads."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from unspun.provenance import SourceIndex
from unspun.provenance.headline import FEATURE_KEY, lead_of, pack, unpack
from unspun.provenance.records import read_sources
from unspun.provenance.rerank import Reranker, load_reranker, shipped_path
from unspun.provenance.trace import Tracer

CORPUS = Path(__file__).resolve().parent.parent / "examples" / "reference-corpus.jsonl"
# A content farm's page: the museum theft story's headline, lightly reworded, over a body that
# retells the port strike (its figures, names and quotes), as when a farm pastes a headline onto
# whatever its generator wrote.
KEPT_TITLE = "Two navigation instruments stolen from the Castelreno maritime museum"
STRIKE_BODY = (
    "Dock workers at the port of Velmora walked out on Tuesday, and a dozen container ships were "
    "left waiting at anchor beyond the harbour walls. Some 340 members of the Velmora Harbour "
    "Workers' Union joined the stoppage over night-shift pay, which the union says has not "
    "risen since 2021. The port authority offered a 4 percent rise and said talks could resume "
    "on Thursday, while perishable cargo was sent on to Castelreno along the coast."
)


@pytest.fixture(scope="module")
def encoder():
    from unspun.models.encoder import load_sentence_encoder

    return load_sentence_encoder()


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory, encoder) -> str:
    location = str(tmp_path_factory.mktemp("headline") / "reference")
    index = SourceIndex(location, create=True, encoder=encoder)
    index.add(read_sources(CORPUS))
    index.close()
    return location


def _top(location: str, encoder, title: str | None, **kwargs) -> list:  # noqa: ANN001
    tracer = Tracer(SourceIndex(location, encoder=encoder), **kwargs)
    return tracer.trace(title, STRIKE_BODY, top=3)


def test_kept_headline_wins_over_a_body_about_another_story(corpus_index, encoder):
    body_only = _top(corpus_index, encoder, None)
    assert body_only[0].stored.doc.id == "velmora-port-strike"  # the body alone points elsewhere
    assert body_only[0].as_dict()["headline_similarity"] is None

    ranked = _top(corpus_index, encoder, KEPT_TITLE)
    best = ranked[0]
    assert best.stored.doc.id == "castelreno-museum-theft"
    assert best.as_dict()["headline_similarity"] > 0.8
    assert "headline similarity" in best.reason
    strike = next(c for c in ranked if c.stored.doc.id == "velmora-port-strike")
    assert strike.parts["headline_cosine"] < 0.5


def test_kept_headline_as_sub_headline_also_counts(corpus_index, encoder):
    tracer = Tracer(SourceIndex(corpus_index, encoder=encoder))
    ranked = tracer.trace(
        "You won't believe what happened next", STRIKE_BODY, subtitle=KEPT_TITLE, top=1
    )
    assert ranked[0].stored.doc.id == "castelreno-museum-theft"


def test_hand_weights_also_weigh_the_headline(corpus_index, encoder):
    ranked = _top(corpus_index, encoder, KEPT_TITLE, hand_weights=True)
    assert ranked[0].stored.doc.id == "castelreno-museum-theft"


def test_index_without_stored_headline_vectors_traces_the_same(tmp_path, corpus_index, encoder):
    # An index built before headline vectors were stored: drop them from every article.
    index = SourceIndex(corpus_index, encoder=encoder)
    prepared = [p for batch in index.store.iter_prepared() for p in batch]
    index.close()
    assert all(unpack(p.features[FEATURE_KEY]) is not None for p in prepared)
    old = tmp_path / "old"
    old_index = SourceIndex(str(old), create=True, encoder=encoder)
    for p in prepared:
        p.features.pop(FEATURE_KEY)
    old_index.add_prepared(prepared)
    old_index.close()
    with sqlite3.connect(old / "index.sqlite") as db:
        stored = [json.loads(f) for (f,) in db.execute("SELECT features FROM docs")]
    assert stored and all(FEATURE_KEY not in f for f in stored)

    new_ranked = _top(corpus_index, encoder, KEPT_TITLE)
    old_ranked = _top(str(old), encoder, KEPT_TITLE)
    assert [c.stored.doc.id for c in old_ranked] == [c.stored.doc.id for c in new_ranked]
    for a, b in zip(old_ranked, new_ranked, strict=True):
        # float16 storage changes a cosine by well under 0.01
        assert a.parts["headline_cosine"] == pytest.approx(b.parts["headline_cosine"], abs=0.01)


def test_packed_vectors_round_trip_and_bad_text_is_none():
    vectors = np.random.default_rng(1).normal(size=(2, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    back = unpack(pack(vectors))
    assert back is not None and back.shape == (2, 384)
    assert np.abs(back - vectors).max() < 1e-3
    assert unpack("not base64!") is None and unpack("") is None


def test_lead_is_the_first_sentence():
    assert lead_of("Mr. Smith won the vote. Then he left.") == "Mr. Smith won the vote."
    assert lead_of("   ") == ""


def test_shipped_reranker_has_a_headline_stage_and_old_files_still_load(tmp_path):
    shipped = load_reranker()
    assert shipped is not None and shipped.headline is not None
    data = json.loads(shipped_path().read_text(encoding="utf-8"))
    data.pop("headline")
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data), encoding="utf-8")
    loaded = load_reranker(old)
    assert isinstance(loaded, Reranker) and loaded.headline is None
    data["headline"] = {"features": ["logit"], "means": [0], "scales": [1], "coef": [1]}
    old.write_text(json.dumps(data), encoding="utf-8")
    assert load_reranker(old) is None  # malformed: tracing falls back to the hand-set weights

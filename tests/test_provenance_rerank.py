"""The learned trace re-ranker: the shipped weights load and rank a true source above a close
distractor in a small index built here (real MiniLM encoder), and a broken weights file falls back
to the hand-set weights instead of failing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from unspun.provenance import SourceDoc, SourceIndex
from unspun.provenance.rerank import FEATURES, Reranker, load_reranker, shipped_path
from unspun.provenance.trace import Tracer, hand_score

SOURCE = SourceDoc(
    id="harbour-ferry",
    title="Kestrel Bay council approves electric ferry for the harbour crossing",
    text=(
        "Kestrel Bay's harbour council voted 7-2 on Tuesday to replace the diesel ferry on the "
        "Ostrander crossing with a battery-electric vessel, a switch expected to cost 14 million "
        "pounds. Council leader Imogen Varley said the ferry, which carries about 3,200 "
        "passengers a day, would be built at the Tamsin Reach yard and enter service in 2027. "
        "Opponents argued the charging station at Pell Quay would overload the local grid. "
        "The harbour authority said fares would not rise for at least three years."
    ),
)
DISTRACTOR = SourceDoc(
    id="harbour-budget",
    title="Kestrel Bay council delays harbour budget vote",
    text=(
        "Kestrel Bay's council postponed its vote on the harbour budget after members asked for "
        "more detail on dredging costs. The finance committee will meet again next month. A "
        "spokesperson for the harbour authority said routine maintenance of the quays and the "
        "lighthouse would continue in the meantime, and that no services would be cut. Local "
        "fishermen welcomed the delay, saying the plan had been drawn up without them."
    ),
)
OTHERS = [
    SourceDoc(
        id="orchard-festival",
        text=(
            "The Brindle Valley apple festival returned this weekend with cider presses, a "
            "pie contest and a parade of vintage tractors through the village green. Organisers "
            "said more than 4,000 visitors came, twice last year's number."
        ),
    ),
    SourceDoc(
        id="chess-final",
        text=(
            "Grandmaster Oleksandra Penn won the national chess final in a tense rapid playoff, "
            "defending with black against a kingside attack before converting a rook endgame. "
            "It is her third title in five years."
        ),
    ),
]
# How a machine continuation of the source reads once the words it shares with the source's
# opening are removed: same story, different words, some names and figures kept.
CONTINUATION = (
    "battery-powered boat will take over the Ostrander route. Varley told reporters the vessel, "
    "to be built at Tamsin Reach, should start carrying passengers in 2027 and that the 14 "
    "million pound cost would be shared with the national transport fund. Critics on the council "
    "warned that the Pell Quay charger could strain the grid, while the harbour authority promised "
    "to hold fares for three years."
)


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> SourceIndex:
    from unspun.models.encoder import load_sentence_encoder

    location = str(tmp_path_factory.mktemp("rerank") / "index")
    index = SourceIndex(location, create=True, encoder=load_sentence_encoder())
    assert index.add([SOURCE, DISTRACTOR, *OTHERS]).added == 4
    yield index
    index.close()


def test_shipped_reranker_loads_and_matches_the_features():
    data = json.loads(shipped_path().read_text(encoding="utf-8"))
    assert data["features"] == FEATURES
    reranker = load_reranker()
    assert isinstance(reranker, Reranker) and reranker.version
    # Never texts in the shipped file: a handful of numbers per feature and a few labels.
    assert shipped_path().stat().st_size < 8000


def test_learned_reranker_ranks_the_source_above_a_close_distractor(index):
    tracer = Tracer(index)
    assert tracer.reranker is not None
    candidates = tracer.trace(None, CONTINUATION, top=3)
    ids = [c.stored.doc.id for c in candidates]
    assert ids[0] == "harbour-ferry" and "harbour-budget" in ids
    best, distractor = candidates[0], candidates[ids.index("harbour-budget")]
    assert 0.0 <= distractor.score < best.score <= 1.0
    assert best.score > 0.5 > distractor.score
    # The reported score is the model's, not the hand-weighted one; the reasons stay the same.
    assert best.score != pytest.approx(hand_score(best.parts))
    assert "shared entities" in best.reason and "meaning similarity" in best.reason


def test_features_are_finite_and_named(index):
    tracer = Tracer(index)
    stored, parts, x = tracer.candidates(tracer.prepare(None, CONTINUATION))
    assert x.shape == (len(stored), len(FEATURES)) and np.isfinite(x).all()
    row = x[[d.doc.id for d in stored].index("harbour-ferry")]
    # The source is the best candidate on cosine, so its gap to the best is zero.
    assert row[FEATURES.index("cosine_gap")] == 0.0
    assert 0.0 < row[FEATURES.index("opening_in_query")] <= 1.0


@pytest.mark.parametrize(
    "content",
    [
        "not json at all {",
        "\x00\x01binary",
        json.dumps({"format": "something/else"}),
        json.dumps({"format": "unspun.reranker/1", "features": ["cosine"], "means": [0]}),
        None,  # missing file
    ],
)
def test_broken_weights_fall_back_to_the_hand_weights(index, tmp_path, content):
    path = tmp_path / "reranker.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert load_reranker(path) is None
    tracer = Tracer(index, reranker=path)
    assert tracer.reranker is None
    candidates = tracer.trace(None, CONTINUATION, top=3)
    assert candidates[0].stored.doc.id == "harbour-ferry"
    assert all(c.score == pytest.approx(hand_score(c.parts)) for c in candidates)


def test_non_finite_or_non_positive_weights_are_rejected():
    good = load_reranker()
    assert good is not None
    data = good.as_json()
    for key, bad in (("scales", 0.0), ("coef", float("nan")), ("means", float("inf"))):
        broken = json.loads(json.dumps(data))
        broken[key][0] = bad
        with pytest.raises(ValueError):
            Reranker.from_json(broken)
    assert Reranker.from_json(data).score(np.zeros((1, len(FEATURES)))).shape == (1,)

"""Learned re-ranking of trace candidates: one feature vector per candidate and a logistic model
(weights shipped in ``unspun/data/reranker.json``, made by benchmarks/train_reranker.py).

Every feature is computed from what tracing already has in memory (retriever scores and ranks,
stored facts, the candidate's text), so re-ranking costs a few milliseconds per query. Features
that compare a candidate with the other candidates of the same query (gap to the best cosine, ...)
let a pointwise model rank within a query.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from unspun.provenance.facts import zipf

FORMAT = "unspun.reranker/1"
# Words of a candidate's start compared with the query: a machine continuation, or a rewrite
# that keeps the lead, is about what its source opens with.
OPENING_WORDS = 60
_WORD = re.compile(r"[a-z0-9]+")

FEATURES = [
    "cosine",  # query vs. candidate search vector
    "cosine_gap",  # cosine minus the best cosine among this query's candidates
    "cosine_rank",  # log(1 + position in the vector hits); absent -> past the last
    "bm25",  # BM25 score / best BM25 score of the query
    "bm25_rank",  # log(1 + position in the BM25 hits); absent -> past the last
    "bm25_vs_mean",  # BM25 score / mean score of the BM25 hits
    "both",  # found by both retrievers
    "entities",  # the hand score's entity part (share + figures + quotes)
    "n_entities",  # log(1 + shared entities)
    "n_values",  # log(1 + shared figures)
    "n_quotes",  # log(1 + identical quotes)
    "shingles",  # MinHash estimate of shared word 3-grams
    "headline",  # same headline
    "terms_in_text",  # rarity-weighted share of the query's rare terms found in the candidate
    "terms_in_text_gap",  # ... minus the best of the query's candidates
    "terms_in_opening",  # rarity-weighted share of the query's rare terms in the candidate's start
    "opening_in_query",  # rarity-weighted share of the candidate's start words found in the query
    "opening_in_query_gap",  # ... minus the best of the query's candidates
    "entities_in_opening",  # share of the query's entities named in the candidate's start
]
# The headline stage, for an article with a title or sub-headline: the re-ranker's logit for the
# body, and how closely the headline matches the candidate's title or lead (headline.py).
HEADLINE_FEATURES = [
    "logit",  # the body re-ranker's logit, clipped to +-15: how sure the body alone is
    "logit_gap",  # the body re-ranker's logit minus the query's best, floored at -15
    "headline_cosine",  # best cosine of a query headline with the candidate's title or lead
    "headline_match",  # the cosine past 0.5, scaled to 0..1 at 0.9: "the same headline"
    "headline_match_lead",  # ... minus the best match among the query's other candidates
    "headline_words",  # rarity-weighted share of a query headline's words in the title + lead
    "headline_words_match",  # the share past 0.5, scaled to 0..1 at 0.9
    "headline_words_match_lead",  # ... minus the best among the query's other candidates
]
# A headline says which story it is only when it matches one candidate much better than the rest:
# an invented clickbait title still reaches a cosine of ~0.45 with some indexed title by chance,
# while a kept or lightly reworded headline reaches 0.85-1.0 (benchmarks/headline_trace.py), so
# the match features count only what lies past 0.5. A linear model over the raw cosine had to
# choose between following kept headlines and ignoring empty ones (train_reranker.py --headline).
MATCH_FROM, MATCH_WIDTH = 0.5, 0.4
LOGIT_FLOOR = -15.0


def rarity(word: str) -> float:
    """How much a shared word says: 0 for the commonest English words, more the rarer it is."""
    return max(0.0, 6.0 - zipf(word)) if len(word) > 2 else 0.0


@lru_cache(maxsize=4096)
def _weighted(words: frozenset[str]) -> tuple[tuple[str, float], ...]:
    return tuple((w, r) for w in words if (r := rarity(w)) > 0)


def share(ours: frozenset[str], theirs: set[str] | frozenset[str]) -> float:
    """Rarity-weighted share of ``ours`` found in ``theirs``."""
    weighted = _weighted(ours)
    total = sum(r for _, r in weighted)
    return sum(r for w, r in weighted if w in theirs) / total if total else 0.0


@dataclass
class Retrieval:
    """What the retrievers answered for one query: positions and scores by candidate key."""

    cosines: dict[int, float]
    cosine_rank: dict[int, int]
    bm25: dict[int, float]  # raw scores
    bm25_rank: dict[int, int]
    vector_limit: int
    text_limit: int


def feature_matrix(
    query_words: set[str],
    query_terms: list[str],
    query_entities: set[str],
    keys: list[int],
    texts: list[str],
    parts: list[dict[str, float]],
    retrieval: Retrieval,
) -> np.ndarray:
    """One row of FEATURES per candidate (in ``keys`` order)."""
    n = len(keys)
    x = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if n == 0:
        return x
    col = {name: i for i, name in enumerate(FEATURES)}
    bm25_values = list(retrieval.bm25.values())
    best_bm25 = max(bm25_values, default=0.0) or 1.0
    mean_bm25 = (sum(bm25_values) / len(bm25_values)) if bm25_values else 1.0
    terms = frozenset(query_terms)
    entity_words = [e.rsplit(" ", 1)[-1] for e in query_entities]
    for i, (key, text, p) in enumerate(zip(keys, texts, parts, strict=True)):
        row = x[i]
        row[col["cosine"]] = p["semantic"]
        row[col["cosine_rank"]] = math.log1p(retrieval.cosine_rank.get(key, retrieval.vector_limit))
        raw = retrieval.bm25.get(key)
        row[col["bm25"]] = (raw or 0.0) / best_bm25
        row[col["bm25_rank"]] = math.log1p(retrieval.bm25_rank.get(key, retrieval.text_limit))
        row[col["bm25_vs_mean"]] = (raw or 0.0) / (mean_bm25 or 1.0)
        row[col["both"]] = float(raw is not None and key in retrieval.cosine_rank)
        row[col["entities"]] = p["entities"]
        row[col["n_entities"]] = math.log1p(p["n_entities"])
        row[col["n_values"]] = math.log1p(p["n_values"])
        row[col["n_quotes"]] = math.log1p(p["n_quotes"])
        row[col["shingles"]] = p["shingles"]
        row[col["headline"]] = p["headline"]
        tokens = _WORD.findall(text.lower())
        opening = frozenset(tokens[:OPENING_WORDS])
        row[col["terms_in_text"]] = share(terms, set(tokens))
        row[col["terms_in_opening"]] = share(terms, opening)
        row[col["opening_in_query"]] = share(opening, query_words)
        row[col["entities_in_opening"]] = (
            sum(w in opening for w in entity_words) / len(entity_words) if entity_words else 0.0
        )
    for name, source in (
        ("cosine_gap", "cosine"),
        ("terms_in_text_gap", "terms_in_text"),
        ("opening_in_query_gap", "opening_in_query"),
    ):
        x[:, col[name]] = x[:, col[source]] - x[:, col[source]].max()
    return x


def headline_matrix(logits: np.ndarray, cosines: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """One row of HEADLINE_FEATURES per candidate of a query that has a headline."""
    x = np.zeros((len(logits), len(HEADLINE_FEATURES)), dtype=np.float64)
    if len(logits) == 0:
        return x
    match = np.clip((cosines - MATCH_FROM) / MATCH_WIDTH, 0.0, 1.0)
    words_match = np.clip((lexical - MATCH_FROM) / MATCH_WIDTH, 0.0, 1.0)
    x[:, 0] = np.clip(logits, LOGIT_FLOOR, -LOGIT_FLOOR)
    x[:, 1] = np.maximum(logits - logits.max(), LOGIT_FLOOR)
    x[:, 2] = cosines
    x[:, 3] = match
    x[:, 4] = _lead(match)
    x[:, 5] = lexical
    x[:, 6] = words_match
    x[:, 7] = _lead(words_match)
    return x


def _lead(values: np.ndarray) -> np.ndarray:
    """Each value minus the largest of the *other* values (a lone candidate: itself)."""
    if len(values) < 2:
        return values.copy()
    best = int(np.argmax(values))
    others = np.full(len(values), values[best])
    others[best] = np.max(np.delete(values, best))
    return values - others


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


@dataclass
class HeadlineStage:
    """A standardised logistic model over HEADLINE_FEATURES: the body's score (the re-ranker's
    logit) weighed against the headline's similarity, for articles that have a headline. Fitted
    per candidate (pointwise), so its probability stays that of the body model's when the
    headline matches nothing (an invented title) and the body is sure."""

    means: np.ndarray
    scales: np.ndarray
    coef: np.ndarray
    intercept: float

    def score(self, x: np.ndarray) -> np.ndarray:
        return _sigmoid(((x - self.means) / self.scales) @ self.coef + self.intercept)

    def as_json(self, extra: dict | None = None) -> dict:
        return {
            "features": HEADLINE_FEATURES,
            "means": [round(float(v), 8) for v in self.means],
            "scales": [round(float(v), 8) for v in self.scales],
            "coef": [round(float(v), 8) for v in self.coef],
            "intercept": round(float(self.intercept), 8),
            **(extra or {}),
        }

    @classmethod
    def from_json(cls, data: dict) -> HeadlineStage:
        if not isinstance(data, dict) or data.get("features") != HEADLINE_FEATURES:
            raise ValueError("re-ranker headline features differ from this unspun's")
        means, scales, coef, intercept = _weights(data, len(HEADLINE_FEATURES))
        return cls(means, scales, coef, intercept)


def _weights(data: dict, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    arrays = [np.asarray(data[k], dtype=np.float64) for k in ("means", "scales", "coef")]
    if any(a.shape != (n,) or not np.isfinite(a).all() for a in arrays):
        raise ValueError("re-ranker weights are malformed")
    if (arrays[1] <= 0).any():
        raise ValueError("re-ranker scales must be positive")
    intercept = float(data["intercept"])
    if not math.isfinite(intercept):
        raise ValueError("re-ranker intercept is not finite")
    return arrays[0], arrays[1], arrays[2], intercept


@dataclass
class Reranker:
    """A standardised logistic model over FEATURES: probability that a candidate is the source;
    ``headline`` (when shipped) re-scores the candidates of an article that has a headline."""

    means: np.ndarray
    scales: np.ndarray
    coef: np.ndarray
    intercept: float
    version: str
    headline: HeadlineStage | None = None

    def logit(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.means) / self.scales) @ self.coef + self.intercept

    def score(self, x: np.ndarray) -> np.ndarray:
        return _sigmoid(self.logit(x))

    def as_json(self, extra: dict | None = None) -> dict:
        return {
            "format": FORMAT,
            "version": self.version,
            "features": FEATURES,
            "means": [round(float(v), 8) for v in self.means],
            "scales": [round(float(v), 8) for v in self.scales],
            "coef": [round(float(v), 8) for v in self.coef],
            "intercept": round(float(self.intercept), 8),
            **({"headline": self.headline.as_json()} if self.headline is not None else {}),
            **(extra or {}),
        }

    @classmethod
    def from_json(cls, data: dict) -> Reranker:
        """Raises ValueError unless ``data`` is a complete model for exactly these FEATURES."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not an unspun re-ranker")
        if data.get("features") != FEATURES:
            raise ValueError("re-ranker features differ from this unspun's")
        means, scales, coef, intercept = _weights(data, len(FEATURES))
        # A file made before the headline stage existed still loads (it scores bodies only).
        headline = HeadlineStage.from_json(data["headline"]) if "headline" in data else None
        return cls(
            means, scales, coef, intercept, version=str(data.get("version", "")), headline=headline
        )


def shipped_path() -> Path:
    return Path(str(resources.files("unspun") / "data" / "reranker.json"))


def load_reranker(path: Path | str | None = None) -> Reranker | None:
    """The re-ranker at ``path`` (default: the shipped one), or None when it is missing or
    unreadable: tracing then falls back to the hand-set weights rather than failing."""
    try:
        data = json.loads(Path(path or shipped_path()).read_text(encoding="utf-8"))
        return Reranker.from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None

"""Tracing: rank indexed articles as candidate sources of a text by a hybrid of BM25, embedding
similarity, shared entities/figures/quotes and near-duplicate shingles, with a reason for each."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from unspun.provenance.facts import (
    entity_key,
    extract_facts,
    quote_key,
    rare_terms,
    shared_entities,
)
from unspun.provenance.fingerprint import (
    embedding_text,
    encode,
    minhash,
    minhash_similarity,
    words,
)
from unspun.provenance.headline import (
    FEATURE_KEY,
    HeadlineQuery,
    headline_vectors,
    similarities,
    unpack,
)
from unspun.provenance.index import SourceIndex
from unspun.provenance.rerank import (
    MATCH_FROM,
    MATCH_WIDTH,
    Reranker,
    Retrieval,
    feature_matrix,
    headline_matrix,
    load_reranker,
)
from unspun.provenance.store import StoredDoc

CANDIDATES = 40  # per retriever; the union is re-ranked
# Fetching the 80 nearest vectors instead of 40 put the source among the candidates 2% more often
# but did not change recall@1/@5 (provenance_recall.py), so only 40 are fetched; 80 are searched
# so that a BM25-only candidate gets a realistic floor cosine.
VECTOR_CANDIDATES = 80
# Candidates are scored by the learned re-ranker (rerank.py, weights in data/reranker.json) when it
# is shipped and readable; otherwise by these hand-set weights.
# Weights of the hybrid score (sum to 1), tuned on the shared data (provenance_recall.py):
# meaning similarity carries most of it because a rewrite keeps meaning, not words. A further part,
# the rarity-weighted share of the source's opening words found in the text, moved recall by less
# than the sampling noise and lowered the scores of sources matched on a later passage (below
# MIN_SOURCE_SCORE), so it was dropped.
WEIGHTS = {"semantic": 0.6, "bm25": 0.15, "entities": 0.1, "shingles": 0.1, "headline": 0.05}
# With the hand-set weights, an article that has a headline is scored by this share of the
# headline's similarity (stretched like the body's cosine) and the rest of the body's score: a
# content farm keeps the headline and invents the body (see headline.py).
HAND_HEADLINE_WEIGHT = 0.5
# Candidates found by the headline alone, per retriever (BM25 on its words, its embedding).
HEADLINE_CANDIDATES = 20


@dataclass
class Query:
    """An article to trace, with its fingerprints computed once."""

    title: str | None
    text: str
    date: str | None = None
    vector: np.ndarray | None = None
    terms: list[str] = field(default_factory=list)
    entities: set[str] = field(default_factory=set)
    values: set[float] = field(default_factory=set)
    quotes: set[str] = field(default_factory=set)
    sketch: np.ndarray | None = None
    headlines: list[list[str]] = field(default_factory=list)
    words: set[str] = field(default_factory=set)
    headline: HeadlineQuery | None = None  # title and sub-headline embedded; None without both


@dataclass
class Candidate:
    """One candidate source: the stored article, its hybrid score, parts of it and a reason."""

    stored: StoredDoc
    score: float
    parts: dict[str, float]
    reason: str

    def as_dict(self) -> dict:
        d = self.stored.doc
        return {
            "id": d.id,
            "title": d.title,
            "url": d.url,
            "date": d.date,
            "score": round(self.score, 4),
            "reason": self.reason,
            "headline_similarity": (
                round(self.parts["headline_cosine"], 4) if "headline_cosine" in self.parts else None
            ),
        }


class Tracer:
    """Finds the sources of texts in one index; the encoder is loaded once and reused."""

    def __init__(
        self,
        index: SourceIndex,
        *,
        reranker: Reranker | Path | str | None = None,
        hand_weights: bool = False,
    ) -> None:
        """``reranker``: a model or a weights file (default: the shipped one); when it cannot be
        read, or with ``hand_weights``, candidates are scored by the hand-set weights."""
        self.index = index
        if hand_weights:
            self.reranker: Reranker | None = None
        elif isinstance(reranker, Reranker):
            self.reranker = reranker
        else:
            self.reranker = load_reranker(reranker)

    def prepare(
        self, title: str | None, text: str, date: str | None = None, subtitle: str | None = None
    ) -> Query:
        facts = extract_facts(text if not title else f"{title}.\n{text}")
        query = Query(title=title, text=text, date=date)
        # A spun page often keeps the original headline as its sub-headline.
        query.headlines = [words(h) for h in (title, subtitle) if h and words(h)]
        query.vector = encode(self.index.encoder, [embedding_text(title, text)])[0]
        query.entities = {entity_key(e) for e in facts.entities}
        query.values = {q.value for q in facts.quantities}
        query.quotes = {quote_key(q) for q in facts.quotes}
        entity_words = [w for e in sorted(query.entities) for w in e.split() if len(w) > 2]
        # ~50 of the rarest words plus the names: enough for BM25 to find a rewrite (more terms
        # gained almost nothing on the shared data and cost query time).
        terms = rare_terms(f"{title or ''} {text}", 48) + entity_words
        query.terms = list(dict.fromkeys(terms))[:64]
        query.sketch = minhash(text)
        query.words = set(words(f"{title or ''} {text}"))
        query.headline = HeadlineQuery.of(self.index.encoder, title, subtitle)
        return query

    def trace(
        self,
        title: str | None,
        text: str,
        *,
        top: int = 5,
        date: str | None = None,
        subtitle: str | None = None,
    ) -> list[Candidate]:
        return self.rank(self.prepare(title, text, date, subtitle), top=top)

    def rank(self, query: Query, *, top: int = 5) -> list[Candidate]:
        learned = self.reranker is not None
        stored, parts, features = self.candidates(query, features=learned)
        if self.reranker is not None and len(stored):
            scores = [float(s) for s in self.score(features, parts)]
        else:
            scores = [hand_score(p) for p in parts]
        candidates = [
            Candidate(stored=d, score=s, parts=p, reason=_reason(p))
            for d, s, p in zip(stored, scores, parts, strict=True)
        ]
        candidates.sort(key=lambda c: -c.score)
        return candidates[:top]

    def score(self, features: np.ndarray, parts: list[dict[str, float]]) -> np.ndarray:
        """The learned score of each candidate: the body re-ranker's, re-scored with the
        headline's similarity when the article has a headline and the model a headline stage."""
        assert self.reranker is not None
        stage = self.reranker.headline
        if stage is None or not parts or "headline_cosine" not in parts[0]:
            return self.reranker.score(features)
        return stage.score(
            headline_matrix(
                self.reranker.logit(features),
                np.array([p["headline_cosine"] for p in parts]),
                np.array([p["headline_words"] for p in parts]),
            )
        )

    def candidates(
        self, query: Query, *, features: bool = True
    ) -> tuple[list[StoredDoc], list[dict[str, float]], np.ndarray]:
        """Every candidate of the union of both retrievers, its parts and (unless ``features`` is
        false: the hand-set score needs none) its re-ranker features."""
        store = self.index.store
        assert query.vector is not None
        text_hits = store.text_search(query.terms, CANDIDATES)
        vector_hits = store.vector_search(query.vector, VECTOR_CANDIDATES)
        cosines = dict(vector_hits)
        floor = min(cosines.values()) if cosines else 0.0
        best_text = max((s for _, s in text_hits), default=0.0) or 1.0
        text_scores = {k: s / best_text for k, s in text_hits}
        keys = [k for k, _ in text_hits] + [k for k, _ in vector_hits[:CANDIDATES]]
        if query.headline is not None:
            # The story whose headline an article kept is a candidate even when its body is not
            # like the article's: search with the headline's words and with its embedding.
            terms = rare_terms(" ".join(query.headline.texts), 24)
            keys += [k for k, _ in store.text_search(terms, HEADLINE_CANDIDATES)]
            for vector in query.headline.vectors:
                keys += [k for k, _ in store.vector_search(vector, HEADLINE_CANDIDATES)]
        stored = store.fetch(list(dict.fromkeys(keys)))
        parts = [
            self._parts(query, d, cosines.get(d.key, floor), text_scores.get(d.key, 0.0))
            for d in stored
        ]
        if query.headline is not None and stored:
            cosine, lexical = similarities(
                query.headline,
                self._headline_vectors(stored),
                [d.doc.title for d in stored],
                [d.doc.text for d in stored],
            )
            for p, c, w in zip(parts, cosine, lexical, strict=True):
                p["headline_cosine"] = float(c)
                p["headline_words"] = float(w)
        if not features:
            return stored, parts, np.zeros((len(stored), 0))
        retrieval = Retrieval(
            cosines=cosines,
            cosine_rank={k: i for i, (k, _) in enumerate(vector_hits)},
            bm25=dict(text_hits),
            bm25_rank={k: i for i, (k, _) in enumerate(text_hits)},
            vector_limit=VECTOR_CANDIDATES,
            text_limit=CANDIDATES,
        )
        matrix = feature_matrix(
            query.words,
            query.terms,
            query.entities,
            [d.key for d in stored],
            [d.doc.text for d in stored],
            parts,
            retrieval,
        )
        return stored, parts, matrix

    def _headline_vectors(self, stored: list[StoredDoc]) -> np.ndarray:
        """(n, 2, dim) title and lead vectors of candidates: stored at indexing; an article of an
        index built before they were stored gets them computed here (not written back)."""
        found = [unpack(d.features.get(FEATURE_KEY, "")) for d in stored]
        missing = [i for i, v in enumerate(found) if v is None]
        if missing:
            computed = headline_vectors(
                self.index.encoder,
                [stored[i].doc.title for i in missing],
                [stored[i].doc.text for i in missing],
            )
            for i, vectors in zip(missing, computed, strict=True):
                found[i] = vectors
        dim = max(v.shape[1] for v in found if v is not None)
        return np.stack(
            [v if v is not None and v.shape[1] == dim else np.zeros((2, dim)) for v in found]
        ).astype(np.float32)

    @staticmethod
    def _parts(query: Query, stored: StoredDoc, cosine: float, bm25: float) -> dict[str, float]:
        feats = stored.features
        doc_entities = set(feats.get("entities", []))
        shared = shared_entities(query.entities, doc_entities)
        doc_values = set(feats.get("values", []))
        shared_values = {v for v in query.values & doc_values if v >= 2}  # "one", "1" are noise
        doc_quotes = feats.get("quotes", [])
        shared_quotes = {
            q
            for q in query.quotes
            if any(q == d or (len(q) > 20 and (q in d or d in q)) for d in doc_quotes)
        }
        doc_title = feats.get("title", "").split()
        same_headline = float(any(_jaccard(h, doc_title) >= 0.6 for h in query.headlines))
        sketch_sim = (
            minhash_similarity(query.sketch, stored.minhash) if query.sketch is not None else 0.0
        )
        entity_share = len(shared) / max(3, min(len(query.entities), len(doc_entities)) or 3)
        return {
            "semantic": cosine,
            "bm25": bm25,
            "entities": min(
                1.0, entity_share + 0.1 * len(shared_values) + 0.2 * len(shared_quotes)
            ),
            "shingles": sketch_sim,
            "headline": same_headline,
            "n_entities": float(len(shared)),
            "n_values": float(len(shared_values)),
            "n_quotes": float(len(shared_quotes)),
        }


def _jaccard(a: list[str], b: list[str]) -> float:
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0


def hand_score(parts: dict[str, float]) -> float:
    """The hand-weighted hybrid score (0..1): the fallback when no re-ranker is shipped."""
    # Cosine of unrelated MiniLM texts sits near 0.1-0.2; stretch the useful range onto 0..1.
    semantic = min(1.0, max(0.0, (parts["semantic"] - 0.15) / 0.7))
    shingles = min(1.0, parts["shingles"] * 2)
    body = (
        WEIGHTS["semantic"] * semantic
        + WEIGHTS["bm25"] * parts["bm25"]
        + WEIGHTS["entities"] * parts["entities"]
        + WEIGHTS["shingles"] * shingles
        + WEIGHTS["headline"] * parts["headline"]
    )
    if "headline_cosine" not in parts:
        return body
    # Only a real match counts (as in the learned headline stage): an invented title reaches a
    # cosine of ~0.45 with some indexed title by chance.
    headline = min(1.0, max(0.0, (parts["headline_cosine"] - MATCH_FROM) / MATCH_WIDTH))
    return HAND_HEADLINE_WEIGHT * headline + (1 - HAND_HEADLINE_WEIGHT) * body


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _reason(parts: dict[str, float]) -> str:
    reasons = []
    if parts["headline"]:
        reasons.append("same headline")
    if parts["n_entities"]:
        reasons.append(
            _plural(int(parts["n_entities"]), "shared entity").replace("entitys", "entities")
        )
    if parts["n_values"]:
        reasons.append(_plural(int(parts["n_values"]), "shared figure"))
    if parts["n_quotes"]:
        reasons.append(_plural(int(parts["n_quotes"]), "identical quote"))
    if parts["shingles"] >= 0.05:
        reasons.append(f"{parts['shingles']:.0%} shared word sequences")
    if "headline_cosine" in parts:
        reasons.append(f"headline similarity {parts['headline_cosine']:.2f}")
    reasons.append(f"meaning similarity {parts['semantic']:.2f}")
    if parts["bm25"] >= 0.999:
        reasons.append("best keyword match")
    return "; ".join(reasons)

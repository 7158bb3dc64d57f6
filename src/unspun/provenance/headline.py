"""Headline similarity: how closely an article's title and sub-headline match a candidate source's
title and lead, the signal that finds the story a content farm took its headline from.

A content farm keeps the real headline (or a light paraphrase of it) and invents the body, so the
body may share more words with other indexed stories than with its own source; the headline still
names the story. Each indexed article carries two small vectors for this (its title and its lead,
the first sentence), computed when it is indexed and stored with its features; an index built
before they existed still traces, its candidates' vectors being computed when needed.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

import numpy as np

from unspun.provenance.fingerprint import encode, words

FEATURE_KEY = "headline_vectors"  # in an indexed article's stored features (JSON)
LEAD_WORDS = 40  # the lead: the first sentence, at most this many words
# Words too common to say which story a headline is about (rarity 0 covers most of the rest).
_STOP = frozenset(
    "a an the and or but of to in on at for with by from as is are was were be been has have had "
    "it its this that these those after over into about than then new says said".split()
)


def lead_of(text: str) -> str:
    """The article's lead: its first sentence, cut to LEAD_WORDS words."""
    from unspun.article.sentences import split_sentences

    text = text.strip()
    if not text:
        return ""
    spans = split_sentences(text[:2000])
    first = text[spans[0][0] : spans[0][1]] if spans else text
    return " ".join(first.split()[:LEAD_WORDS])


def headline_vectors(encoder, titles: list[str | None], texts: list[str]) -> np.ndarray:  # noqa: ANN001
    """(n, 2, dim) unit vectors: each article's title (zeros when it has none) and its lead."""
    leads = [lead_of(t) for t in texts]
    has_title = [i for i, t in enumerate(titles) if t and t.strip()]
    lead_vectors = encode(encoder, leads)
    out = np.zeros((len(texts), 2, lead_vectors.shape[1]), dtype=np.float32)
    out[:, 1] = lead_vectors
    if has_title:
        title_vectors = encode(encoder, [str(titles[i]).strip() for i in has_title])
        out[has_title, 0] = title_vectors
    return out


def pack(vectors: np.ndarray) -> str:
    """One article's (2, dim) headline vectors as JSON-able text (float16: half the size, and
    cosines change by under 0.001)."""
    return base64.b64encode(np.asarray(vectors, dtype=np.float16).tobytes()).decode("ascii")


def unpack(text: str) -> np.ndarray | None:
    try:
        flat = np.frombuffer(base64.b64decode(text), dtype=np.float16).astype(np.float32)
    except (ValueError, TypeError):
        return None
    return flat.reshape(2, -1) if flat.size and flat.size % 2 == 0 else None


def headline_words(text: str) -> frozenset[str]:
    return frozenset(w for w in words(text) if w not in _STOP and not re.fullmatch(r"\d", w))


@dataclass
class HeadlineQuery:
    """The headlines of an article to trace (title, sub-headline), embedded once."""

    texts: list[str]
    vectors: np.ndarray  # (k, dim)
    word_sets: list[frozenset[str]] = field(default_factory=list)

    @classmethod
    def of(cls, encoder, title: str | None, subtitle: str | None) -> HeadlineQuery | None:  # noqa: ANN001
        texts = [h.strip() for h in (title, subtitle) if h and h.strip() and words(h)]
        texts = list(dict.fromkeys(texts))
        if not texts:
            return None
        return cls(texts, encode(encoder, texts), [headline_words(t) for t in texts])


def similarities(
    query: HeadlineQuery,
    vectors: np.ndarray,
    titles: list[str | None],
    texts: list[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate: the best cosine of a query headline with the candidate's title or lead, and
    the best rarity-weighted share of a query headline's words found in the candidate's title and
    lead. ``vectors`` is (n, 2, dim) as made by ``headline_vectors``."""
    from unspun.provenance.rerank import share

    n = len(texts)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    # (n, 2, k): every candidate part against every query headline; a missing title is all zeros.
    cosines = np.einsum("npd,kd->npk", vectors, query.vectors)
    best_cosine = cosines.reshape(n, -1).max(axis=1).clip(0.0, 1.0)
    lexical = np.zeros(n)
    for i, (title, text) in enumerate(zip(titles, texts, strict=True)):
        theirs = set(words(f"{title or ''} {lead_of(text)}"))
        lexical[i] = max(share(ours, theirs) for ours in query.word_sets)
    return best_cosine, lexical

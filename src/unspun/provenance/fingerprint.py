"""Per-article fingerprints shared by indexing and tracing: content hash, MinHash, embedding text.

Both sides must compute these the same way, so they live in one place.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from unspun.provenance.facts import entity_key, extract_facts, quote_key

NUM_PERM = 64
SHINGLE = 3
EMBED_WORDS = 110  # ~128 word pieces: MiniLM cost grows with length; the lead carries the topic
# A text spun from an article's opening (a machine continuation) is about what the original *opens*
# with, so each article's search vector mixes an embedding of its headline and first 40 words into
# the embedding of its lead. Measured with benchmarks/provenance_recall.py at 10,000 articles: a
# weight of 0.3 found more continuations' originals than 0 or 0.7; a higher weight cost much recall
# on rewrites that drop or reorder the opening.
OPENING_WORDS = 40
OPENING_WEIGHT = 0.3
MAX_TOKENS = 128  # word pieces per embedded text: longer inputs cost time and gained nothing


def content_hash(text: str) -> str:
    """Same text modulo whitespace and case -> same hash, so re-adding a file adds nothing."""
    canonical = " ".join(text.lower().split())
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def minhash(text: str) -> np.ndarray:
    """MinHash (datasketch) of the article's word 3-shingles."""
    from datasketch import MinHash

    tokens = words(text)
    shingles = {" ".join(tokens[i : i + SHINGLE]) for i in range(max(1, len(tokens) - SHINGLE + 1))}
    sketch = MinHash(num_perm=NUM_PERM, seed=7)
    sketch.update_batch([s.encode("utf-8") for s in shingles if s])
    return sketch.hashvalues.astype(np.uint64)


def minhash_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    if len(a) != len(b) or len(a) == 0:
        return 0.0
    return float(np.mean(a == b))


def embedding_text(title: str | None, text: str) -> str:
    lead = " ".join(text.split()[:EMBED_WORDS])
    return f"{title.strip()}. {lead}" if title and title.strip() else lead


def opening_text(title: str | None, text: str) -> str:
    opening = " ".join(text.split()[:OPENING_WORDS])
    return f"{title.strip()}. {opening}" if title and title.strip() else opening


def search_vectors(encoder, titles: list[str | None], texts: list[str]) -> np.ndarray:  # noqa: ANN001
    """One unit vector per article: its opening and lead embeddings mixed, then renormalised."""
    lead = encode(encoder, [embedding_text(t, x) for t, x in zip(titles, texts, strict=True)])
    opening = encode(encoder, [opening_text(t, x) for t, x in zip(titles, texts, strict=True)])
    mixed = OPENING_WEIGHT * opening + (1 - OPENING_WEIGHT) * lead
    norms = np.linalg.norm(mixed, axis=1, keepdims=True)
    return (mixed / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def article_features(title: str | None, text: str) -> dict:
    """The comparable facts of an article, stored in the index as JSON."""
    facts = extract_facts(text)
    return {
        "entities": sorted({entity_key(e) for e in facts.entities}),
        "values": sorted({q.value for q in facts.quantities}),
        "quotes": sorted({quote_key(q) for q in facts.quotes}),
        "title": " ".join(words(title or "")),
    }


def embedding_dimension(encoder) -> int:  # noqa: ANN001
    # sentence-transformers renamed the method; accept both spellings.
    method = (
        getattr(encoder, "get_embedding_dimension", None)
        or encoder.get_sentence_embedding_dimension
    )
    return int(method())


def encode(encoder, texts: list[str], batch_size: int = 32) -> np.ndarray:  # noqa: ANN001
    """Unit-length float32 embeddings."""
    if not texts:
        return np.zeros((0, embedding_dimension(encoder)), dtype=np.float32)
    # Cap the length the encoder reads (the caller's setting is restored): cost grows with length.
    limit = getattr(encoder, "max_seq_length", None)
    if limit is not None and limit > MAX_TOKENS:
        encoder.max_seq_length = MAX_TOKENS
    try:
        vectors = encoder.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    finally:
        if limit is not None and limit > MAX_TOKENS:
            encoder.max_seq_length = limit
    return np.asarray(vectors, dtype=np.float32)

"""Adding trusted articles to an index: de-duplicate by content hash, fingerprint, embed, store."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from unspun.errors import SourceIndexError
from unspun.provenance.fingerprint import (
    article_features,
    content_hash,
    embedding_dimension,
    minhash,
    search_vectors,
)
from unspun.provenance.headline import FEATURE_KEY, headline_vectors, pack
from unspun.provenance.store import IndexStore, PreparedDoc, SourceDoc, open_store

ENCODER_ID = "sentence-transformers/all-MiniLM-L6-v2"
# Version of what an indexed article's features hold. 2: its title and lead vectors (headline.py),
# for headline tracing. An index of version 1 (no such key) still loads and traces: the vectors of
# its candidates are computed at trace time instead.
FEATURES_VERSION = 2


@dataclass
class AddResult:
    seen: int = 0
    added: int = 0
    duplicates: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.seen / self.seconds if self.seconds > 0 else 0.0


def load_encoder():  # noqa: ANN201 - SentenceTransformer, imported lazily
    from unspun.models.encoder import load_sentence_encoder

    return load_sentence_encoder(ENCODER_ID)


class SourceIndex:
    """An opened index plus the encoder, ready to add articles or to be traced against."""

    def __init__(self, location: str, *, create: bool = False, encoder=None) -> None:  # noqa: ANN001
        self.store: IndexStore = open_store(location, create=create)
        self._encoder = encoder
        meta = self.store.meta()
        if meta.get("encoder") and meta["encoder"] != ENCODER_ID:
            raise SourceIndexError(
                f"index {location} was built with encoder {meta['encoder']}; "
                f"this unspun uses {ENCODER_ID}"
            )

    @property
    def encoder(self):  # noqa: ANN201
        if self._encoder is None:
            self._encoder = load_encoder()
        return self._encoder

    def prepare(self, docs: list[SourceDoc], hashes: list[str]) -> list[PreparedDoc]:
        titles, texts = [d.title for d in docs], [d.text for d in docs]
        vectors = search_vectors(self.encoder, titles, texts)
        headlines = headline_vectors(self.encoder, titles, texts)
        return [
            PreparedDoc(
                doc=d,
                content_hash=h,
                embedding=v,
                minhash=minhash(d.text),
                features={**article_features(d.title, d.text), FEATURE_KEY: pack(hv)},
            )
            for d, h, v, hv in zip(docs, hashes, vectors, headlines, strict=True)
        ]

    def add(
        self,
        docs: Iterable[SourceDoc],
        *,
        batch_size: int = 64,
        progress: Callable[[int, int], None] | None = None,
    ) -> AddResult:
        """Add articles; ones whose text is already indexed (or repeated in ``docs``) are skipped.

        ``progress(seen, added)`` is called after each batch.
        """
        import time

        started = time.perf_counter()
        result = AddResult()
        batch: list[SourceDoc] = []
        pending: set[str] = set()

        def flush() -> None:
            if not batch:
                return
            hashes = [content_hash(d.text) for d in batch]
            known = self.store.known_hashes(hashes)
            fresh, fresh_hashes = [], []
            for doc, h in zip(batch, hashes, strict=True):
                if h in known or h in pending:
                    result.duplicates += 1
                    continue
                pending.add(h)
                fresh.append(doc)
                fresh_hashes.append(h)
            if fresh:
                result.added += self.store.add(self.prepare(fresh, fresh_hashes))
            result.seen += len(batch)
            batch.clear()
            if progress:
                progress(result.seen, result.added)

        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                flush()
        flush()
        self.store.set_meta(
            {
                "encoder": ENCODER_ID,
                "dim": embedding_dimension(self.encoder),
                "features_version": FEATURES_VERSION,
            }
        )
        result.seconds = time.perf_counter() - started
        return result

    def add_prepared(self, prepared: list[PreparedDoc]) -> int:
        """Store already fingerprinted articles (benchmarks reuse cached embeddings this way)."""
        known = self.store.known_hashes([p.content_hash for p in prepared])
        added = self.store.add([p for p in prepared if p.content_hash not in known])
        self.store.set_meta({"encoder": ENCODER_ID, "dim": 384})
        return added

    def stats(self) -> dict:
        return self.store.stats()

    def close(self) -> None:
        self.store.close()


def unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector

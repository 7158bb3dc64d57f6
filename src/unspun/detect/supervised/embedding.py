"""Contextual token embeddings from a frozen (or fine-tuned) encoder, mean-pooled over the whole
document and over any set of passages in one pass: passages cost no extra forward passes."""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from unspun.models import traced
from unspun.models.encoder import load_token_encoder


@dataclass
class Pooled:
    document: np.ndarray  # (dim,) L2-normalised mean of the document's token embeddings
    passages: np.ndarray  # (n_passages, dim) L2-normalised mean over each passage's tokens


class PoolingEncoder:
    """Runs an encoder over documents in windows of ``max_length`` tokens and pools token vectors.

    ``layers``: which hidden states to pool (0 = embeddings, 1 = first block, -1 = last). Each is
    mean-pooled and L2-normalised separately, then concatenated. Middle layers carry more of how a
    text is written and less of what it is about than the last, semantic layer of a sentence
    encoder, and they transfer better to unseen generators and domains
    (benchmarks/detector_generalisation.py). Blocks above the highest pooled layer are dropped.

    ``adapter``: a directory of trained low-rank adapters (``adapter.py``), merged into the weights.

    ``quantize``: int8 dynamic quantisation of the linear layers on CPU (about 2x faster on 2 cores,
    and used at training time too, so the head sees the same embeddings it will be applied to).
    """

    def __init__(
        self,
        model_id: str,
        *,
        max_length: int = 256,
        device: str | None = None,
        quantize: bool = False,
        layers: Sequence[int] = (-1,),
        model=None,
        tokenizer=None,
        adapter: str | None = None,
        cache_key: str | None = None,
    ) -> None:
        """``cache_key``: identifies this exact encoder (model, adapter, settings) in the traced
        encoder cache (``unspun.models.traced``); a later process with the same key loads the
        traced module without importing transformers."""
        import torch

        self.model_id = model_id
        self.adapter = adapter
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        cacheable = bool(cache_key) and model is None and self.device == "cpu"
        cached = traced.load(cache_key) if cacheable and cache_key else None
        if cached is not None:
            meta = cached.meta
            self.tokenizer = cached.tokenizer
            self.forward = cached.module
            self.quantized = bool(meta["quantized"])
            self.max_length = int(meta["max_length"])
            self.layers = tuple(int(x) for x in meta["layers"])
            self.width = int(meta["width"])
            self._prefix, self._suffix = list(meta["prefix"]), list(meta["suffix"])
        else:
            self._build(model_id, model, tokenizer, max_length, quantize, layers, adapter)
            if cacheable and cache_key:
                traced.save(cache_key, self.forward, self.tokenizer, self._meta())
        self.dim = self.width * len(self.layers)
        # Room for the special tokens the tokenizer adds around each window.
        self._room = self.max_length - len(self._prefix) - len(self._suffix)

    def _build(  # noqa: ANN001 - transformers objects
        self, model_id, model, tokenizer, max_length, quantize, layers, adapter
    ) -> None:
        """The encoder from transformers: adapters merged, upper blocks dropped, quantised."""
        import torch

        if model is None or tokenizer is None:
            tokenizer, model = load_token_encoder(model_id)
        self.tokenizer = tokenizer
        self.max_length = min(
            max_length, getattr(tokenizer, "model_max_length", max_length) or max_length
        )
        self.quantized = bool(quantize and self.device == "cpu")
        if adapter:
            from pathlib import Path

            from unspun.detect.supervised.adapter import merge_adapter

            merge_adapter(model, Path(adapter))
        model.eval()
        depth = int(model.config.num_hidden_layers)
        self.layers = tuple(layer if layer >= 0 else depth + 1 + layer for layer in layers)
        if not self.layers or not all(0 <= layer <= depth for layer in self.layers):
            raise ValueError(f"layers must lie in 0..{depth} (or -1 for the last), got {layers}")
        blocks = getattr(getattr(model, "encoder", None), "layer", None)
        if blocks is not None and max(self.layers) < len(blocks):
            # The blocks above the highest pooled layer cannot change it: skip their compute.
            model.encoder.layer = blocks[: max(self.layers)]
        if self.quantized:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = torch.ao.quantization.quantize_dynamic(
                    model, {torch.nn.Linear}, dtype=torch.qint8
                )
        self.width = int(model.config.hidden_size)
        self.forward = pooled_layers(model.to(self.device), self.layers)
        self._prefix, self._suffix = _special_template(tokenizer)

    def _meta(self) -> dict:
        return {
            "model_id": self.model_id,
            "quantized": self.quantized,
            "max_length": self.max_length,
            "layers": list(self.layers),
            "width": self.width,
            "prefix": self._prefix,
            "suffix": self._suffix,
            "pad_token_id": int(self.tokenizer.pad_token_id or 0),
        }

    def _windows(self, text: str) -> list[tuple[list[int], np.ndarray]]:
        """Token-id windows of the text with the character offsets of each token."""
        encoded = self.tokenizer(
            text,
            add_special_tokens=False,
            return_offsets_mapping=True,
            truncation=False,
            verbose=False,
        )
        ids, offsets = encoded["input_ids"], np.asarray(encoded["offset_mapping"], dtype=np.int64)
        if not ids:
            return []
        return [
            (ids[i : i + self._room], offsets[i : i + self._room].reshape(-1, 2))
            for i in range(0, len(ids), self._room)
        ]

    def pool(
        self,
        texts: Sequence[str],
        passages: Sequence[Sequence[tuple[int, int]]] | None = None,
        *,
        batch_size: int = 32,
    ) -> list[Pooled]:

        passages = passages or [[] for _ in texts]
        jobs = []  # (text index, ids, offsets)
        for index, text in enumerate(texts):
            for ids, offsets in self._windows(text):
                jobs.append((index, ids, offsets))
        sums = [np.zeros(self.dim, dtype=np.float64) for _ in texts]
        counts = [0 for _ in texts]
        passage_sums = [np.zeros((len(p), self.dim), dtype=np.float64) for p in passages]
        passage_counts = [np.zeros(len(p), dtype=np.int64) for p in passages]
        span_ends = [_running_max_ends(p) if _in_text_order(p) else None for p in passages]
        # Every window runs alone: a batch of one row, no padding. Dynamic int8 quantisation
        # scales a linear layer's input by its range over the whole batch tensor (padding
        # included), and padding can change float results too, so in a padded batch a text's
        # embedding depended on its batch mates (up to 0.22 in machine probability between
        # `check` and `scan`). Alone, a window's vectors depend on its tokens only, and a text's
        # on its own windows, summed in their order: its score is the same in any batch.
        # ``batch_size`` is kept for callers and does not change scores.
        for (index, ids, offsets), vectors in zip(jobs, self._run_alone(jobs), strict=True):
            sums[index] += vectors.sum(axis=0)
            counts[index] += len(ids)
            spans = passages[index]
            if spans:
                centres = offsets[: len(ids)].mean(axis=1)
                # Only the passages this window overlaps (spans are in text order): visiting
                # every passage for every window made a long text quadratic.
                first, last = (
                    _overlapping(span_ends[index], spans, centres)
                    if span_ends[index] is not None
                    else (0, len(spans))
                )
                for p in range(first, last):
                    start, end = spans[p]
                    inside = (centres >= start) & (centres < end)
                    if inside.any():
                        passage_sums[index][p] += vectors[inside].sum(axis=0)
                        passage_counts[index][p] += int(inside.sum())
        results = []
        for index in range(len(texts)):
            document = self._unit_per_layer(sums[index] / max(1, counts[index]))
            pooled_passages = passage_sums[index] / np.maximum(1, passage_counts[index])[:, None]
            results.append(
                Pooled(
                    document=document.astype(np.float32),
                    passages=np.stack([self._unit_per_layer(v) for v in pooled_passages]).astype(
                        np.float32
                    )
                    if len(pooled_passages)
                    else np.zeros((0, self.dim), dtype=np.float32),
                )
            )
        return results

    def _window_vectors(self, ids: list[int]) -> np.ndarray:
        import torch

        sequence = torch.tensor([[*self._prefix, *ids, *self._suffix]], dtype=torch.long)
        with torch.inference_mode():
            hidden = self.forward(
                sequence.to(self.device), torch.ones_like(sequence).to(self.device)
            )
        vectors = hidden[0, len(self._prefix) : len(self._prefix) + len(ids)]
        return vectors.float().cpu().numpy().astype(np.float64)

    def _run_alone(self, jobs: list) -> list[np.ndarray]:
        """Each window's token vectors, every window in a forward pass of its own.

        On CPU, one 256-token window is too small a job to split across threads (the threads
        spend their time waiting on each other), so with several windows and several threads
        each thread runs whole windows on one intra-op thread instead: about twice the
        throughput on 2 cores. A window's arithmetic is the same either way (bit for bit: tested),
        so this changes speed only, never a score.
        """
        import torch

        threads = torch.get_num_threads()
        if self.device != "cpu" or threads < 2 or len(jobs) < 2:
            return [self._window_vectors(ids) for _, ids, _ in jobs]
        from concurrent.futures import ThreadPoolExecutor

        torch.set_num_threads(1)
        try:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                return list(pool.map(lambda job: self._window_vectors(job[1]), jobs))
        finally:
            torch.set_num_threads(threads)

    def _unit_per_layer(self, vector: np.ndarray) -> np.ndarray:
        parts = vector.reshape(len(self.layers), self.width)
        return np.concatenate([_unit(part) for part in parts])


def pooled_layers(model, layers: tuple[int, ...]):  # noqa: ANN001, ANN201
    """A torch module mapping (input ids, attention mask) to the ``layers`` hidden states of
    ``model``, side by side per token: the one forward pass, run eagerly or traced."""
    return _pooled_layers_class()(model, layers)


@functools.cache
def _pooled_layers_class():  # noqa: ANN202 - defined on first use: importing this file needs no torch
    import torch

    class PooledLayers(torch.nn.Module):
        def __init__(self, model, layers: tuple[int, ...]) -> None:  # noqa: ANN001
            super().__init__()
            self.model = model
            self.layers = layers

        def forward(self, input_ids, attention_mask):  # noqa: ANN001, ANN201
            states = self.model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                output_hidden_states=True,
                return_dict=True,
            ).hidden_states
            return torch.cat([states[layer] for layer in self.layers], dim=-1)

    return PooledLayers


def _special_template(tokenizer) -> tuple[list[int], list[int]]:
    """The special token ids a tokenizer puts before and after a single sequence ([CLS] .. [SEP],
    <s> .. </s>), found by comparing an encoding with and without them."""
    bare = tokenizer("probe", add_special_tokens=False)["input_ids"]
    full = tokenizer("probe", add_special_tokens=True)["input_ids"]
    for start in range(len(full) - len(bare) + 1):
        if full[start : start + len(bare)] == bare:
            return list(full[:start]), list(full[start + len(bare) :])
    return [], []


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector


def _in_text_order(spans: Sequence[tuple[int, int]]) -> bool:
    return all(a[0] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def _running_max_ends(spans: Sequence[tuple[int, int]]) -> list[int]:
    """For each passage, the largest end among it and those before it (non-decreasing, so it can
    be bisected even if passages overlap)."""
    ends, highest = [], -math.inf
    for _, end in spans:
        highest = max(highest, end)
        ends.append(highest)
    return ends


def _overlapping(
    running_ends: list[int], spans: Sequence[tuple[int, int]], centres: np.ndarray
) -> tuple[int, int]:
    """The range of passage indices that can hold any of a window's token centres: passages
    before ``first`` all end at or before the smallest centre, and those from ``last`` on start
    after the largest (passage starts are in text order)."""
    if not len(centres):
        return 0, 0
    first = bisect.bisect_right(running_ends, float(centres.min()))
    last = first
    highest = float(centres.max())
    while last < len(spans) and spans[last][0] <= highest:
        last += 1
    return first, last

"""Per-token statistics from one or two causal LMs: tokenise with offsets, cut long texts into
overlapping windows, run one forward pass per model per window, and stitch each token's statistics
back from the window where it had the most left context.

Every window runs alone, unpadded: a text's scores are then bit-for-bit the same whatever else is
in its batch (padding and batched kernels change the last bits of the logits, and in bfloat16 far
more). On a CPU, batching windows gains little; on a GPU it would, at the price of that guarantee.

The statistics are fused with the output layer where the model allows it (see ``_OutputLayer``):
the logits of a window are produced a slice of the vocabulary at a time and folded into running
sums (log-sum-exp, expectations, rank counts), so the full [tokens x vocabulary] matrix (1 MB per
token for a 262k vocabulary in float32) is never held and each slice is read while in cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from unspun.errors import ConfigError
from unspun.models.causal import CausalLM

# Vocabulary columns per slice: a [tokens x slice] float32 block of a 256-token window is 4 MB,
# which stays in cache for the few passes over it (measured fastest among 2k-64k on 2 cores).
_VOCAB_SLICE = 4096


@dataclass
class Encoded:
    """One text as token ids with character offsets; ``special`` marks BOS/EOS-like tokens."""

    ids: np.ndarray  # int64 [n]
    offsets: np.ndarray  # int64 [n, 2], non-overlapping (see _tile)
    special: np.ndarray  # bool [n]


@dataclass(frozen=True)
class Window:
    """Tokens ``[start, end)`` of text ``text``; targets ``[first, end)`` are counted here."""

    text: int
    start: int
    end: int
    first: int


@dataclass
class TokenTable:
    """Statistics of every scored token of one text, in text order.

    A token at index i >= 1 is scored from the model's prediction after tokens < i; the first
    token has no prediction and is never scored (models whose tokenizer adds a BOS token thus
    score every real token). Arrays share one length; offsets index into the scored text.

    ``logprob``, ``rank`` (1 = the model's top choice), ``entropy``: from the primary model.
    ``cross_mean``/``cross_var``: with a reference model q, E_q[log p] and Var_q[log p] of the
    primary model's log-probability over the next-token distribution of q.
    ``truncated``: tokens past the detector's ``max_tokens`` that were not scored.
    """

    starts: np.ndarray
    ends: np.ndarray
    special: np.ndarray
    logprob: np.ndarray
    rank: np.ndarray
    entropy: np.ndarray
    cross_mean: np.ndarray | None = None
    cross_var: np.ndarray | None = None
    truncated: int = 0
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.logprob)


def encode(lm: CausalLM, texts: Sequence[str]) -> list[Encoded]:
    """Tokenise with the tokenizer's own special tokens (a BOS where the model family uses one)."""
    if not texts:
        return []
    batch = lm.tokenizer(
        list(texts),
        add_special_tokens=True,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        return_attention_mask=False,
        return_token_type_ids=False,
        verbose=False,
    )
    return [
        Encoded(
            ids=np.asarray(ids, dtype=np.int64),
            offsets=_tile(np.asarray(offsets, dtype=np.int64).reshape(-1, 2)),
            special=np.asarray(mask, dtype=bool),
        )
        for ids, offsets, mask in zip(
            batch["input_ids"], batch["offset_mapping"], batch["special_tokens_mask"], strict=True
        )
    ]


def _tile(offsets: np.ndarray) -> np.ndarray:
    """Make character spans non-overlapping: byte-level tokenizers give every token that holds a
    piece of a multi-byte character the whole character; the first such token keeps it and the
    next ones get an empty span, so each character is coloured by exactly one token."""
    starts, ends = offsets[:, 0].copy(), offsets[:, 1].copy()
    has_text = ends > starts  # special tokens have no text and are left alone
    reached = np.maximum.accumulate(np.where(has_text, ends, 0)) if len(ends) else ends
    before = np.concatenate([[0], reached[:-1]]) if len(ends) else ends
    starts = np.where(has_text, np.maximum(starts, before), starts)
    ends = np.where(has_text, np.maximum(ends, starts), ends)
    return np.stack([starts, ends], axis=1)


def plan_windows(text: int, n_tokens: int, max_length: int, stride: int) -> list[Window]:
    """Windows of at most ``max_length`` tokens starting every ``stride`` tokens.

    Each target token (index >= 1) is counted in the first window that contains it, which is the
    window where it has the most left context; later windows count only the tokens past the end
    of the previous one. With ``stride <= max_length - 1`` every target is counted exactly once,
    and a token in a later window sees at least ``max_length - stride`` tokens before it.
    """
    if n_tokens < 2:
        return []
    windows = [Window(text, 0, min(n_tokens, max_length), 1)]
    while windows[-1].end < n_tokens:
        start = windows[-1].start + stride
        windows.append(Window(text, start, min(n_tokens, start + max_length), windows[-1].end))
    return windows


def check_window(max_length: int, stride: int, model_limit: int | None) -> None:
    if max_length < 2:
        raise ConfigError(f"max_length must be at least 2 tokens, got {max_length}")
    if model_limit is not None and max_length > model_limit:
        raise ConfigError(f"max_length {max_length} exceeds what the model accepts ({model_limit})")
    if not 1 <= stride <= max_length - 1:
        raise ConfigError(f"stride must be between 1 and max_length - 1, got {stride}")


def token_tables(
    texts: Sequence[str],
    primary: CausalLM,
    reference: CausalLM | None = None,
    *,
    max_length: int,
    stride: int,
    variance: bool = True,
    max_tokens: int | None = None,
) -> list[TokenTable]:
    """Per-token statistics of every text (see TokenTable).

    ``reference`` (optional) is the second model: the sampling model of Fast-DetectGPT, the
    observer of Binoculars. Passing the primary model itself costs no second forward pass.
    ``variance``: also compute ``cross_var`` (only Fast-DetectGPT needs it).
    ``max_tokens``: score at most this many tokens of a text (its beginning); the rest is counted
    in ``TokenTable.truncated`` so reports can say so.
    """
    import torch

    encoded = encode(primary, texts)
    same_reference = reference is None or reference is primary
    tables = []
    with torch.inference_mode():
        for index, enc in enumerate(encoded):
            n = len(enc.ids)
            used = n if max_tokens is None else min(n, max_tokens + 1)
            columns = {key: np.zeros(max(used, 1), dtype=np.float64) for key in _COLUMNS}
            for window in plan_windows(index, used, max_length, stride):
                stats = _run_window(
                    window,
                    enc.ids,
                    primary,
                    None if same_reference else reference,
                    self_reference=same_reference and reference is not None,
                    variance=variance,
                )
                for key, values in stats.items():
                    columns[key][window.first : window.end] = values
            keep = slice(1, used) if used >= 2 else slice(0, 0)
            with_reference = reference is not None
            tables.append(
                TokenTable(
                    starts=enc.offsets[keep, 0],
                    ends=enc.offsets[keep, 1],
                    special=enc.special[keep],
                    logprob=columns["logprob"][keep],
                    rank=columns["rank"][keep].astype(np.int64),
                    entropy=columns["entropy"][keep],
                    cross_mean=columns["cross_mean"][keep] if with_reference else None,
                    cross_var=columns["cross_var"][keep] if with_reference and variance else None,
                    truncated=n - used,
                )
            )
    return tables


_COLUMNS = ("logprob", "rank", "entropy", "cross_mean", "cross_var")


def _run_window(
    window: Window,
    ids: np.ndarray,
    primary: CausalLM,
    reference: CausalLM | None,
    *,
    self_reference: bool,
    variance: bool,
) -> dict[str, np.ndarray]:
    import torch

    row = torch.from_numpy(ids[window.start : window.end]).unsqueeze(0)
    # Target token t is predicted at the position of token t - 1.
    predict = slice(window.first - 1 - window.start, window.end - 1 - window.start)
    targets = torch.from_numpy(ids[window.first : window.end])
    p_layer = output_layer(primary)
    vocab = p_layer.vocab
    q_layer = output_layer(reference) if reference is not None else None
    if q_layer is not None:
        # Families pad their embedding matrices differently; the shared tokenizer's ids are below
        # both sizes, so compare the distributions over the common range.
        vocab = min(vocab, q_layer.vocab)
    target_logit, p_slices = p_layer.slices(row, predict, targets, vocab)
    q_slices = q_layer.slices(row, predict, targets, vocab)[1] if q_layer is not None else None
    return _statistics(
        target_logit,
        targets,
        p_slices,
        q_slices,
        with_q=self_reference or q_layer is not None,
        variance=variance,
    )


class _OutputLayer:
    """The last step of a causal LM, split so the logits can be made a vocabulary slice at a time.

    ``slices`` gives the targets' logits and an iterator of (column offset, [positions x slice]
    float32 logits) over the vocabulary. Fused: the base model's last hidden states times a slice
    of the output embedding (plus its bias and the final soft-capping some families use). Whether
    that equals the model's own logits is checked once per model on a probe; a model that does
    something else after its base (a logit scale, a second head) falls back to its own full
    forward pass, whose logits (one window's) are then sliced.
    """

    def __init__(self, lm: CausalLM) -> None:
        self.lm = lm
        self.fused = False
        self.head = lm.model.get_output_embeddings()
        self.base = getattr(lm.model, "base_model", None)
        self.softcap = getattr(lm.model.config, "final_logit_softcapping", None)
        weight = getattr(self.head, "weight", None)
        self.vocab = int(weight.shape[0]) if weight is not None else int(lm.model.config.vocab_size)
        if weight is not None and self.base is not None and self.base is not lm.model:
            self.fused = self._agrees_with_the_model()

    def _agrees_with_the_model(self) -> bool:
        import torch

        probe = torch.arange(1, 7).unsqueeze(0) % self.vocab
        targets = torch.zeros(probe.shape[1], dtype=torch.long)
        with torch.inference_mode():
            try:
                expected = self._full(probe).float()
                _, pieces = self._fused(probe, slice(0, probe.shape[1]), targets, self.vocab)
                fused = torch.cat([x for _, x in pieces], dim=1)
            except Exception:  # noqa: BLE001 - an architecture that cannot be split this way
                return False
        if fused.shape != expected.shape:
            return False
        scale = float(expected.abs().max()) or 1.0
        return bool(torch.allclose(fused, expected, atol=1e-4 * scale, rtol=1e-4))

    def _full(self, ids):  # noqa: ANN001, ANN202
        return self.lm.model(input_ids=ids.to(self.lm.device), use_cache=False).logits[0]

    def _finish(self, logits, bias):  # noqa: ANN001, ANN202
        import torch

        if bias is not None:
            logits = logits + bias
        logits = logits.float()
        if self.softcap:
            logits = torch.tanh(logits / float(self.softcap)) * float(self.softcap)
        return logits.cpu()

    def _fused(self, ids, positions: slice, targets, vocab: int):  # noqa: ANN001, ANN202
        base = self.base(input_ids=ids.to(self.lm.device), use_cache=False)
        hidden = base.last_hidden_state[0, positions]
        weight, bias = self.head.weight, getattr(self.head, "bias", None)
        on_device = targets.to(weight.device)
        target_logit = self._finish(
            (hidden * weight[on_device]).sum(-1), bias[on_device] if bias is not None else None
        )

        def pieces():  # noqa: ANN202
            import torch

            for begin in range(0, vocab, _VOCAB_SLICE):
                end = min(vocab, begin + _VOCAB_SLICE)
                piece = torch.nn.functional.linear(hidden, weight[begin:end])
                yield begin, self._finish(piece, bias[begin:end] if bias is not None else None)

        return target_logit, pieces()

    def slices(self, ids, positions: slice, targets, vocab: int):  # noqa: ANN001, ANN201
        if self.fused:
            return self._fused(ids, positions, targets, vocab)
        logits = self._full(ids)[positions, :vocab].float().cpu()
        target_logit = logits.gather(-1, targets[:, None]).squeeze(-1)
        pieces = (
            (begin, logits[:, begin : begin + _VOCAB_SLICE])
            for begin in range(0, vocab, _VOCAB_SLICE)
        )
        return target_logit, pieces


def output_layer(lm: CausalLM) -> _OutputLayer:
    """The output layer view of a loaded model, built (and probed) once per model."""
    layer = lm.__dict__.get("_output_layer")
    if layer is None:
        layer = _OutputLayer(lm)
        lm.__dict__["_output_layer"] = layer
    return layer


class _Running:
    """Sums over the vocabulary of exp(z - m), and of that times y and y^2, kept relative to the
    running maximum m of the logits z and rescaled when m grows (log-sum-exp a slice at a time)."""

    def __init__(self, n: int, second: bool) -> None:
        import torch

        self.top = torch.full((n,), float("-inf"), dtype=torch.float64)
        self.total = torch.zeros(n, dtype=torch.float64)
        self.first = torch.zeros(n, dtype=torch.float64)
        self.second = torch.zeros(n, dtype=torch.float64) if second else None

    def add(self, logits, values) -> None:  # noqa: ANN001
        import torch

        top = torch.maximum(self.top, logits.max(dim=1).values.double())
        rescale = torch.exp(self.top - top)
        rescale = torch.where(torch.isfinite(self.top), rescale, torch.zeros_like(rescale))
        weights = torch.exp(logits - top.float()[:, None])
        self.total = self.total * rescale + weights.sum(dim=1).double()
        weighted = weights * values
        self.first = self.first * rescale + weighted.sum(dim=1).double()
        if self.second is not None:
            self.second = self.second * rescale + _dot(weighted, values).double()
        self.top = top

    def log_total(self):  # noqa: ANN201
        return self.top + self.total.log()

    def mean(self):  # noqa: ANN201
        return self.first / self.total

    def variance(self):  # noqa: ANN201
        mean = self.mean()
        return (self.second / self.total - mean.square()).clamp(min=0.0)


def _statistics(
    target_logit, targets, p_slices, q_slices, *, with_q: bool, variance: bool
) -> dict[str, np.ndarray]:  # noqa: ANN001
    """Token statistics from the logits, streamed over vocabulary slices.

    ``target_logit`` [n]: each position's logit of its next token ``targets`` [n];
    ``p_slices`` (``q_slices``): (column offset, [n x slice] float32 logits) of the primary
    (reference) model. Exact formulas, in running form (see ``_Running``)::

        log p(t) = x_t - lse(x)                      rank(t) = 1 + #{v != t : x_v > x_t}
        H        = lse(x) - E_p[x]                   E_q[log p] = E_q[x] - lse(x)
        Var_q[log p] = Var_q[x]   (log p and x differ by a constant per position)

    Expectations are taken of y = x - x_t (centred on the target's logit) so that
    E[y^2] - E[y]^2 keeps its digits with large logits. Logits of -inf (masked tokens) have
    probability 0 and add nothing. With ``with_q`` and no ``q_slices``, q is p itself (free).
    """
    import torch

    n = len(targets)
    p_run = _Running(n, second=variance and with_q and q_slices is None)
    q_run = _Running(n, second=variance) if q_slices is not None else None
    own = target_logit.clone()
    above = torch.zeros(n, dtype=torch.long)
    centre = target_logit[:, None]
    for begin, x in p_slices:
        width = x.shape[1]
        above += (x > centre).sum(dim=1)
        inside = ((targets >= begin) & (targets < begin + width)).nonzero().squeeze(1)
        if len(inside):
            # Within the target's own slice, compare with the target's logit as this slice
            # computed it (the provisional one may differ in its last bits), so the target is
            # never counted above itself and ties inside the slice are resolved in its favour.
            value = x[inside, targets[inside] - begin]
            rows = x[inside]
            above[inside] += (rows > value[:, None]).sum(dim=1) - (rows > centre[inside]).sum(dim=1)
            own[inside] = value
        values = torch.nan_to_num(x - centre, nan=0.0, neginf=0.0, posinf=0.0)
        p_run.add(x, values)
        if q_run is not None:
            _, z = next(q_slices)
            q_run.add(z, values)
    lse = p_run.log_total()
    mean_p = target_logit.double() + p_run.mean()
    stats = {
        "logprob": own.double() - lse,
        "rank": (above + 1).double(),
        "entropy": lse - mean_p,
    }
    if with_q:
        run = q_run if q_run is not None else p_run
        stats["cross_mean"] = target_logit.double() + run.mean() - lse
        if variance:
            stats["cross_var"] = run.variance()
    return {key: value.numpy() for key, value in stats.items()}


def _dot(a, b):  # noqa: ANN001, ANN202
    """Row-wise dot products of two [rows, vocab] tensors."""
    return (a.unsqueeze(1) @ b.unsqueeze(2)).view(-1)

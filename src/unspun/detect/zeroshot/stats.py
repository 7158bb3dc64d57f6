"""Single-model statistics: mean log-likelihood, mean log-rank, mean entropy, the log-likelihood /
log-rank ratio (LRR) and GLTR's rank buckets. Each reads the text once with one causal LM.

Notation: for scored tokens x_1..x_n (every token that has a left context, special tokens
excluded), p(. | x_<i) is the model's next-token distribution, log p_i = log p(x_i | x_<i),
r_i = 1 + #{v : logit_v > logit_{x_i}} the rank of the actual token (1 = the model's top
choice) and H_i = -sum_v p(v | x_<i) log p(v | x_<i) the predictive entropy.
"""

from __future__ import annotations

import numpy as np

from unspun.detect.zeroshot.common import LMDetector
from unspun.detect.zeroshot.lm import TokenTable
from unspun.models.packaged import DEFAULT_LM as DEFAULT_MODEL

GLTR_BUCKETS = (10, 100, 1000)


class SingleModelDetector(LMDetector):
    """A statistic of one model's view of the text."""

    model_parameters = {"model": "model"}

    def __init__(
        self,
        model: str | None = None,
        *,
        device: str | None = None,
        dtype: str | None = None,
        max_length: int | None = None,
        stride: int | None = None,
        batch_size: int | None = None,
        max_tokens: int | None = None,
    ) -> None:
        super().__init__(
            {"model": model or DEFAULT_MODEL},
            primary="model",
            device=device,
            dtype=dtype,
            max_length=max_length,
            stride=stride,
            batch_size=batch_size,
            max_tokens=max_tokens,
        )


class LogLikelihoodDetector(SingleModelDetector):
    """Mean log-likelihood (1/n) sum_i log p_i: machine text is more probable to an LM
    (Solaiman et al. 2019; Gehrmann et al. 2019). Higher = more machine; raw value as is."""

    name = "likelihood"

    def _reduce(self, table: TokenTable, index: np.ndarray) -> tuple[float, dict[str, float]]:
        value = float(table.logprob[index].mean())
        return value, {"mean_logprob": value}


class LogRankDetector(SingleModelDetector):
    """Mean log-rank (1/n) sum_i log r_i (Mitchell et al. 2023's baseline; GLTR's ranks):
    machine text picks top-ranked tokens. Lower log-rank = more machine, so the score is its
    negation; the raw mean log-rank is kept."""

    name = "log-rank"

    def _reduce(self, table: TokenTable, index: np.ndarray) -> tuple[float, dict[str, float]]:
        value = float(np.log(table.rank[index]).mean())
        return -value, {"mean_log_rank": value}


class EntropyDetector(SingleModelDetector):
    """Mean predictive entropy (1/n) sum_i H_i (Gehrmann et al. 2019): the model is more sure of
    what comes next inside machine text. Lower = more machine, so the score is its negation."""

    name = "entropy"

    def _reduce(self, table: TokenTable, index: np.ndarray) -> tuple[float, dict[str, float]]:
        value = float(table.entropy[index].mean())
        return -value, {"mean_entropy": value}


class LRRDetector(SingleModelDetector):
    """Log-likelihood log-rank ratio (Su et al. 2023, DetectLLM):
    LRR = -(1/n) sum_i log p_i / ((1/n) sum_i log r_i); higher = more machine.

    When every token is the top choice the denominator is 0; it is floored at 1e-12 / n so the
    score stays finite (and very high, as it should for fully predictable text).
    """

    name = "lrr"

    def _reduce(self, table: TokenTable, index: np.ndarray) -> tuple[float, dict[str, float]]:
        mean_logprob = float(table.logprob[index].mean())
        mean_log_rank = float(np.log(table.rank[index]).mean())
        value = -mean_logprob / max(mean_log_rank, 1e-12 / len(index))
        return value, {"ratio": value, "mean_logprob": mean_logprob, "mean_log_rank": mean_log_rank}


class GLTRDetector(SingleModelDetector):
    """GLTR's rank buckets (Gehrmann et al. 2019): the share of tokens whose rank is in the top
    10, 11-100, 101-1000 and beyond. Machine text puts more tokens in the top 10, so the score
    is that share; all four shares are kept as raw values (``top10``, ``top100``, ...)."""

    name = "gltr"

    def _reduce(self, table: TokenTable, index: np.ndarray) -> tuple[float, dict[str, float]]:
        ranks = table.rank[index]
        n = len(ranks)
        edges = (0, *GLTR_BUCKETS, np.inf)
        shares = [
            float(((ranks > lo) & (ranks <= hi)).sum() / n)
            for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        ]
        raw = {"top10": shares[0], "top100": shares[1], "top1000": shares[2], "rest": shares[3]}
        return shares[0], raw

"""Fast-DetectGPT (Bao et al., ICLR 2024): conditional probability curvature, computed
analytically from a sampling model's and a scoring model's next-token distributions."""

from __future__ import annotations

import math

import numpy as np

from unspun.detect.zeroshot.common import LMDetector
from unspun.detect.zeroshot.lm import TokenTable
from unspun.models.packaged import DEFAULT_LM as DEFAULT_SCORING_MODEL


class FastDetectGPT(LMDetector):
    """Analytic sampling discrepancy of Fast-DetectGPT.

    With scoring model p and sampling model q, for scored tokens x_1..x_n::

        mu_i     = sum_v q(v | x_<i) log p(v | x_<i)               (E_q[log p])
        sigma2_i = sum_v q(v | x_<i) (log p(v | x_<i))^2 - mu_i^2  (Var_q[log p])
        d(x)     = (sum_i log p(x_i | x_<i) - sum_i mu_i) / sqrt(sum_i sigma2_i)

    i.e. how far the text's log-likelihood lies above what alternative tokens sampled from q
    would score, in standard deviations, treating positions as independent given the prefix.
    Machine text scores high, so d is the score as is. When q is p the sampling model costs no
    second forward pass. When the two models' logits differ in width (padded embeddings), both
    are cut to the common width, as the authors do. Passages use the same formula on their tokens.
    """

    name = "fast-detectgpt"
    model_parameters = {"scoring": "scoring_model", "sampling": "sampling_model"}
    needs_variance = True

    def __init__(
        self,
        scoring_model: str | None = None,
        sampling_model: str | None = None,
        *,
        model: str | None = None,
        device: str | None = None,
        dtype: str | None = None,
        max_length: int | None = None,
        stride: int | None = None,
        batch_size: int | None = None,
        max_tokens: int | None = None,
    ) -> None:
        scoring = scoring_model or model or DEFAULT_SCORING_MODEL
        sampling = sampling_model or scoring
        super().__init__(
            {"scoring": scoring, "sampling": sampling},
            primary="scoring",
            reference="sampling",
            device=device,
            dtype=dtype,
            max_length=max_length,
            stride=stride,
            batch_size=batch_size,
            max_tokens=max_tokens,
        )

    def _reduce(self, table: TokenTable, index: np.ndarray) -> tuple[float, dict[str, float]]:
        assert table.cross_mean is not None and table.cross_var is not None
        log_likelihood = float(table.logprob[index].sum())
        expected = float(table.cross_mean[index].sum())
        variance = float(table.cross_var[index].sum())
        value = (log_likelihood - expected) / math.sqrt(variance) if variance > 0 else float("nan")
        n = len(index)
        return value, {
            "discrepancy": value,
            "mean_logprob": log_likelihood / n,
            "mean_expected_logprob": expected / n,
            "mean_variance": variance / n,
        }

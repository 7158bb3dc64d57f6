"""Binoculars (Hans et al., ICML 2024): a performer model's log-perplexity divided by the
observer/performer cross-perplexity."""

from __future__ import annotations

import numpy as np

from unspun.detect.zeroshot.common import LMDetector
from unspun.detect.zeroshot.lm import TokenTable
from unspun.errors import ConfigError

# The paper's pair, named in the error when a model is missing (no default: the bundled
# Gemma 3 270M has no instruction-tuned twin installed, and a pair of 7B models is a choice).
PAPER_PAIR = ("tiiuae/falcon-7b", "tiiuae/falcon-7b-instruct")


class Binoculars(LMDetector):
    """The Binoculars score of two models that share a tokenizer.

    For scored tokens x_1..x_n, with performer P and observer O::

        log PPL   = -(1/n) sum_i log P(x_i | x_<i)
        log X-PPL = -(1/n) sum_i sum_v O(v | x_<i) log P(v | x_<i)
        B         = log PPL / log X-PPL

    The paper writes B = log PPL_M1 / log X-PPL_M1,M2; which model plays which role there has
    been read both ways. We follow the authors' released detector, with which their published
    thresholds (Falcon-7B observer, Falcon-7B-instruct performer) were chosen: the perplexity
    comes from the performer, and the cross-perplexity is the performer's log-loss averaged under
    the observer's next-token distribution. Machine text has a LOW B (below about 0.9 for the
    Falcon pair), so the score is -B; B (``ratio``) and both log-perplexities are kept as raw
    values. Passages use the same ratio over their own tokens; token evidence is the performer's.
    """

    name = "binoculars"
    model_parameters = {"observer": "observer", "performer": "performer"}

    def __init__(
        self,
        observer: str | None = None,
        performer: str | None = None,
        *,
        device: str | None = None,
        dtype: str | None = None,
        max_length: int | None = None,
        stride: int | None = None,
        batch_size: int | None = None,
        max_tokens: int | None = None,
    ) -> None:
        if not observer or not performer:
            raise ConfigError(
                "binoculars needs a pair of models of one family: --observer (a base model) and "
                f"--performer (its instruction-tuned twin), e.g. {PAPER_PAIR[0]} and "
                f"{PAPER_PAIR[1]} as in the paper"
            )
        super().__init__(
            {"observer": observer, "performer": performer},
            primary="performer",
            reference="observer",
            device=device,
            dtype=dtype,
            max_length=max_length,
            stride=stride,
            batch_size=batch_size,
            max_tokens=max_tokens,
        )

    def _reduce(self, table: TokenTable, index: np.ndarray) -> tuple[float, dict[str, float]]:
        assert table.cross_mean is not None
        log_ppl = float(-table.logprob[index].mean())
        log_x_ppl = float(-table.cross_mean[index].mean())
        ratio = log_ppl / log_x_ppl if log_x_ppl > 0 else float("nan")
        return -ratio, {"ratio": ratio, "log_ppl": log_ppl, "log_x_ppl": log_x_ppl}

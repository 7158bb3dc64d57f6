"""What a text looks like to a causal LM, as a fixed set of numbers: summaries of the distributions
of its tokens' log-probabilities, ranks and entropies (Ghostbuster-style features, over one model),
plus the classic zero-shot statistics. The default detector's head reads these."""

from __future__ import annotations

import math

import numpy as np

from unspun.detect.zeroshot.lm import TokenTable

# Order matters: a trained head stores one weight per name, and detector.json lists them.
FEATURES = (
    "mean_logprob",  # the likelihood detector
    "std_logprob",
    "q10_logprob",  # how low the least expected tenth of the tokens go
    "median_logprob",
    "mean_log_rank",  # the log-rank detector
    "top1_share",  # GLTR: the model's first choice
    "top10_share",  # GLTR's first bucket
    "mean_entropy",  # the entropy detector
    "std_entropy",
    "mean_excess",  # log p - E[log p] = log p + H per token: surprise beyond the expected
    "std_excess",
    "fast_detectgpt",  # the analytic discrepancy with the model sampling for itself
    "lrr",  # DetectLLM's log-likelihood / log-rank ratio
)
# No length feature: in the shared data the machine texts' lengths differ from the human ones
# (current-news' machine texts are all shorter than their human pairs: AUROC 1.00 by token count
# alone), which a head would learn and which says nothing about other sources.


def token_features(table: TokenTable, index: np.ndarray) -> np.ndarray:
    """The FEATURES of the tokens ``index`` of ``table`` (needs ``cross_var``: the model's own
    variance of log p, as Fast-DetectGPT with sampling = scoring model computes it)."""
    if len(index) == 0:
        return np.full(len(FEATURES), np.nan)
    logprob = table.logprob[index]
    log_rank = np.log(table.rank[index])
    entropy = table.entropy[index]
    excess = logprob + entropy
    variance = float(table.cross_var[index].sum()) if table.cross_var is not None else 0.0
    mean_log_rank = float(log_rank.mean())
    values = (
        logprob.mean(),
        logprob.std(),
        np.quantile(logprob, 0.1),
        np.median(logprob),
        mean_log_rank,
        (table.rank[index] == 1).mean(),
        (table.rank[index] <= 10).mean(),
        entropy.mean(),
        entropy.std(),
        excess.mean(),
        excess.std(),
        excess.sum() / math.sqrt(variance) if variance > 0 else 0.0,
        -logprob.mean() / max(mean_log_rank, 1e-12 / len(index)),
    )
    return np.asarray(values, dtype=np.float64)

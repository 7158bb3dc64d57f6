"""Zero-shot detectors that read text with one or two causal LMs; importing registers them:
likelihood, log-rank, entropy, lrr, gltr (stats.py), fast-detectgpt, binoculars."""

from unspun.detect.zeroshot import binoculars, fast_detectgpt, stats  # noqa: F401

"""Zero-shot detectors that read text with one or two causal LMs: likelihood, log-rank, entropy,
lrr, gltr (stats.py), fast-detectgpt, binoculars; their names are in ``detect/registry.py``."""

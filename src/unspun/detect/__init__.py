"""Detectors: the Detector protocol, supervised and zero-shot methods, calibration, ensembles."""

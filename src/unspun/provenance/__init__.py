"""Provenance: an index of trusted articles, tracing an article to its sources, and claim checks."""

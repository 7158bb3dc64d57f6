"""Batch scanning of crawls and sites (local process pool or Ray)."""

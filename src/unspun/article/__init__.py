"""Parsing of plain-text dumps, HTML pages and records into an Article with template signals."""

from unspun.article.model import PARAGRAPH_SEPARATOR, Article, Signal

__all__ = ["Article", "Signal", "PARAGRAPH_SEPARATOR"]

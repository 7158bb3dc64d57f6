"""Parsing of plain-text dumps, HTML pages and records into an Article with template signals."""

from unspun.article.html import parse_html
from unspun.article.model import PARAGRAPH_SEPARATOR, Article, Signal
from unspun.article.reader import decode_bytes, read_article, read_article_bytes
from unspun.article.record import parse_record
from unspun.article.signals import SIGNAL_IDS
from unspun.article.text import parse_text

__all__ = [
    "Article",
    "Signal",
    "PARAGRAPH_SEPARATOR",
    "SIGNAL_IDS",
    "decode_bytes",
    "parse_html",
    "parse_record",
    "parse_text",
    "read_article",
    "read_article_bytes",
]

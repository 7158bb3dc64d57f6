"""Records (a JSON object, one JSONL/CSV/Parquet row) into an Article: ``text`` or ``html`` plus
optional metadata fields, each checked with a clear message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from unspun.article.model import Article
from unspun.errors import EmptyInput, MalformedInput

METADATA_FIELDS = ("title", "subtitle", "author", "url", "date", "site")


def parse_record(record: Mapping[str, Any], *, where: str = "the record") -> Article:
    """Parse one record; ``where`` names it in error messages (e.g. "line 12 of feed.jsonl")."""
    if not isinstance(record, Mapping):
        raise MalformedInput(f"{where} must be an object with a 'text' field, not {_kind(record)}")
    text = record.get("text")
    html = record.get("html")
    if text is None and html is None:
        fields = ", ".join(sorted(map(str, record))) or "none"
        raise MalformedInput(f"{where} has no 'text' (or 'html') field; its fields are: {fields}")
    if text is not None and not isinstance(text, str):
        raise MalformedInput(f"{where}: 'text' must be a string, not {_kind(text)}")
    if html is not None and not isinstance(html, str | bytes):
        raise MalformedInput(f"{where}: 'html' must be a string, not {_kind(html)}")
    metadata = {name: _metadata_value(record.get(name), name, where) for name in METADATA_FIELDS}

    if text is not None and text.strip():
        from unspun.article.text import parse_text

        return parse_text(text, **metadata)
    if html is not None and (html.strip() if isinstance(html, str) else html.strip()):
        from unspun.article.html import parse_html

        article = parse_html(html, url=metadata["url"])
        # Fields the record states are more trustworthy than what was guessed from the page.
        for name, value in metadata.items():
            if value is not None:
                setattr(article, name, value)
        if metadata["author"] is not None:
            from unspun.article.signals import byline_signals

            article.signals = [
                s
                for s in article.signals
                if s.id not in {"missing_byline", "single_name_byline", "generic_byline"}
            ] + byline_signals(article.author, full_page=article.title is not None)
        return article
    raise EmptyInput(f"{where} has an empty '{'text' if text is not None else 'html'}' field")


def _metadata_value(value: Any, name: str, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if name == "date" and isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if name == "date" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # a bare year
    raise MalformedInput(f"{where}: '{name}' must be a string, not {_kind(value)}")


def _kind(value: Any) -> str:
    names = {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "true/false",
        int: "a number",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)

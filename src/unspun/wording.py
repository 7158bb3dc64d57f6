"""Counts in words: "1 row", "2,000 rows" (reports and messages say what they count correctly)."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` with thousands separators and ``noun`` in the right number (``plural`` if it is not
    the noun plus "s")."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"

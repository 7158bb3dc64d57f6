"""Text for people: counts in words ("1 row", "2,000 rows") and texts cut at a word boundary."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` with thousands separators and ``noun`` in the right number (``plural`` if it is not
    the noun plus "s")."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def cut_at_space(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its beginning cut at the last space or
    line break within the limit (never inside a word, unless one word is longer than the limit)."""
    if len(text) <= limit:
        return text
    cut = max(text.rfind(" ", 0, limit + 1), text.rfind("\n", 0, limit + 1))
    return text[: cut if cut > 0 else limit]

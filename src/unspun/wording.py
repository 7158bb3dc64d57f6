"""Text for people: counts in words ("1 row", "2,000 rows"), texts cut at a word boundary, and the
one word count that every report, scan row and "too short" reason gives."""

from __future__ import annotations

import re

# A word: a run of non-space characters with at least one letter or digit in it.
_WORD = re.compile(r"[^\W_]\S*")


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


def count_words(text: str) -> int:
    """The words in ``text``: runs between spaces that hold a letter or a digit ("12", "don't" and
    "well-known" are one word each, a lone "—" is none). Removing invisible characters or replacing
    look-alike letters does not change the count, so the body as given and as checked agree."""
    return sum(1 for _ in _WORD.finditer(text))

"""Edited copies of training texts: the cheap word-level edits a content farm can run over a
generated article to slip past a detector (typos, dropped articles), which Unicode normalisation
cannot undo. The head is trained on an edited copy of each training text next to the original,
human and machine alike, so the edits stop looking like evidence either way.

The rates are drawn per text from wide ranges with the detector's own seed; the attack benchmark
(`benchmarks/attacks.py`) uses its own implementation with fixed rates, so it measures the same
kinds of edit, not the very same edited texts.
"""

from __future__ import annotations

import random
import re

EDIT_SEED = 20261126
# Weight of an edited copy in the head's loss, relative to an original text: enough to teach the
# head that edits are not evidence, small enough to keep what it learns from clean text
# (benchmarks/detector_generalisation.py --edited-weight measures the trade).
EDITED_WEIGHT = 0.25

_LONG_WORD = re.compile(r"[^\W\d_]{4,}")
_ARTICLE = re.compile(r"\b(?:[Aa]n?|[Tt]he)\s+")
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS = {
    letter: row[max(0, i - 1) : i] + row[i + 1 : i + 2]
    for row in _KEYBOARD_ROWS
    for i, letter in enumerate(row)
}


def with_typos(text: str, rng: random.Random, rate: float) -> str:
    """Give ``rate`` of the words of four or more letters one typo: two neighbouring letters
    swapped, a letter dropped or doubled, or a key next to it hit instead."""

    def typo(match: re.Match[str]) -> str:
        word = match.group(0)
        if rng.random() >= rate:
            return word
        i = rng.randrange(1, len(word) - 1)
        kind = rng.randrange(4)
        if kind == 0:
            return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
        if kind == 1:
            return word[:i] + word[i + 1 :]
        if kind == 2:
            return word[:i] + word[i] + word[i:]
        near = _NEIGHBOURS.get(word[i].lower())
        return word[:i] + rng.choice(near) + word[i + 1 :] if near else word

    return _LONG_WORD.sub(typo, text)


def without_articles(text: str, rng: random.Random, rate: float) -> str:
    """Drop ``rate`` of the articles (a, an, the)."""
    return _ARTICLE.sub(lambda m: "" if rng.random() < rate else m.group(0), text)


def edited_copy(text: str, rng: random.Random) -> str:
    """One edited copy: typos, dropped articles, or both, at rates drawn for this text."""
    choice = rng.random()
    if choice < 0.4:
        return with_typos(text, rng, rng.uniform(0.03, 0.15))
    if choice < 0.7:
        return without_articles(text, rng, rng.uniform(0.2, 0.8))
    return without_articles(
        with_typos(text, rng, rng.uniform(0.02, 0.1)), rng, rng.uniform(0.2, 0.8)
    )

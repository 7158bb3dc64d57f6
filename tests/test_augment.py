"""Edited training copies: the edits themselves, and what they teach the head."""

from __future__ import annotations

import random
import re

import numpy as np

from unspun.detect.supervised.augment import edited_copy, with_typos, without_articles
from unspun.detect.supervised.train import Featurised, fit_document_head

TEXT = (
    "The council approved the budget on Tuesday after a long debate. An official said the new "
    "library would open in the spring, and the mayor thanked residents for their patience."
)


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", text)


def _edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        previous, row[0] = row[0], i
        for j, z in enumerate(b, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != z))
    return row[-1]


def test_typos_touch_only_long_words_and_change_each_by_one_edit():
    clean = _words(TEXT)
    edited = _words(with_typos(TEXT, random.Random(3), rate=1.0))
    assert len(edited) == len(clean)
    changed = 0
    for before, after in zip(clean, edited, strict=True):
        if len(before) < 4:
            assert after == before
            continue
        assert _edit_distance(before, after) <= 2  # a swap is two substitutions
        changed += after != before
    assert changed >= 0.8 * sum(len(w) >= 4 for w in clean)
    assert with_typos(TEXT, random.Random(3), rate=0.0) == TEXT


def test_article_dropping_leaves_other_words_alone():
    text = "The theme of another day: a man, an apple and the anthem."
    assert (
        without_articles(text, random.Random(1), rate=1.0)
        == "theme of another day: man, apple and anthem."
    )
    assert without_articles(text, random.Random(1), rate=0.0) == text


def test_edited_copies_are_reproducible_and_differ_from_the_text():
    first = [edited_copy(TEXT, random.Random(7)) for _ in range(3)]
    assert len(set(first)) == 1
    rng = random.Random(7)
    copies = [edited_copy(TEXT, rng) for _ in range(20)]
    # A low typo rate can leave a short text as it was; most copies are edited.
    assert sum(copy != TEXT for copy in copies) >= 15


def test_edited_copies_teach_the_head_to_rely_on_what_edits_do_not_change():
    # Feature 0 separates the classes on clean text but an edit wipes it out; feature 1 separates
    # them less cleanly, edited or not. With edited copies the head leans on feature 1.
    rng = np.random.default_rng(0)
    n = 400
    labels = np.arange(n) % 2 == 1
    fragile = labels + rng.normal(0, 0.2, n)
    robust = labels + rng.normal(0, 0.8, n)
    documents = np.column_stack([fragile, robust])
    edited = np.column_stack([rng.normal(0, 0.2, n), labels + rng.normal(0, 0.8, n)])
    rows = np.arange(n)
    empty = np.zeros((0, 2))
    plain = fit_document_head(Featurised(documents, empty, np.zeros(0, int)), labels, rows)
    taught = fit_document_head(Featurised(documents, empty, np.zeros(0, int), edited), labels, rows)
    assert taught.coef[1] / taught.coef[0] > 1.5 * plain.coef[1] / plain.coef[0]
    # Edited machine texts score higher against edited humans with the taught head.
    machine, human = edited[labels], edited[~labels]
    gap = lambda head: head.logits(machine).mean() - head.logits(human).mean()  # noqa: E731
    assert gap(taught) > gap(plain)
    # Rows without a copy (NaN) are simply not doubled.
    partial = edited.copy()
    partial[: n // 2] = np.nan
    half = fit_document_head(Featurised(documents, empty, np.zeros(0, int), partial), labels, rows)
    assert np.all(np.isfinite(half.coef))

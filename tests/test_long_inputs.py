"""Long inputs cost time linear in their length; a huge one is scored on a stated beginning."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from unspun.detect.supervised.embedding import _overlapping, _running_max_ends


@settings(max_examples=200, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 40), min_size=1, max_size=30),
    gaps=st.lists(st.integers(0, 5), min_size=30, max_size=30),
    window=st.tuples(st.integers(0, 800), st.integers(1, 200)),
)
def test_a_window_visits_every_passage_that_holds_one_of_its_tokens(lengths, gaps, window):
    spans, position = [], 0
    for length, gap in zip(lengths, gaps, strict=False):
        position += gap
        spans.append((position, position + length))
        position += length
    start, size = window
    centres = np.arange(start, start + size, dtype=np.float64) + 0.5
    first, last = _overlapping(_running_max_ends(spans), spans, centres)
    holding = [p for p, (s, e) in enumerate(spans) if ((centres >= s) & (centres < e)).any()]
    # Passages here do not overlap and every integer position has a token centre, so the range
    # is exactly the passages holding a token: no more (the cost stays linear), no fewer.
    assert list(range(first, last)) == holding


def test_a_long_text_is_scored_on_a_stated_beginning(tmp_path):
    from unspun.article.model import Article
    from unspun.pipeline import CheckConfig, Checker, scored_part

    sentence = "The council met on Tuesday to discuss the budget for the coming year. "
    body = sentence * 60
    limit = 1_000
    checker = Checker(CheckConfig(max_scored_chars=limit))
    report = checker.check(Article(paragraphs=[body.strip()]))
    part = scored_part(body.strip(), limit)
    assert len(part) <= limit and body.startswith(part) and not part.endswith("Tues")
    assert report.detector.chars_scored == len(part)
    assert report.detector.chars_scored + report.detector.chars_not_scored == len(body.strip())
    # The score is that of the beginning alone, and every passage lies inside it.
    alone = checker.check(Article(paragraphs=[part]))
    assert report.scores == alone.scores
    assert report.passages and all(p.end <= len(part) for p in report.passages)
    # A text within the bound says nothing about it.
    assert alone.detector.chars_not_scored is None


def test_scored_part_never_cuts_inside_a_word():
    from unspun.pipeline import scored_part

    text = "alpha beta gamma delta"
    assert scored_part(text, 100) == text
    assert scored_part(text, 12) == "alpha beta"
    assert scored_part(text, 3) == "alp"  # no whitespace to cut at: the bound holds anyway


def test_a_bound_below_one_character_is_a_config_error():
    import pytest

    from unspun.errors import ConfigError
    from unspun.pipeline import CheckConfig, Checker

    with pytest.raises(ConfigError, match="max_scored_chars must be at least 1, got 0"):
        Checker(CheckConfig(max_scored_chars=0))

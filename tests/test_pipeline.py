"""The single pipeline: Article -> Report, with offsets into the body and a verdict in words."""

from __future__ import annotations

import json

from unspun.article import parse_text
from unspun.pipeline import CheckConfig, Checker
from unspun.report import SCHEMA

LONG_WORDS = (
    "The extraordinarily comprehensive infrastructural modernisation of the region was "
    "necessitating a substantial intergovernmental coordination. "
) * 12
SHORT_WORDS = "The cat sat on the mat and we all had tea. " * 12


def test_report_follows_the_contract_and_offsets_index_into_the_body(plain_detector):
    article = parse_text("Author: Jo\n\nA headline\n\n" + SHORT_WORDS + "\n\n" + LONG_WORDS)
    report = Checker(CheckConfig(), detector=plain_detector).check(article)
    data = json.loads(report.to_json())
    assert data["schema"] == SCHEMA
    for key in (
        "verdict",
        "reason",
        "human_percentile",
        "threshold",
        "target_fpr",
        "detector",
        "scores",
        "article",
        "signals",
        "passages",
    ):
        assert key in data
    body = data["article"]["body"]
    assert data["passages"], "passages are scored"
    for passage in data["passages"]:
        assert body[passage["start"] : passage["end"]] == passage["text"]
    for signal in data["signals"]:
        if signal["start"] is not None:
            assert 0 <= signal["start"] <= signal["end"] <= len(body)
    assert data["scores"]["mean-word-length"] > 0
    assert {k: data["detector"][k] for k in ("name", "version")} == {
        "name": "mean-word-length",
        "version": "test",
    }
    assert data["detector"]["model"] is None  # not a language-model detector


def test_verdicts_follow_the_calibrated_threshold(plain_detector):
    checker = Checker(CheckConfig(target_fpr=0.01), detector=plain_detector)
    machine = checker.check(parse_text(LONG_WORDS))
    human = checker.check(parse_text(SHORT_WORDS))
    assert machine.verdict == "machine" and "1 in 100" in machine.reason
    assert human.verdict == "not_flagged"
    assert machine.human_percentile > human.human_percentile
    # Long-word passages score higher than short-word ones in a mixed article.
    mixed = checker.check(parse_text(SHORT_WORDS + "\n\n" + LONG_WORDS))
    first, last = mixed.passages[0], mixed.passages[-1]
    assert last.score > first.score


def test_short_text_is_uncertain_whatever_the_score(plain_detector):
    report = Checker(CheckConfig(), detector=plain_detector).check(
        parse_text("Extraordinarily comprehensive modernisation.")
    )
    assert report.verdict == "uncertain"
    assert report.reason.startswith("too short")


def test_batch_and_single_checks_agree(plain_detector):
    checker = Checker(CheckConfig(), detector=plain_detector)
    articles = [parse_text(SHORT_WORDS), parse_text(LONG_WORDS)]
    batch = checker.check_many(articles)
    single = [checker.check(a) for a in articles]
    assert [r.to_json_dict() for r in batch] == [r.to_json_dict() for r in single]


def test_report_says_what_the_threshold_rests_on(plain_detector):
    checker = Checker(CheckConfig(target_fpr=0.05), detector=plain_detector)
    data = json.loads(checker.check(parse_text(LONG_WORDS)).to_json())
    measured = data["calibration"]
    # The conftest detector's 100 reference scores are 4.00..4.99: 5 reach the 5% threshold.
    assert measured["reference"] == "test reference"
    assert (measured["human_texts"], measured["flagged"]) == (100, 5)
    assert measured["false_positive_rate"] == 0.05
    low, high = measured["interval"]
    assert 0 < low < 0.05 < high < 0.15
    assert measured["domains"] == []


def test_uncalibrated_report_has_no_calibration(plain_detector):
    plain_detector.calibration = None
    report = Checker(CheckConfig(), detector=plain_detector).check(parse_text(LONG_WORDS))
    assert report.verdict == "uncertain" and report.calibration is None

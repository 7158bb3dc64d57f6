"""Calibration: thresholds at a target false-positive rate, probabilities, and verdicts in words."""

from __future__ import annotations

import math

import pytest

from unspun.detect.calibration import Calibration, decide, find_calibration, one_in
from unspun.errors import ConfigError


def make(scores, **kwargs) -> Calibration:
    return Calibration(detector="d", settings={"model": "m"}, human_scores=scores, **kwargs)


def test_threshold_flags_at_most_target_share_of_humans():
    calibration = make([float(i) for i in range(1000)])  # 0..999
    for fpr in (0.01, 0.05, 0.2):
        threshold = calibration.threshold(fpr)
        assert calibration.false_positive_rate(threshold) <= fpr
        # and not needlessly strict: one step lower would exceed the target
        assert calibration.false_positive_rate(threshold - 1.0) > fpr


def test_target_fpr_below_what_the_reference_can_show_is_refused():
    calibration = make([0.1 * i for i in range(50)])
    with pytest.raises(ConfigError, match="smallest"):
        calibration.threshold(0.01)
    with pytest.raises(ConfigError, match="between 0 and 1"):
        calibration.threshold(1.5)


def test_percentile_is_the_share_of_human_scores_below_even_with_a_platt_fit():
    calibration = make([1.0, 2.0, 3.0, 4.0])
    assert calibration.percentile(0.0) == 0.0
    assert calibration.percentile(3.5) == 0.75
    assert calibration.percentile(9.0) == 1.0
    # A stored Platt fit (older supervised calibrations carry one) does not change the scale.
    platt = make([1.0, 2.0], platt=(2.0, -1.0))
    assert platt.percentile(0.5) == 0.0
    assert platt.percentile(1.5) == 0.5


def test_decide_gives_machine_grey_zone_and_not_flagged_with_reasons():
    calibration = make([float(i) for i in range(1000)])
    flagged = decide(995.0, calibration, 0.01)
    assert flagged.verdict == "machine"
    assert "1 in 100" in flagged.reason
    assert flagged.human_percentile >= flagged.threshold
    grey = decide(980.0, calibration, 0.01)  # above the 5 % threshold, below the 1 % one
    assert grey.verdict == "uncertain" and grey.reason.startswith("grey zone")
    below = decide(100.0, calibration, 0.01)
    assert below.verdict == "not_flagged" and below.reason.startswith("not flagged")
    assert below.human_percentile == pytest.approx(0.1)
    assert below.human_percentile < below.threshold


def test_abstain_reason_and_missing_calibration_force_uncertain():
    calibration = make([float(i) for i in range(1000)])
    short = decide(999.0, calibration, 0.01, abstain="too short: 3 words")
    assert short.verdict == "uncertain" and short.reason == "too short: 3 words"
    uncalibrated = decide(5.0, None, 0.01)
    assert uncalibrated.verdict == "uncertain"
    assert uncalibrated.reason == "uncalibrated: showing the raw score only"
    assert math.isnan(uncalibrated.threshold)


def test_saved_calibration_round_trips_and_is_only_used_for_matching_settings(
    tmp_path, monkeypatch
):
    calibration = make([0.5, 1.5, 2.5], platt=(1.0, 0.0))
    path = tmp_path / "c.json"
    calibration.save(path)
    loaded = Calibration.load(path)
    assert loaded.human_scores == [0.5, 1.5, 2.5] and loaded.platt == (1.0, 0.0)
    assert loaded.matches("d", {"model": "m"})
    assert not loaded.matches("d", {"model": "other"})

    monkeypatch.setenv("UNSPUN_HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "calibrations").mkdir(parents=True)
    calibration.save(tmp_path / "home" / "calibrations" / "d.json")

    class Detector:
        name = "d"
        calibration = None

        def __init__(self, settings):
            self.settings = settings

    assert find_calibration(Detector({"model": "m"})) is not None
    assert find_calibration(Detector({"model": "another-pair"})) is None


def test_broken_calibration_file_is_a_config_error(tmp_path):
    path = tmp_path / "c.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError):
        Calibration.load(path)


def test_one_in_words():
    assert one_in(0.01) == "1 in 100"
    assert one_in(0.025) == "1 in 40"
    assert one_in(0.0001) == "1 in 10,000"


def test_domains_stay_with_their_scores_when_sorted():
    calibration = make([3.0, 1.0, 2.0, 0.5], human_domains=["news", "wiki", "news", "wiki"])
    assert calibration.human_scores == [0.5, 1.0, 2.0, 3.0]
    assert calibration.human_domains == ["wiki", "wiki", "news", "news"]
    overall, news, wiki = calibration.measured_rates(1.5)
    assert (overall.domain, overall.flagged, overall.texts) == ("all", 2, 4)
    assert (news.domain, news.flagged, news.texts) == ("news", 2, 2)
    assert (wiki.domain, wiki.flagged, wiki.texts) == ("wiki", 0, 2)
    with pytest.raises(ConfigError, match="one domain per"):
        make([1.0, 2.0], human_domains=["news"])


def test_measured_rate_comes_with_an_interval_that_widens_with_fewer_texts():
    many = make([i / 1000 for i in range(1000)])
    few = make([i / 100 for i in range(100)])
    (rate_many,) = many.measured_rates(many.threshold(0.01))
    (rate_few,) = few.measured_rates(few.threshold(0.01))
    assert (rate_many.flagged, rate_many.texts) == (10, 1000)
    assert (rate_few.flagged, rate_few.texts) == (1, 100)
    for rate in (rate_many, rate_few):
        low, high = rate.interval
        assert low < rate.rate < high
    assert (
        rate_few.interval[1] - rate_few.interval[0] > rate_many.interval[1] - rate_many.interval[0]
    )
    # Nothing flagged still leaves room above zero: 0 of 100 is not a 0% false-positive rate.
    (none,) = few.measured_rates(10.0)
    assert none.rate == 0.0 and none.interval[0] == 0.0 and none.interval[1] > 0.03


def test_a_calibration_the_user_saved_wins_over_the_one_a_detector_ships(tmp_path, monkeypatch):
    monkeypatch.setenv("UNSPUN_HOME", str(tmp_path / "home"))

    class Detector:
        name = "d"
        settings = {"model": "m"}
        calibration = make([0.0, 1.0, 2.0], reference="shipped")

    assert find_calibration(Detector()).reference == "shipped"
    (tmp_path / "home" / "calibrations").mkdir(parents=True)
    make([5.0, 6.0, 7.0], reference="our newsroom's human text").save(
        tmp_path / "home" / "calibrations" / "d.json"
    )
    assert find_calibration(Detector()).reference == "our newsroom's human text"
    # One saved for other settings never replaces the shipped one.
    other = Calibration(detector="d", settings={"model": "other"}, human_scores=[9.0])
    other.save(tmp_path / "home" / "calibrations" / "d.json")
    assert find_calibration(Detector()).reference == "shipped"

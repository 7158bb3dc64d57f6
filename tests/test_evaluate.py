"""Evaluation metrics against values worked out by hand on small score lists."""

from __future__ import annotations

import math

import pytest

from unspun.detect.data import LabelledText
from unspun.detect.evaluate import evaluate, roc_plot, score_records
from unspun.errors import ConfigError, EmptyInput


def _run(human: list[float], machine: list[float], **kwargs):
    return evaluate(human + machine, [False] * len(human) + [True] * len(machine), **kwargs)


def test_perfect_separation() -> None:
    result = _run([0.1, 0.2, 0.3], [0.7, 0.8, 0.9])
    assert result["n"] == 6
    assert result["auroc"] == 1.0
    assert result["tpr_at_1pct_fpr"] == 1.0
    assert result["tpr_at_5pct_fpr"] == 1.0
    assert result["f1"] == 1.0
    assert result["f1_threshold_source"] == "best_f1"


def test_reversed_scores() -> None:
    result = _run([0.7, 0.8, 0.9], [0.1, 0.2, 0.3])
    assert result["auroc"] == 0.0
    assert result["tpr_at_1pct_fpr"] == 0.0


def test_ties_count_half_and_are_never_flagged() -> None:
    result = _run([0.5, 0.5], [0.5, 0.5])
    assert result["auroc"] == 0.5
    # Flagging a tie would flag every human text too, so no machine text is flagged at 1 % FPR.
    assert result["tpr_at_1pct_fpr"] == 0.0
    mixed = _run([0.1, 0.5], [0.5, 0.9])
    # pairs: 0.5 vs 0.1 win, 0.5 vs 0.5 tie, 0.9 wins twice -> (1 + 0.5 + 2) / 4
    assert mixed["auroc"] == pytest.approx(3.5 / 4)


def test_auroc_interval_covers_the_auroc_of_new_samples_about_95_percent_of_the_time() -> None:
    import numpy as np

    from unspun.detect.evaluate import auroc, auroc_interval

    rng = np.random.default_rng(7)
    true_auroc = 0.7602  # two unit normals one standard deviation apart: Phi(1 / sqrt(2))
    covered, widths = 0, []
    for _ in range(400):
        human, machine = rng.normal(0, 1, 150), rng.normal(1, 1, 60)
        low, high = auroc_interval(human, machine)
        assert low < auroc(human, machine) < high
        covered += low <= true_auroc <= high
        widths.append(high - low)
    assert 0.90 <= covered / 400 <= 0.99
    # More texts, narrower interval.
    low, high = auroc_interval(rng.normal(0, 1, 1500), rng.normal(1, 1, 600))
    assert high - low < 0.5 * float(np.mean(widths))
    result = _run(list(rng.normal(0, 1, 50)), list(rng.normal(1, 1, 50)))
    low, high = result["auroc_interval"]
    assert low < result["auroc"] < high
    assert result["groups"][0]["auroc_interval"] == result["auroc_interval"]


def test_auroc_interval_needs_two_texts_a_side_and_stays_in_range() -> None:
    assert _run([0.1], [0.7, 0.8])["auroc_interval"] is None
    assert _run([0.1, 0.2, 0.3], [0.7, 0.8, 0.9])["auroc_interval"] == [1.0, 1.0]
    assert _run([0.5, 0.5], [0.5, 0.5])["auroc_interval"] == [0.5, 0.5]


def test_tpr_at_fixed_fpr_uses_human_scores_of_the_set() -> None:
    human = [float(i) for i in range(100)]  # 0 .. 99
    machine = [99.5, 98.5, 96.0, 50.0]
    result = _run(human, machine)
    # 1 %: one human text (99) may be flagged -> flag above 98 -> 99.5 and 98.5 -> 2 / 4
    assert result["tpr_at_1pct_fpr"] == 0.5
    # 5 %: five (95..99) may be flagged -> flag above 94 -> also 96 -> 3 / 4
    assert result["tpr_at_5pct_fpr"] == 0.75


def test_fpr_target_below_one_human_text_flags_nothing_above_the_top_human() -> None:
    # 10 human texts at 1 %: no human text may be flagged, so only scores above the maximum count.
    result = _run([float(i) for i in range(10)], [9.5, 8.5])
    assert result["tpr_at_1pct_fpr"] == 0.5


def test_f1_best_and_calibrated() -> None:
    human, machine = [0.1, 0.4], [0.35, 0.8]
    best = _run(human, machine)
    # Flagging >= 0.35 catches both machine texts and one human text: P = 2/3, R = 1, F1 = 0.8.
    assert best["f1"] == pytest.approx(0.8)
    assert best["f1_threshold"] == pytest.approx(0.35)
    assert best["f1_threshold_source"] == "best_f1"
    calibrated = _run(human, machine, threshold=0.5, threshold_target_fpr=0.01)
    # Flagging >= 0.5 catches 0.8 only: P = 1, R = 0.5, F1 = 2/3.
    assert calibrated["f1"] == pytest.approx(2 / 3)
    assert calibrated["f1_threshold_source"] == "calibrated"
    assert calibrated["f1_threshold_target_fpr"] == 0.01


def test_groups_score_each_generator_against_humans_of_its_domain() -> None:
    rows = [
        (0.1, False, "news", "human"),
        (0.2, False, "news", "human"),
        (0.9, True, "news", "A"),
        (0.95, True, "news", "A"),
        (0.05, True, "news", "B"),
        (0.15, True, "news", "B"),
        (0.5, True, "wiki", "A"),
        (0.3, False, "stories", "human"),
    ]
    result = evaluate(
        [r[0] for r in rows],
        [r[1] for r in rows],
        domains=[r[2] for r in rows],
        generators=[r[3] for r in rows],
    )
    groups = {(g["domain"], g["generator"]): g for g in result["groups"]}
    assert set(groups) == {("news", "A"), ("news", "B"), ("wiki", "A"), ("stories", "human")}
    assert groups["news", "A"]["auroc"] == 1.0
    assert groups["news", "A"]["n"] == 4
    # B: 0.05 loses to both humans, 0.15 beats 0.1 and loses to 0.2 -> 1 / 4
    assert groups["news", "B"]["auroc"] == pytest.approx(0.25)
    # one class only: no AUROC, no TPR
    assert groups["wiki", "A"]["auroc"] is None
    assert groups["wiki", "A"]["tpr_at_1pct_fpr"] is None
    assert groups["stories", "human"]["auroc"] is None
    assert groups["stories", "human"]["n"] == 1


def test_single_class_overall_and_non_finite_scores() -> None:
    result = evaluate([0.1, 0.2, math.nan], [False, False, True])
    assert result["auroc"] is None
    assert result["tpr_at_1pct_fpr"] is None
    assert result["skipped_non_finite"] == 1
    assert result["n"] == 2
    with pytest.raises(EmptyInput):
        evaluate([math.nan], [True])
    with pytest.raises(ConfigError):
        evaluate([0.1, 0.2], [True])


def test_roc_plot_writes_an_image(tmp_path) -> None:
    path = roc_plot(
        tmp_path / "roc.png",
        [0.1, 0.2, 0.3, 0.8, 0.9, 0.4],
        [False, False, False, True, True, True],
        domains=["news"] * 6,
        generators=["human", "human", "human", "A", "A", "B"],
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ConfigError):
        roc_plot(tmp_path / "only-human.png", [0.1, 0.2], [False, False])
    with pytest.raises(ConfigError):
        roc_plot(tmp_path / "missing-dir" / "roc.png", [0.1, 0.9], [False, True])


def test_score_records_batches_and_reports_progress(plain_detector) -> None:
    records = [LabelledText(text=" ".join(["word"] * (i + 1)), label="human") for i in range(5)] + [
        LabelledText(text="extraordinarily sophisticated vocabulary", label="machine")
    ]
    calls: list[tuple[int, int]] = []
    scores = score_records(
        plain_detector, records, batch_size=4, progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(4, 6), (6, 6)]
    assert scores[:5] == [4.0] * 5
    assert scores[5] > 10
    with pytest.raises(ConfigError):
        score_records(plain_detector, records, batch_size=0)

"""The zero-shot commands end to end on tiny random models: detectors, calibrate (and how check
uses or refuses a calibration), check with token evidence, and the JSON report's tokens."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from unspun.cli import app
from unspun.detect.base import create_detector
from unspun.detect.calibration import find_calibration
from unspun.detect.zeroshot.random_lm import build_random_lm, train_tokenizer
from unspun.pipeline import CheckConfig, Checker

HUMAN = [
    "Officials said the bridge would reopen next month, weeks ahead of schedule, after repairs "
    f"that cost {n} million. The council approved the plan on Tuesday after a long debate."
    for n in range(2, 42)
]
ARTICLE = (
    "The council approved the new budget on Tuesday after a long debate that lasted most of the "
    "afternoon and well into the evening. Officials said the bridge would reopen next month, "
    "weeks ahead of schedule, and that the repairs had cost less than expected. Shares in the "
    "construction company rose 4% after the announcement. A spokesperson for the police said an "
    "investigation into the collapse was still under way, and heavy rain caused flooding in "
    "several towns nearby."
)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def lms(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("cli-lms")
    shared = train_tokenizer()
    return {
        "a": str(build_random_lm(root / "a", seed=0, tokenizer=shared)),
        "b": str(build_random_lm(root / "b", seed=1, tokenizer=shared)),
        "c": str(build_random_lm(root / "c", seed=5, tokenizer=shared)),
    }


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("UNSPUN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("UNSPUN_OFFLINE", "1")
    return tmp_path / "home"


@pytest.fixture
def human_file(tmp_path):
    path = tmp_path / "human.jsonl"
    lines = [json.dumps({"text": t, "label": "human", "id": f"h{i}"}) for i, t in enumerate(HUMAN)]
    lines.append(json.dumps({"text": "machine text to skip", "label": "machine"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_detectors_lists_every_method(home):
    result = run("detectors", "--format", "json")
    assert result.exit_code == 0, result.output
    names = {row["name"] for row in json.loads(result.stdout)}
    expected = {"likelihood", "log-rank", "entropy", "lrr", "gltr", "fast-detectgpt", "binoculars"}
    assert expected | {"ensemble"} <= names


def test_calibrate_is_used_only_for_the_same_models(home, human_file, lms, tmp_path):
    args = ["calibrate", str(human_file), "--detector", "binoculars"]
    args += ["--observer", lms["a"], "--performer", lms["b"], "--target-fpr", "0.05"]
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    saved = json.loads(Path(summary["calibration"]).read_text(encoding="utf-8"))
    assert saved["detector"] == "binoculars"
    assert saved["settings"]["models"] == {"observer": lms["a"], "performer": lms["b"]}
    assert len(saved["human_scores"]) == len(HUMAN)  # the machine record was skipped

    same = create_detector("binoculars", observer=lms["a"], performer=lms["b"])
    calibration = find_calibration(same)
    assert calibration is not None
    # At most 5% of the human reference texts reach the threshold.
    threshold = calibration.threshold(0.05)
    flagged = sum(s >= threshold for s in calibration.human_scores)
    assert flagged <= 0.05 * len(HUMAN)
    assert summary["measured"]["flagged"] == flagged
    assert summary["measured"]["human_texts"] == len(HUMAN)
    low, high = summary["measured"]["interval"]
    assert low <= summary["measured"]["false_positive_rate"] < high

    # Another model pair never borrows it.
    other = create_detector("binoculars", observer=lms["a"], performer=lms["c"])
    assert find_calibration(other) is None
    report = Checker(CheckConfig(detector="binoculars", min_words=5), detector=other).check(
        _article(ARTICLE)
    )
    assert report.verdict == "uncertain"
    assert report.reason == "uncalibrated: showing the raw score only"
    assert math.isfinite(report.scores["binoculars"])

    # The calibrated pair gets a verdict and probabilities for its passages.
    report = Checker(
        CheckConfig(detector="binoculars", min_words=5, target_fpr=0.05), detector=same
    )
    result = report.check(_article(ARTICLE))
    assert result.verdict in ("machine", "not_flagged", "uncertain")
    assert result.reason != "uncalibrated: showing the raw score only"
    assert result.human_percentile is not None and 0 <= result.human_percentile <= 1
    assert all(0 <= p.score <= 1 for p in result.passages)


def test_calibrate_says_how_uncertain_the_rate_is_on_few_texts(home, human_file, lms):
    args = ["calibrate", str(human_file), "--detector", "likelihood", "--model", lms["a"]]
    result = run(*args, "--target-fpr", "0.05")
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert f"of {len(HUMAN)} human texts reach it" in out and "95% interval" in out
    # 40 texts cannot pin a 5% rate down: the user is told to calibrate on more.
    assert "calibrate on more human text" in out


def test_calibrate_refuses_a_target_fpr_the_data_cannot_show(home, human_file, lms):
    result = CliRunner().invoke(
        app,
        ["calibrate", str(human_file), "--detector", "likelihood", "--model", lms["a"]]
        + ["--target-fpr", "0.001"],
    )
    assert result.exit_code != 0
    assert "cannot show a false-positive rate" in str(result.exception)


def test_check_reports_tokens_with_offsets_into_the_body(home, lms, tmp_path):
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE + "\n", encoding="utf-8")
    result = run(
        "check",
        str(article),
        "--detector",
        "fast-detectgpt",
        "--scoring-model",
        lms["a"],
        "--sampling-model",
        lms["b"],
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["verdict"] == "uncertain"
    assert report["reason"] == "uncalibrated: showing the raw score only"
    body = report["article"]["body"]
    tokens = report["tokens"]
    assert len(tokens) > 50
    for token in tokens:
        assert body[token["start"] : token["end"]] == token["text"]
        assert token["rank"] >= 1 and token["logprob"] <= 0 and token["entropy"] >= 0
    assert {"fast-detectgpt", "fast-detectgpt.discrepancy"} <= set(report["scores"])
    assert report["passages"]


def test_check_with_an_option_the_detector_does_not_take_is_one_line(home, lms, tmp_path):
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["check", str(article), "--detector", "likelihood", "--model", lms["a"], "--observer", "x"],
    )
    assert result.exit_code != 0
    assert "--observer" in str(result.exception)


def _article(text: str):
    from unspun.article.model import Article

    return Article(paragraphs=[text])

"""The language-model detector (the default's kind) on a tiny random GPT-2 the test builds: training
with its feature cache, the saved directory, calibration, options, and the default's switch."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from unspun.detect.base import create_detector
from unspun.detect.data import LabelledText
from unspun.detect.language_model import KIND, LanguageModelDetector
from unspun.detect.lmfeatures import FEATURES
from unspun.detect.zeroshot.random_lm import build_random_lm, train_tokenizer
from unspun.errors import ConfigError

HUMAN = [
    "The council met on Tuesday and argued about potholes, parking and a festival budget.",
    "Rain again. The ferry was late, the cafe ran out of milk, and nobody minded much.",
    "Our reporter counted 41 swans, two herons and one very confused cormorant by the weir.",
    "A judge adjourned the hearing until March after lawyers asked for more time.",
    "Fans queued from dawn; tickets sold out in nine minutes, a club record.",
    "The mayor's dog, Biscuit, has become an unlikely star of the town's social media.",
]
MACHINE = [
    "The council approved the new budget on Tuesday after a long debate. Officials said.",
    "Officials said the bridge would reopen next month, weeks ahead of schedule. Officials said.",
    "Researchers reported that the vaccine trial had enrolled more than 3,000 people.",
    "A spokesperson for the police said an investigation was under way. A spokesperson said.",
    "Shares in the company fell 4% after it warned that profits would be lower than expected.",
    "Heavy rain caused flooding in several towns, and emergency crews worked through the night.",
]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory) -> str:
    return str(build_random_lm(tmp_path_factory.mktemp("lm") / "gpt2", tokenizer=train_tokenizer()))


def records() -> list[LabelledText]:
    texts = [(t, "human") for t in HUMAN] + [(t, "machine") for t in MACHINE]
    return [
        LabelledText(text=text, label=label, domain="news", pair_id=f"p{i}")
        for i, (text, label) in enumerate(texts * 3)
    ]


@pytest.fixture(scope="module")
def trained(tiny_lm, tmp_path_factory):
    from unspun.detect.language_model_train import train_language_model

    out = tmp_path_factory.mktemp("detector")
    summary = train_language_model(records(), out, model=tiny_lm, max_tokens=24, target_fpr=0.1)
    return out, summary


def test_training_writes_a_detector_that_loads_by_directory(trained):
    out, summary = trained
    config = json.loads((out / "detector.json").read_text())
    # The kind is the class's import string, read back by the registry.
    assert config["kind"] == "unspun.detect.language_model:LanguageModelDetector"
    assert config["features"] == list(FEATURES)
    assert summary["calibration_human_texts"] == len(HUMAN) * 3
    detector = create_detector(str(out))
    assert isinstance(detector, LanguageModelDetector)
    assert detector.calibration is not None
    assert detector.calibration.matches(detector.name, detector.settings)
    (scores,) = detector.score([MACHINE[0]])
    assert math.isfinite(scores.document)
    assert scores.tokens and scores.raw["tokens"] == len(scores.tokens)


def test_scores_do_not_depend_on_the_batch(trained):
    detector = create_detector(str(trained[0]), batch_size=3)
    texts = HUMAN[:3] + MACHINE[:3]
    alone = [detector.score([t])[0] for t in texts]
    together = detector.score(texts[::-1])[::-1]
    for a, b in zip(alone, together, strict=True):
        assert a.document == b.document
        assert [p.score for p in a.passages] == [p.score for p in b.passages]


def test_long_texts_are_read_up_to_max_tokens_and_say_so(trained):
    detector = create_detector(str(trained[0]))
    (scores,) = detector.score([" ".join(HUMAN * 3)])
    assert scores.raw["tokens"] <= 24
    assert scores.raw["tokens_not_scored"] > 0


def test_the_feature_cache_makes_retraining_read_nothing(trained, tiny_lm, tmp_path, monkeypatch):
    from unspun.detect import language_model
    from unspun.detect.language_model_train import train_language_model

    calls = []
    original = language_model.LanguageModelDetector.features
    monkeypatch.setattr(
        language_model.LanguageModelDetector,
        "features",
        lambda self, texts: calls.append(len(texts)) or original(self, texts),
    )
    again = train_language_model(records(), tmp_path, model=tiny_lm, max_tokens=24, target_fpr=0.1)
    assert calls == []  # every text came from the cache the first training filled
    first = np.load(trained[0] / "head.npz")["document_coef"]
    assert np.array_equal(np.load(tmp_path / "head.npz")["document_coef"], first)
    assert again["version"].split("-")[-1] == trained[1]["version"].split("-")[-1]


def test_a_modified_head_or_unknown_option_is_refused(trained, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained[0], copy)
    with pytest.raises(ConfigError, match="--model"):
        create_detector(str(copy), model="gpt2")
    head = np.load(copy / "head.npz")
    arrays = {key: head[key] for key in head.files}
    arrays["document_intercept"] = arrays["document_intercept"] + 1
    np.savez_compressed(copy / "head.npz", **arrays)
    with pytest.raises(ConfigError, match="does not match"):
        create_detector(str(copy))


def test_the_default_is_whatever_unspun_detector_names(monkeypatch, trained):
    monkeypatch.setenv("UNSPUN_DETECTOR", str(trained[0]))
    assert create_detector("default").name == KIND
    monkeypatch.setenv("UNSPUN_DETECTOR", "default")
    with pytest.raises(ConfigError, match="names itself"):
        create_detector("default")

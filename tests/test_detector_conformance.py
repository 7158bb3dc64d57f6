"""The Detector contract, checked for every name the registry lists (and a plugin registered here),
in the way scikit-learn's ``parametrize_with_checks`` checks every estimator:

- one Scores per text, in order; passage and token offsets inside the text (a token's text is the
  slice its offsets name);
- a text scores the same alone and in any batch, in any order and at any batch size (to 1e-6);
- ``save`` then loading the directory by name gives the same scores and settings;
- an option the detector does not take is one ConfigError naming the detector, the option and the
  options it takes;
- higher means more machine, where that can be checked honestly: for the trained detectors (the
  shipped encoder on a repetitive text against human-written ones; the language-model head and the
  ensemble combiner on the machine and human texts they were fitted to; the plugin by
  construction). The zero-shot methods read text with tiny *random* models here, whose
  likelihoods say nothing about machine text, so for them that check is skipped (their sign
  conventions are checked formula by formula in test_zeroshot.py).

Detectors that need language models are built over tiny random GPT-2s the tests make; the
shipped ones (``default`` = ``hidden-state``, ``language-model``, ``tuned-lm``; normally heads or
an adapter over Gemma 3 270M) are trained here over such a GPT-2, loaded through the same registry
names.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from unspun.article.sentences import passage_windows
from unspun.detect.base import PassageScore, Scores
from unspun.detect.registry import (
    available_detectors,
    create_detector,
    detector_options,
    kind_of,
    register,
)
from unspun.detect.zeroshot.random_lm import SAMPLE_SENTENCES, build_random_lm, train_tokenizer
from unspun.errors import ConfigError

PLUGIN = "conformance-word-length"


class WordLengthPlugin:
    """test plugin: mean word length times a scale (long words -> higher)."""

    name = PLUGIN
    version = "test/1"

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = float(scale)

    @property
    def settings(self) -> dict[str, Any]:
        return {"scale": self.scale}

    def _value(self, text: str) -> float:
        words = text.split()
        return self.scale * sum(map(len, words)) / len(words) if words else float("nan")

    def score(self, texts: Sequence[str], *, passages: bool = True) -> list[Scores]:
        return [
            Scores(
                document=self._value(text),
                passages=[
                    PassageScore(start, end, self._value(text[start:end]))
                    for start, end in (passage_windows(text) if passages else [])
                ],
            )
            for text in texts
        ]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        data = {"kind": kind_of(type(self)), "scale": self.scale}
        (directory / "detector.json").write_text(json.dumps(data), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> WordLengthPlugin:
        return cls(json.loads((directory / "detector.json").read_text(encoding="utf-8"))["scale"])


# A plugin registers by import string, as an entry point or an UNSPUN_PLUGINS module would.
register(PLUGIN, f"{__name__}:WordLengthPlugin")

ZERO_SHOT = ["binoculars", "entropy", "fast-detectgpt", "gltr", "likelihood", "log-rank", "lrr"]
NAMES = sorted(available_detectors())

WORDS = ["the", "council", "said", "on", "a", "new", "plan", "for", "bridge", "rain", "town"]
REPETITIVE = "The city is important. " * 30
HUMAN = [
    "Rain again. The ferry was late, the cafe ran out of milk, and nobody minded much. Our "
    "reporter counted 41 swans, two herons and one very confused cormorant by the weir.",
    "A judge adjourned the hearing until March after lawyers asked for more time. Fans queued "
    "from dawn; tickets sold out in nine minutes, a club record.",
]
TEXTS = [
    " ".join(SAMPLE_SENTENCES[:3]) + "\n\n" + " ".join(SAMPLE_SENTENCES[3:6]),
    "Shares fell 4%.",
    HUMAN[0],
    "Naïve café owners in Zürich welcomed the decision — prices rose 2.5%. " * 3,
    HUMAN[1],
]


def word_salad(rng: np.random.Generator) -> str:
    return " ".join(rng.choice(WORDS, size=40)).capitalize() + "."


def labelled_texts() -> tuple[list[str], list[str]]:
    """Machine: the random models' tokenizer's own training sentences; human: word salad. The
    detectors trained here learn to tell these apart (test_ensemble.py does the same)."""
    rng = np.random.default_rng(0)
    machine = [
        " ".join(SAMPLE_SENTENCES[j % len(SAMPLE_SENTENCES)] for j in range(i, i + 3))
        for i in range(12)
    ]
    return machine, [word_salad(rng) for _ in range(12)]


# ---- building each detector ----------------------------------------------------------------


@pytest.fixture(scope="module")
def lms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("conformance-lms")
    shared = train_tokenizer()
    return {
        "a": str(build_random_lm(root / "a", seed=0, tokenizer=shared)),
        "b": str(build_random_lm(root / "b", seed=1, tokenizer=shared)),
    }


@pytest.fixture(scope="module")
def trained_lm_detector(lms: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A language-model detector (the default's kind) trained over the tiny GPT-2."""
    from unspun.detect.data import LabelledText
    from unspun.detect.language_model_train import train_language_model

    machine, human = labelled_texts()
    records = [
        LabelledText(text=text, label=label, domain="news", pair_id=f"p{i}")
        for label, texts in (("machine", machine), ("human", human))
        for i, text in enumerate(texts)
    ]
    out = tmp_path_factory.mktemp("conformance-lm-detector")
    train_language_model(records, out, model=lms["a"], max_tokens=32, target_fpr=0.1)
    return out


@pytest.fixture(scope="module")
def trained_ensemble(lms: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    from unspun.detect.ensemble import EnsembleDetector, parse_members

    machine, human = labelled_texts()
    members = parse_members("likelihood,gltr", {"model": lms["a"]})
    ensemble = EnsembleDetector.fit(
        members, machine + human, [True] * len(machine) + [False] * len(human)
    )
    ensemble.meta.pop("_matrix"), ensemble.meta.pop("_labels")
    out = tmp_path_factory.mktemp("conformance-ensemble")
    ensemble.save(out)
    return out


Builder = Callable[[dict[str, str], Path, Path], Any]


def _shipped_lm(name: str) -> Builder:
    """``language-model`` with the shipped head swapped for one trained over the tiny GPT-2 (the
    registry's factory reads ``shipped_directory()``)."""

    def build(lms: dict[str, str], lm_dir: Path, ensemble_dir: Path) -> Any:
        from unspun.detect import language_model

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(language_model, "shipped_directory", lambda: lm_dir)
            patch.delenv("UNSPUN_DETECTOR", raising=False)
            return create_detector(name)

    return build


def _tuned_lm(lms: dict[str, str], lm_dir: Path, ensemble_dir: Path) -> Any:
    """``tuned-lm`` with the shipped adapter swapped for one tuned here over the tiny GPT-2 (one
    layer, one epoch: what is checked is the contract, not what the tuning learns)."""
    from unspun.detect import tuned_lm
    from unspun.detect.data import LabelledText
    from unspun.detect.tuned_lm_train import train_tuned_lm

    out = lm_dir.parent / "conformance-tuned-lm"
    if not (out / "detector.json").is_file():
        machine, human = labelled_texts()
        records = [
            LabelledText(text=text, label=label, domain="news", pair_id=f"p{i}")
            for label, texts in (("machine", machine), ("human", human))
            for i, text in enumerate(texts)
        ]
        train_tuned_lm(
            records,
            out,
            model=lms["a"],
            layers_tuned=1,
            train_tokens=16,
            epochs=1,
            max_tokens=64,
            target_fpr=0.34,
        )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tuned_lm, "shipped_directory", lambda: out)
        return create_detector("tuned-lm")


def _hidden_state(name: str) -> Builder:
    """``hidden-state`` / ``default`` with the shipped heads swapped for two generator families
    trained here over the tiny GPT-2 (the registry's factory reads ``shipped_directory()``;
    UNSPUN_DETECTOR is unset so that ``default`` resolves to ``hidden-state`` as it does for a
    user)."""
    return lambda lms, lm_dir, ensemble_dir: _build_hidden_state(name, lms, lm_dir)


def _build_hidden_state(name: str, lms: dict[str, str], lm_dir: Path) -> Any:
    from unspun.detect import hidden_state
    from unspun.detect.data import LabelledText
    from unspun.detect.hidden_state_train import train_hidden_state

    out = lm_dir.parent / "conformance-hidden-state"
    if not (out / "detector.json").is_file():
        machine, human = labelled_texts()
        records = [
            LabelledText(
                text=text,
                label=label,
                domain="news",
                generator=("old" if i % 2 else "new") if label == "machine" else "human",
                pair_id=f"p{i}",
            )
            for label, texts in (("machine", machine), ("human", human))
            for i, text in enumerate(texts)
        ]
        train_hidden_state(
            records,
            out,
            model=lms["a"],
            layers=[1, 2],
            max_tokens=64,
            target_fpr=0.1,
            long_humans=4,
            families=[["new"]],
        )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hidden_state, "shipped_directory", lambda: out)
        patch.delenv("UNSPUN_DETECTOR", raising=False)
        return create_detector(name)


def _one_model(name: str) -> Builder:
    return lambda lms, *_: create_detector(name, model=lms["a"])


BUILDERS: dict[str, Builder] = {
    **{name: _one_model(name) for name in ("entropy", "gltr", "likelihood", "log-rank", "lrr")},
    "fast-detectgpt": lambda lms, *_: create_detector(
        "fast-detectgpt", scoring_model=lms["a"], sampling_model=lms["b"]
    ),
    "binoculars": lambda lms, *_: create_detector(
        "binoculars", observer=lms["b"], performer=lms["a"]
    ),
    "encoder": lambda *_: create_detector("encoder"),
    "supervised": lambda *_: create_detector("supervised"),
    "language-model": _shipped_lm("language-model"),
    "default": _hidden_state("default"),
    "tuned-lm": _tuned_lm,
    "hidden-state": _hidden_state("hidden-state"),
    "ensemble": lambda lms, lm_dir, ensemble_dir: create_detector(
        "ensemble", path=str(ensemble_dir)
    ),
    PLUGIN: lambda *_: create_detector(PLUGIN, scale=2.0),
}


def _params(names: list[str]) -> list[Any]:
    # Another test module may have registered a test detector of its own before this one was
    # collected (batch_detectors.py); its contract is that module's business.
    return [
        pytest.param(name)
        if name in BUILDERS
        else pytest.param(name, marks=pytest.mark.skip(reason="registered by another test module"))
        for name in names
    ]


_built: dict[str, Any] = {}


@pytest.fixture
def detector(request: pytest.FixtureRequest, lms, trained_lm_detector, trained_ensemble) -> Any:  # noqa: ANN001
    name = request.param
    if name not in _built:
        _built[name] = BUILDERS[name](lms, trained_lm_detector, trained_ensemble)
    return _built[name]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1e-6)


def assert_same_scores(got: Scores, expected: Scores) -> None:
    assert _same(got.document, expected.document)
    assert [(p.start, p.end) for p in got.passages] == [(p.start, p.end) for p in expected.passages]
    for ours, theirs in zip(got.passages, expected.passages, strict=True):
        assert _same(ours.score, theirs.score)
    if expected.probability is None:
        assert got.probability is None
    else:
        assert got.probability is not None and _same(got.probability, expected.probability)


# ---- the checks -----------------------------------------------------------------------------


def test_every_shipped_detector_has_a_check() -> None:
    """A detector added to the registry must be added here too (what a fresh process lists)."""
    listed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from unspun.detect.registry import available_detectors as a; print('\\n'.join(a()))",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "UNSPUN_PLUGINS"},
    ).stdout.split()
    assert listed and set(listed) <= set(BUILDERS)
    assert PLUGIN in NAMES  # the plugin is listed beside them


@pytest.mark.parametrize("detector", _params(NAMES), indirect=True)
def test_one_scores_per_text_with_offsets_inside_the_text(detector) -> None:  # noqa: ANN001
    assert detector.score([]) == []
    results = detector.score(TEXTS)
    assert len(results) == len(TEXTS)
    for text, result in zip(TEXTS, results, strict=True):
        assert isinstance(result, Scores)
        assert isinstance(result.document, float)
        for passage in result.passages:
            assert 0 <= passage.start < passage.end <= len(text)
        for token in result.tokens or []:
            assert 0 <= token.start <= token.end <= len(text)
            assert text[token.start : token.end] == token.text
    assert all(math.isfinite(r.document) for r in results[:1])  # a long text has a score
    assert [r.passages for r in detector.score(TEXTS, passages=False)] == [[]] * len(TEXTS)


@pytest.mark.parametrize("detector", _params(NAMES), indirect=True)
def test_a_text_scores_the_same_alone_and_in_any_batch(detector) -> None:  # noqa: ANN001
    alone = [detector.score([text])[0] for text in TEXTS]
    order = [3, 0, 4, 1, 2, 0]
    for got, i in zip(detector.score([TEXTS[i] for i in order]), order, strict=True):
        assert_same_scores(got, alone[i])
    if hasattr(detector, "batch_size"):
        saved = detector.batch_size
        try:
            for size in (1, 2, 7):
                detector.batch_size = size
                for got, expected in zip(detector.score(TEXTS), alone, strict=True):
                    assert_same_scores(got, expected)
        finally:
            detector.batch_size = saved


@pytest.mark.parametrize("detector", _params(NAMES), indirect=True)
def test_save_and_load_give_the_same_scores(detector, tmp_path: Path) -> None:  # noqa: ANN001
    directory = tmp_path / "saved"
    detector.save(directory)
    loaded = create_detector(str(directory))
    assert type(loaded) is type(detector)
    assert loaded.name == detector.name and loaded.settings == detector.settings
    kind = json.loads((directory / "detector.json").read_text(encoding="utf-8"))["kind"]
    assert kind == kind_of(type(detector))
    for got, expected in zip(loaded.score(TEXTS), detector.score(TEXTS), strict=True):
        assert_same_scores(got, expected)


@pytest.mark.parametrize("name", _params(NAMES))
def test_an_unknown_option_is_one_config_error(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        create_detector(name, no_such_option=1)
    message = str(caught.value)
    assert "\n" not in message
    assert repr(name) in message and "--no-such-option" in message
    for option in detector_options(name):
        assert "--" + option.replace("_", "-") in message


def _machine_and_human(name: str) -> tuple[list[str], list[str]] | None:
    if name in ZERO_SHOT or name == "tuned-lm":  # tuned-lm: Fast-DetectGPT over a random model
        return None
    if name in ("encoder", "supervised"):
        return [REPETITIVE], HUMAN
    if name == PLUGIN:
        return ["Internationalisation notwithstanding, extraordinarily"], ["It is a cat."]
    return labelled_texts()  # the LM head and the ensemble: what they were fitted to


@pytest.mark.parametrize("detector", _params(NAMES), indirect=True)
def test_higher_means_more_machine(detector, request: pytest.FixtureRequest) -> None:  # noqa: ANN001
    name = request.node.callspec.params["detector"]
    texts = _machine_and_human(name)
    if texts is None:
        pytest.skip("tiny random language models: their likelihoods carry no machine signal")
    machine, human = texts
    machine_scores = [s.document for s in detector.score(machine, passages=False)]
    human_scores = [s.document for s in detector.score(human, passages=False)]
    assert np.mean(machine_scores) > np.mean(human_scores)

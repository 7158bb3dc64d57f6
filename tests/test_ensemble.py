"""The ensemble detector: a logistic combiner over member detectors, trained, saved, reloaded and
used through --detector ensemble, on tiny random language models."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from unspun.cli import app
from unspun.detect.base import create_detector
from unspun.detect.ensemble import EnsembleDetector, parse_members
from unspun.detect.zeroshot.random_lm import SAMPLE_SENTENCES, build_random_lm, train_tokenizer
from unspun.errors import ConfigError

LETTERS = list("abcdefghijklmnopqrstuvwxyz")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def lms(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("ens-lms")
    shared = train_tokenizer()
    return {
        "a": str(build_random_lm(root / "a", seed=0, tokenizer=shared)),
        "b": str(build_random_lm(root / "b", seed=1, tokenizer=shared)),
    }


def labelled(tmp_path) -> tuple[list[dict], object]:
    # "Machine" texts are the tokenizer's own training sentences (few, long tokens, each seen
    # in training), "human" ones strings of random letters (many short, rare tokens): a random
    # LM's statistics separate them in float32 and in bfloat16 alike (word salad from WORDS did
    # only barely, and not at all in bfloat16).
    rng = np.random.default_rng(0)
    records = []
    for i in range(24):
        machine = " ".join(SAMPLE_SENTENCES[j % len(SAMPLE_SENTENCES)] for j in range(i, i + 3))
        human = " ".join("".join(rng.choice(LETTERS, size=rng.integers(3, 9))) for _ in range(40))
        human = human.capitalize() + "."
        records.append({"text": machine, "label": "machine", "pair_id": f"p{i}"})
        records.append({"text": human, "label": "human", "pair_id": f"p{i}"})
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return records, path


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("UNSPUN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("UNSPUN_OFFLINE", "1")
    return tmp_path / "home"


def test_train_save_load_and_check(home, lms, tmp_path):
    records, path = labelled(tmp_path)
    out = tmp_path / "ens"
    result = CliRunner().invoke(
        app,
        ["train-ensemble", str(path), "--members", "likelihood,binoculars", "--out", str(out)]
        + [
            "--model",
            lms["a"],
            "--observer",
            lms["b"],
            "--performer",
            lms["a"],
            "--format",
            "json",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert [m["name"] for m in summary["members"]] == ["likelihood", "binoculars"]
    assert summary["members"][0]["options"] == {"model": lms["a"]}
    assert summary["members"][1]["options"] == {"observer": lms["b"], "performer": lms["a"]}
    assert summary["trained_on"] == len(records)
    assert summary["train_auroc"] > 0.9

    ensemble = create_detector(str(out))  # a trained directory, through detect/saved.py
    assert isinstance(ensemble, EnsembleDetector)
    texts = [r["text"] for r in records[:6]]
    scored = ensemble.score(texts)
    # The combined score is the logistic regression over standardised member scores.
    likelihood = create_detector("likelihood", model=lms["a"]).score(texts)
    binoculars = create_detector("binoculars", observer=lms["b"], performer=lms["a"]).score(texts)
    for i, result in enumerate(scored):
        members = np.array([likelihood[i].document, binoculars[i].document])
        z = (members - ensemble.mean) / ensemble.scale
        expected = float(z @ ensemble.weights + ensemble.intercept)
        assert result.document == pytest.approx(expected, abs=1e-9)
        assert result.probability == pytest.approx(1 / (1 + np.exp(-expected)))
        assert result.raw["binoculars.log_ppl"] == pytest.approx(binoculars[i].raw["log_ppl"])
        assert result.tokens  # token evidence from the first member that has it
    # Weights agree with scikit-learn fitted directly on the standardised member scores.
    from sklearn.linear_model import LogisticRegression

    from unspun.normalize import normalize

    all_texts = [normalize(r["text"]).text for r in records]
    matrix = np.array(
        [
            [s.document for s in create_detector("likelihood", model=lms["a"]).score(all_texts)],
            [
                s.document
                for s in create_detector("binoculars", observer=lms["b"], performer=lms["a"]).score(
                    all_texts
                )
            ],
        ]
    ).T
    z = (matrix - matrix.mean(axis=0)) / matrix.std(axis=0)
    direct = LogisticRegression(C=1.0, max_iter=1000).fit(
        z, [r["label"] == "machine" for r in records]
    )
    assert np.allclose(ensemble.weights, direct.coef_[0], atol=1e-4)
    assert ensemble.settings["members"][1]["settings"]["models"]["observer"] == lms["b"]

    # --detector ensemble without a path reads the default location.
    CliRunner().invoke(
        app,
        ["train-ensemble", str(path), "--members", "likelihood,gltr", "--model", lms["a"]],
        catch_exceptions=False,
    )
    default = create_detector("ensemble")
    assert [m.name for m in default.members] == ["likelihood", "gltr"]
    assert (home / "ensemble" / "detector.json").is_file()


def test_ensemble_refuses_other_models_and_bad_member_lists(home, lms, tmp_path):
    records, _ = labelled(tmp_path)
    members = parse_members("likelihood,lrr", {"model": lms["a"], "observer": lms["b"]})
    assert [m.options for m in members] == [{"model": lms["a"]}, {"model": lms["a"]}]
    ensemble = EnsembleDetector.fit(
        members, [r["text"] for r in records], [r["label"] == "machine" for r in records]
    )
    ensemble.meta.pop("_matrix"), ensemble.meta.pop("_labels")
    ensemble.save(tmp_path / "e")
    with pytest.raises(ConfigError, match="retrain"):
        EnsembleDetector.load(tmp_path / "e", model=lms["b"])
    same = EnsembleDetector.load(tmp_path / "e", model=lms["a"], batch_size=2)
    assert same.settings == ensemble.settings
    with pytest.raises(ConfigError, match="at least two"):
        parse_members("likelihood", {})
    with pytest.raises(ConfigError, match="twice"):
        parse_members("gltr,gltr", {})
    with pytest.raises(ConfigError, match="no trained ensemble"):
        create_detector("ensemble")
    with pytest.raises(ConfigError, match="both human and machine"):
        EnsembleDetector.fit(members, ["a b c", "d e f"], [True, True])


def test_unspun_train_with_ensemble_trains_the_same_combiner(home, lms, tmp_path):
    records, path = labelled(tmp_path)
    out = tmp_path / "via-train"
    result = CliRunner().invoke(
        app,
        ["train", str(path), "--ensemble", "likelihood,gltr", "--model", lms["a"]]
        + ["--out", str(out), "--format", "json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert [m["name"] for m in summary["members"]] == ["likelihood", "gltr"]
    assert summary["trained_on"] == len(records)
    ensemble = create_detector(str(out))
    assert isinstance(ensemble, EnsembleDetector)
    assert [m.name for m in ensemble.members] == ["likelihood", "gltr"]

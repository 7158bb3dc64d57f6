"""The hidden-state detector on tiny random language models: the states it pools are the model's
own, the score is its head over their mean, passages use the same head, nothing depends on the
batch, and `unspun train --kind hidden-state` writes a detector that loads and checks."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from unspun.cli import app
from unspun.detect.base import create_detector
from unspun.detect.data import LabelledText
from unspun.detect.hidden_state import HiddenStateDetector, read_states
from unspun.detect.hidden_state_train import family_members, family_scale, train_hidden_state
from unspun.detect.supervised.head import LinearHead
from unspun.detect.zeroshot.random_lm import SAMPLE_SENTENCES, build_random_lm
from unspun.errors import ConfigError

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TEXT = " ".join(SAMPLE_SENTENCES[:4]) + "\n\n" + " ".join(SAMPLE_SENTENCES[4:])


@pytest.fixture(scope="module")
def lms(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("hs-lms")
    return {
        arch: str(build_random_lm(root / arch, arch=arch, layers=3, seed=7))
        for arch in ("llama", "gpt2")
    }


def make(lm: str, tmp_path, *, layers=(1, 3), max_tokens=1024, dtype="float32", seed=0):
    from unspun.models.causal import load_causal_lm

    width = len(layers) * load_causal_lm(lm, dtype=dtype).model.config.hidden_size
    rng = np.random.default_rng(seed)
    head = LinearHead(
        rng.normal(size=width), rng.uniform(0.5, 2, width), rng.normal(size=width), 0.3
    )
    config = {"model": lm, "layers": list(layers), "max_tokens": max_tokens, "head_sha1": "x"}
    return HiddenStateDetector(tmp_path, config, head, dtype=dtype)


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
def test_pooled_states_are_the_models_own_hidden_states(lms, arch, tmp_path):
    # Layer n is the output of the n-th decoder block (for the last block, transformers reports
    # it after the final norm, so the comparison stays below it).
    detector = make(lms[arch], tmp_path, layers=(1, 2))
    states = detector.states(TEXT)
    lm = detector.primary
    encoded = lm.tokenizer(TEXT, return_offsets_mapping=True, return_special_tokens_mask=True)
    keep = [i for i, special in enumerate(encoded["special_tokens_mask"]) if not special]
    with torch.no_grad():
        out = lm.model(torch.tensor([encoded["input_ids"]]), output_hidden_states=True)
    expected = torch.cat([out.hidden_states[n][0, keep] for n in (1, 2)], dim=-1).numpy()
    assert states.states.shape == expected.shape
    assert np.allclose(states.states, expected, atol=1e-5)
    # Character spans tile the text in order; the BOS (Llama) is not a scored token.
    assert list(states.starts) == [encoded["offset_mapping"][i][0] for i in keep]
    assert states.unread == 0


def test_document_and_passage_scores_are_the_head_over_mean_states(lms, tmp_path):
    detector = make(lms["llama"], tmp_path)
    result = detector.score([TEXT])[0]
    states = detector.states(TEXT)
    assert result.document == pytest.approx(float(detector.head.logits(states.mean()[None])[0]))
    assert len(result.passages) >= 2
    for passage in result.passages:
        inside = (states.starts >= passage.start) & (states.starts < passage.end)
        expected = detector.head.logits(states.states[inside].mean(axis=0)[None])[0]
        assert passage.score == pytest.approx(float(expected))
    assert result.raw["tokens"] == len(states) and result.tokens is None
    assert detector.score([TEXT], passages=False)[0].passages == []


def test_a_score_does_not_depend_on_batch_mates(lms, tmp_path):
    detector = make(lms["llama"], tmp_path, dtype=None)  # whatever dtype this CPU picks
    texts = [TEXT, SAMPLE_SENTENCES[1], TEXT.upper(), ""]
    alone = [detector.score([t])[0].document for t in texts]
    together = [s.document for s in detector.score(texts[::-1])][::-1]
    assert alone[:3] == together[:3]  # bit for bit
    assert np.isnan(alone[3]) and np.isnan(together[3])


def test_max_tokens_reads_the_beginning_and_says_what_was_left(lms, tmp_path):
    detector = make(lms["llama"], tmp_path, max_tokens=10)
    result = detector.score([TEXT])[0]
    full = make(lms["llama"], tmp_path).states(TEXT)
    assert result.raw["tokens"] == 10
    assert result.raw["tokens_not_scored"] == len(full) - 10


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_both_dtypes_give_close_states(lms, tmp_path, dtype):
    reference = make(lms["llama"], tmp_path).states(TEXT).states
    states = make(lms["llama"], tmp_path, dtype=dtype).states(TEXT).states
    assert (
        make(lms["llama"], tmp_path, dtype=dtype).settings == make(lms["llama"], tmp_path).settings
    )  # the dtype is not part of what a calibration is tied to
    assert np.allclose(states, reference, atol=0.05 * np.abs(reference).max())


def test_layers_outside_the_model_are_a_config_error(lms, tmp_path):
    from unspun.models.causal import load_causal_lm

    with pytest.raises(ConfigError, match="layers must be between 1 and 3"):
        read_states(load_causal_lm(lms["llama"], dtype="float32"), TEXT, [2, 4], 100)


def _records() -> list[LabelledText]:
    # "Machine" texts repeat the tokenizer's sentences, "human" ones are random letters: a toy
    # set any representation separates, in pairs across several groups.
    rng = np.random.default_rng(1)
    records = []
    for i in range(20):
        words = " ".join("".join(rng.choice(list("abcdefgh"), size=5)) for _ in range(30))
        records.append(
            LabelledText(words, "human", domain=["news", "wiki"][i % 2], pair_id=f"p{i}")
        )
        machine = " ".join(SAMPLE_SENTENCES[j % 8] for j in range(i, i + 4 + i % 3))
        records.append(
            LabelledText(machine, "machine", domain=["news", "wiki"][i % 2], pair_id=f"p{i}")
        )
    return records


def test_training_writes_a_calibrated_detector_that_loads_by_directory(lms, tmp_path, monkeypatch):
    monkeypatch.setenv("UNSPUN_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "hs"
    summary = train_hidden_state(
        _records(), out, model=lms["llama"], layers=[2], dtype="float32", long_humans=10
    )
    assert summary["out_of_fold_auroc"] > 0.9
    assert summary["calibration_human_texts"] == 20
    assert summary["regularisation"] in (0.003, 0.01, 0.03, 0.1)
    config = json.loads((out / "detector.json").read_text())
    assert (
        config["layers"] == [2] and config["training_data"]["joined human texts"] == 20
    )  # 10 per domain
    loaded = create_detector(str(out), dtype="float32")
    assert isinstance(loaded, HiddenStateDetector) and loaded.calibration is not None
    machine = _records()[1].text
    assert loaded.score([machine])[0].document == pytest.approx(
        float(loaded.head.logits(loaded.features([machine]))[0])
    )
    # A second run reads nothing again: every pooled state comes from the cache.
    monkeypatch.setattr(HiddenStateDetector, "states", lambda *a: pytest.fail("read again"))
    again = train_hidden_state(
        _records(),
        tmp_path / "hs2",
        model=lms["llama"],
        layers=[2],
        dtype="float32",
        long_humans=10,
        regularisation=summary["regularisation"],
    )
    assert again["out_of_fold_auroc"] == summary["out_of_fold_auroc"]


def test_train_command_and_bad_data(lms, tmp_path, monkeypatch):
    monkeypatch.setenv("UNSPUN_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "train.jsonl"
    data.write_text("\n".join(json.dumps(vars(r)) for r in _records()) + "\n", encoding="utf-8")

    def train(source, *options: str):
        command = ["train", str(source), "--kind", "hidden-state", "--model", lms["llama"]]
        return CliRunner().invoke(app, [*command, *options, "--out", str(tmp_path / "out")])

    result = train(data, "--layers", "1,2", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["calibration_human_texts"] == 20
    one_side = tmp_path / "one.jsonl"
    one_side.write_text(json.dumps({"text": "a b c", "label": "human"}) + "\n", encoding="utf-8")
    bad = train(one_side)
    # The command raises the project's one-line errors; main() turns them into exit codes.
    assert isinstance(bad.exception, ConfigError)
    assert "both 'human' and 'machine'" in str(bad.exception)
    layers = train(data, "--layers", "two")
    assert isinstance(layers.exception, ConfigError) and "--layers" in str(layers.exception)
    family = train(data, "--family", "nobody", "--layers", "1")
    assert isinstance(family.exception, ConfigError) and "nobody" in str(family.exception)
    empty = train(data, "--family", " , ", "--layers", "1")
    assert isinstance(empty.exception, ConfigError) and "--family" in str(empty.exception)


def test_families_name_their_generators_and_the_rest_share_a_head():
    assert family_members(["a", "b", "c", "a"], [["b"]]) == [["b"], ["a", "c"]]
    assert family_members(["a", "b"], [["a"], ["b"]]) == [["a"], ["b"]]
    with pytest.raises(ConfigError, match="two families"):
        family_members(["a", "b"], [["a"], ["a", "b"]])
    with pytest.raises(ConfigError, match="no machine texts of z"):
        family_members(["a", "b"], [["z"]])
    shift, spread = family_scale(np.r_[np.arange(100.0), np.nan])
    assert shift == pytest.approx(98.01) and spread == pytest.approx(np.std(np.arange(100.0)))


def test_family_heads_score_the_largest_scaled_logit(lms, tmp_path, monkeypatch):
    monkeypatch.setenv("UNSPUN_CACHE", str(tmp_path / "cache"))
    records = [  # two machine "generators"
        dataclasses.replace(r, generator="one" if k % 4 == 1 else "two") if r.is_machine else r
        for k, r in enumerate(_records())
    ]
    out = tmp_path / "fam"
    summary = train_hidden_state(
        records,
        out,
        model=lms["llama"],
        layers=[2],
        dtype="float32",
        long_humans=4,
        families=[["one"]],
    )
    assert summary["families"] == [["one"], ["two"]]
    loaded = create_detector(str(out), dtype="float32")
    assert len(loaded.heads) == 2 and loaded.calibration is not None
    families = loaded.config["families"]
    means = loaded.features([records[1].text, records[0].text])
    expected = np.max(
        [
            (head.logits(means) - f["shift"]) / f["spread"]
            for head, f in zip(loaded.heads, families, strict=True)
        ],
        axis=0,
    )
    assert loaded.logits(means) == pytest.approx(expected)
    assert loaded.score([records[1].text])[0].document == pytest.approx(expected[0])
    with pytest.raises(ConfigError, match="use logits"):
        _ = loaded.head


@pytest.mark.parametrize("module", ["hidden_state", "tuned_lm", "language_model"])
def test_a_missing_shipped_detector_is_one_config_error(module, tmp_path, monkeypatch):
    import importlib

    shipped = importlib.import_module(f"unspun.detect.{module}")
    monkeypatch.setattr(shipped, "shipped_directory", lambda: tmp_path)
    with pytest.raises(ConfigError, match="missing from this installation") as caught:
        shipped.shipped_detector()
    assert "\n" not in str(caught.value)

"""The tuned scorer (tuned-lm) on tiny random Gemma 3 and GPT-2 models the tests build: training end
to end, the saved directory, the score against Fast-DetectGPT's formula recomputed from the tuned
model's logits, the cached-activation path against the scorer, resuming after a kill, batch
invariance, and the shared base model left untouched."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
import torch

from unspun.detect.data import LabelledText
from unspun.detect.registry import available_detectors, create_detector
from unspun.detect.tuned_lm import (
    ADAPTER_FILE,
    KIND,
    LICENCE_NOTE,
    Adapter,
    TunedLMDetector,
    decoder_layers,
)
from unspun.detect.tuned_lm_train import (
    CHECKPOINT_FILE,
    ActivationCache,
    TuningModel,
    split_records,
    tokenize,
    train_tuned_lm,
)
from unspun.detect.zeroshot.random_lm import SAMPLE_SENTENCES, build_random_lm, train_tokenizer
from unspun.errors import ConfigError
from unspun.models.causal import load_causal_lm

pytestmark = pytest.mark.usefixtures("one_torch_thread")

F32 = "float32"
HUMAN = [
    "Rain again. The ferry was late, the cafe ran out of milk, and nobody minded much.",
    "A judge adjourned the hearing until March after lawyers asked for more time.",
    "Fans queued from dawn; tickets sold out in nine minutes, a club record.",
    "Our reporter counted 41 swans, two herons and one very confused cormorant by the weir.",
    "The mayor's dog, Biscuit, has become an unlikely star of the town's social media.",
    "The council met on Tuesday and argued about potholes, parking and a festival budget.",
]
# Fast settings for every training here: the top layer of three, 24 tokens, a quick rate.
QUICK = {
    "layers_tuned": 1,
    "train_tokens": 24,
    "max_tokens": 48,
    "learning_rate": 5e-3,
    "target_fpr": 0.25,
    "checkpoint_seconds": 3600.0,
}


def build_gemma(directory, seed: int = 0):  # noqa: ANN001, ANN201
    """A random-weight Gemma 3 text model (tied embeddings, sliding and global layers)."""
    from transformers import AutoModelForCausalLM, Gemma3TextConfig

    tokenizer = train_tokenizer(bos=True)
    config = Gemma3TextConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=1024,
        sliding_window=8,
        layer_types=["sliding_attention", "sliding_attention", "full_attention"],
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    with torch.no_grad():
        model.get_output_embeddings().weight.mul_(8.0)  # sharper distributions, as random_lm
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return str(directory)


def records(copies: int = 2) -> list[LabelledText]:
    """Machine: the tokenizer's own training sentences (two per text); human: other news lines,
    each pair sharing a pair_id."""
    result = []
    for i in range(len(HUMAN) * copies):
        pair = f"p{i}"
        human = f"{HUMAN[i % len(HUMAN)]} Item {i}."
        machine = " ".join(SAMPLE_SENTENCES[(i + j) % len(SAMPLE_SENTENCES)] for j in range(2))
        result.append(LabelledText(human, "human", domain="news", pair_id=pair))
        result.append(LabelledText(machine, "machine", "news", "test-gen", pair))
    return result


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("tuned-lms")
    return {
        "gemma": build_gemma(root / "gemma"),
        "gpt2": str(build_random_lm(root / "gpt2", layers=3, tokenizer=train_tokenizer())),
    }


@pytest.fixture(scope="module")
def trained(models, tmp_path_factory):
    out = tmp_path_factory.mktemp("tuned") / "detector"
    summary = train_tuned_lm(
        records(), out, model=models["gemma"], epochs=3, calibration_share=0.34, **QUICK
    )
    return out, summary


# ---- training and the saved directory --------------------------------------------------------


def test_training_writes_a_directory_that_loads_by_name(trained):
    out, summary = trained
    config = json.loads((out / "detector.json").read_text())
    assert config["kind"] == "unspun.detect.tuned_lm:TunedLMDetector"
    assert config["training"]["layers_tuned"] == 1 and config["training"]["objective"] == "ddl"
    assert config["training_data"] == {"news/human": 8, "news/test-gen": 8}
    assert config["licence"] == LICENCE_NOTE
    readme = (out / "README.md").read_text()
    assert "Gemma Terms of Use" in readme and "8 pairs" in readme
    assert not (out / CHECKPOINT_FILE).exists()
    detector = create_detector(str(out))
    assert isinstance(detector, TunedLMDetector) and detector.name == KIND
    assert detector.calibration is not None
    assert detector.calibration.matches(detector.name, detector.settings)
    assert detector.settings["adapter"] == config["adapter_sha1"]
    # 12 pairs, a third held out: 4 human texts calibrate, none of them tuned on.
    assert summary["calibration_human_texts"] == detector.calibration.n == 4
    (scores,) = detector.score([records()[1].text])
    assert math.isfinite(scores.document) and scores.tokens


def test_calibration_never_uses_a_text_tuned_on():
    data = records(copies=3)
    data.append(LabelledText(data[0].text, "human", domain="news", pair_id="duplicate"))
    split = split_records(data, 0.5, seed=1)
    tuned = {data[i].text for i in split.tuned}
    assert split.calibration and not tuned & {data[i].text for i in split.calibration}
    keys = {data[i].pair_id for i in split.tuned}
    assert not keys & {data[i].pair_id for i in split.calibration}
    with pytest.raises(ConfigError, match="below 1"):
        split_records(data, 1.0, seed=0)


def test_the_loss_goes_down_on_a_separable_set(trained, models, tmp_path):
    _, summary = trained
    assert summary["last_epoch_loss"] < summary["first_epoch_loss"]
    # The same with the normaliser over a reduced vocabulary (40 of ~300 ids) and with SPO.
    for objective, vocab in (("ddl", 40), ("spo", 1 << 14)):
        again = train_tuned_lm(
            records(),
            tmp_path / objective,
            model=models["gemma"],
            objective=objective,
            vocab_size=vocab,
            epochs=3,
            **QUICK,
        )
        assert again["last_epoch_loss"] < again["first_epoch_loss"], objective


def test_bad_settings_are_one_line_config_errors(models, tmp_path):
    for options, message in (
        ({"objective": "nope"}, "unknown objective"),
        ({"layers_tuned": 3}, "tune at most 2"),
        ({"train_tokens": 1}, "at least 2"),
    ):
        with pytest.raises(ConfigError, match=message) as caught:
            train_tuned_lm(records(), tmp_path / "x", model=models["gemma"], **{**QUICK, **options})
        assert "\n" not in str(caught.value)
    lonely = [r for r in records() if r.is_machine]
    with pytest.raises(ConfigError, match="needs pairs"):
        train_tuned_lm(lonely, tmp_path / "y", model=models["gemma"], **QUICK)


# ---- the score --------------------------------------------------------------------------------


def tuned_reference_model(model_dir: str, adapter: Adapter):  # noqa: ANN201
    """The tuned model built independently: plain transformers, W + alpha/r * B @ A."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    modules = dict(model.named_modules())
    with torch.no_grad():
        for name, (a, b) in adapter.modules.items():
            delta = (b @ a) * adapter.scale
            layer = modules[name]
            layer.weight += delta.T if type(layer).__name__ == "Conv1D" else delta
    return model


def fast_detectgpt_reference(model, tokenizer, text: str, max_tokens: int) -> float:  # noqa: ANN001
    """Fast-DetectGPT (sampling = scoring model) from one forward pass, in float64."""
    encoded = tokenizer(text, return_special_tokens_mask=True)
    ids = encoded["input_ids"][: max_tokens + 1]
    special = encoded["special_tokens_mask"][: max_tokens + 1]
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].double()
    logp = torch.log_softmax(logits[:-1], dim=-1)
    p = logp.exp()
    keep = [t - 1 for t in range(1, len(ids)) if not special[t]]
    targets = torch.tensor([ids[t + 1] for t in keep])
    logp, p = logp[keep], p[keep]
    observed = logp.gather(1, targets[:, None]).squeeze(1).sum()
    mean = (p * logp).sum(-1)
    variance = (p * logp.square()).sum(-1) - mean.square()
    return float((observed - mean.sum()) / variance.sum().sqrt())


@pytest.mark.parametrize("arch", ["gemma", "gpt2"])
def test_the_score_is_fast_detectgpt_from_the_tuned_models_logits(arch, models, trained, tmp_path):
    if arch == "gemma":
        out = trained[0]
    else:  # GPT-2's Conv1D layers store their weights transposed
        out = tmp_path / "gpt2"
        train_tuned_lm(records(), out, model=models["gpt2"], epochs=1, **QUICK)
    detector = create_detector(str(out), dtype=F32)
    reference = tuned_reference_model(models[arch], detector.adapter)
    texts = [records()[1].text, HUMAN[0], " ".join(SAMPLE_SENTENCES)]
    for text, scores in zip(texts, detector.score(texts), strict=True):
        expected = fast_detectgpt_reference(reference, detector.primary.tokenizer, text, 48)
        assert scores.document == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert scores.raw["tokens_not_scored"] > 0  # the long text is read up to max_tokens


def test_training_reads_the_criterion_the_scorer_computes(models, trained):
    """The cached-activation path (stand-ins for the frozen layers, LoRA unmerged, the whole
    vocabulary) gives the scorer's number on the same tokens: what is tuned is what is scored."""
    out, _ = trained
    config = json.loads((out / "detector.json").read_text())
    adapter = Adapter.load(out / ADAPTER_FILE)
    lm = load_causal_lm(models["gemma"], dtype=F32)
    first = len(decoder_layers(lm.model)[1]) - 1
    tuning = TuningModel(lm, first, rank=8, alpha=32.0, dropout=0.1, seed=0, vocabulary=None)
    with torch.no_grad():
        for name, (a, b) in adapter.modules.items():
            tuning.lora[name].lora_A.copy_(a)
            tuning.lora[name].lora_B.copy_(b)
    tuning.set_mode(training=False)
    detector = TunedLMDetector(out, dict(config, max_tokens=24), adapter, dtype=F32)
    cache = ActivationCache(lm, first, 24)
    for text in (records()[1].text, HUMAN[2]):
        (tokens,) = tokenize(lm, [text], 24)
        cache.fill([tokens])
        with torch.no_grad():
            crit, _ = tuning.criterion(tokens, cache.get(tokens))
        (scores,) = detector.score([text], passages=False)
        assert float(crit) == pytest.approx(scores.document, rel=1e-5, abs=1e-6)


def test_the_reduced_vocabulary_normalises_over_the_subset_and_the_target(models):
    lm = load_causal_lm(models["gemma"], dtype=F32)
    first = len(decoder_layers(lm.model)[1]) - 1
    subset = np.arange(0, 300, 7)
    tuning = TuningModel(lm, first, rank=8, alpha=32.0, dropout=0.0, seed=0, vocabulary=subset)
    tuning.set_mode(training=False, enabled=False)
    text = " ".join(SAMPLE_SENTENCES[:2])
    (tokens,) = tokenize(lm, [text], 24)
    cache = ActivationCache(lm, first, 24)
    cache.fill([tokens])
    with torch.no_grad():
        crit, loglik = tuning.criterion(tokens, cache.get(tokens))
        logits = lm.model(torch.from_numpy(tokens.ids)[None]).logits[0, :-1].double()
    targets = tokens.ids[1:]
    observed, means, variances = 0.0, 0.0, 0.0
    for row, target in zip(logits, targets, strict=True):
        columns = sorted(set(subset.tolist()) | {int(target)})
        logp = torch.log_softmax(row[columns], dim=0)
        p = logp.exp()
        observed += float(logp[columns.index(int(target))])
        mean = float((p * logp).sum())
        means += mean
        variances += float((p * logp.square()).sum()) - mean**2
    assert float(loglik) == pytest.approx(observed, rel=1e-5)
    assert float(crit) == pytest.approx((observed - means) / math.sqrt(variances), rel=1e-4)


def test_a_text_scores_the_same_alone_and_in_a_batch(trained):
    detector = create_detector(str(trained[0]), batch_size=2)
    texts = [r.text for r in records()[:5]]
    alone = [detector.score([t])[0] for t in texts]
    together = detector.score(texts[::-1])[::-1]
    for a, b in zip(alone, together, strict=True):
        assert a.document == b.document
        assert [p.score for p in a.passages] == [p.score for p in b.passages]


def test_loading_leaves_the_shared_base_model_unchanged(models, trained):
    from unspun.detect.zeroshot.fast_detectgpt import FastDetectGPT

    base = load_causal_lm(models["gemma"], dtype=F32)
    before = {name: p.detach().clone() for name, p in base.model.state_dict().items()}
    modules_before = [(name, type(m)) for name, m in base.model.named_modules()]
    detector = create_detector(str(trained[0]), dtype=F32)
    text = records()[1].text
    tuned = detector.score([text], passages=False)[0].document
    assert load_causal_lm(models["gemma"], dtype=F32) is base
    assert [(name, type(m)) for name, m in base.model.named_modules()] == modules_before
    for name, value in base.model.state_dict().items():
        assert torch.equal(value, before[name]), name
    # The untuned model, read by the plain Fast-DetectGPT detector, scores differently.
    plain = FastDetectGPT(models["gemma"], dtype=F32, max_length=48, max_tokens=48)
    assert plain.score([text], passages=False)[0].document != pytest.approx(tuned)


# ---- resuming ---------------------------------------------------------------------------------


def test_a_killed_run_resumes_to_the_same_adapter(models, tmp_path):
    options = {"model": models["gemma"], "epochs": 2, "seed": 3, **QUICK}
    whole = train_tuned_lm(records(), tmp_path / "whole", **options)
    stopped = train_tuned_lm(records(), tmp_path / "killed", stop_after_steps=5, **options)
    assert stopped["stopped_after_steps"] == 5
    assert (tmp_path / "killed" / CHECKPOINT_FILE).is_file()
    assert not (tmp_path / "killed" / ADAPTER_FILE).exists()
    resumed = train_tuned_lm(records(), tmp_path / "killed", **options)
    first = Adapter.load(tmp_path / "whole" / ADAPTER_FILE)
    second = Adapter.load(tmp_path / "killed" / ADAPTER_FILE)
    for name, (a, b) in first.modules.items():
        assert torch.equal(a, second.modules[name][0]) and torch.equal(b, second.modules[name][1])
    assert resumed["version"] == whole["version"]
    assert resumed["last_epoch_loss"] == whole["last_epoch_loss"]
    # Other settings start afresh instead of continuing someone else's run.
    other = train_tuned_lm(
        records(), tmp_path / "killed", stop_after_steps=1, **{**options, "seed": 4}
    )
    assert other["stopped_after_steps"] == 1


# ---- the saved directory and the registry ----------------------------------------------------


def test_a_modified_adapter_or_an_unknown_option_is_refused(trained, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(trained[0], copy)
    with pytest.raises(ConfigError, match="--max-tokens"):
        create_detector(str(copy), max_tokens=12)
    adapter = Adapter.load(copy / ADAPTER_FILE)
    name = next(iter(adapter.modules))
    a, b = adapter.modules[name]
    adapter.modules[name] = (a, b + 1)
    adapter.save(copy / ADAPTER_FILE)
    with pytest.raises(ConfigError, match="does not match"):
        create_detector(str(copy))


def test_the_registry_lists_it_and_a_missing_shipped_adapter_is_one_line(monkeypatch, tmp_path):
    from unspun.detect import tuned_lm

    assert KIND in available_detectors()
    monkeypatch.setattr(tuned_lm, "shipped_directory", lambda: tmp_path)
    with pytest.raises(ConfigError, match="missing") as caught:
        create_detector(KIND)
    assert "\n" not in str(caught.value)


def test_the_cli_trains_one(models, tmp_path):
    from typer.testing import CliRunner

    from unspun.cli import app

    data = tmp_path / "train.jsonl"
    data.write_text(
        "".join(
            json.dumps({"text": r.text, "label": r.label, "pair_id": r.pair_id}) + "\n"
            for r in records()
        )
    )
    out = tmp_path / "cli-detector"
    arguments = ["train", "--kind", "tuned-lm", str(data), "--out", str(out)]
    arguments += ["--model", models["gemma"], "--layers-tuned", "1", "--train-tokens", "16"]
    arguments += ["--epochs", "1", "--max-tokens", "32", "--target-fpr", "0.34", "-f", "json"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["objective"] == "ddl" and summary["calibration_human_texts"] == 3
    assert create_detector(str(out)).settings["max_tokens"] == 32
    bad = CliRunner().invoke(
        app, [*arguments[:6], "--model", models["gemma"], "--layers-tuned", "9"]
    )
    # The console entry point prints an UnspunError as one line (tests/test_cli.py checks that).
    assert isinstance(bad.exception, ConfigError) and "tune at most 2" in str(bad.exception)

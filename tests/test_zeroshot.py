"""Zero-shot detectors on tiny random GPT-2 and Llama models: every method against a plain
re-computation of its formula from the logits, batching, padding side, windows, passages."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch

from unspun.detect.base import available_detectors, create_detector
from unspun.detect.zeroshot.random_lm import build_random_lm, train_tokenizer
from unspun.errors import ConfigError, ModelUnavailable

TEXTS = [
    "The council approved the new budget on Tuesday after a long debate. Officials said the "
    "bridge would reopen next month, weeks ahead of schedule.",
    "Shares fell 4%.",
    "A spokesperson for the police said an investigation was under way, and heavy rain caused "
    "flooding in several towns. Naïve café owners in Zürich welcomed the decision — prices rose.",
]
LONG_TEXT = " ".join(TEXTS) + ' The minister told reporters: "We will not raise taxes this year."'
TOL = 1e-5
# Document scores are compared with a float64 recomputation, but the detectors compute in float32:
# each token's log-sum-exp over the vocabulary carries a relative error of a few float32 epsilons
# (~1e-7), and a score sums n of them (Fast-DetectGPT also divides by a float32 variance sum), so
# the error grows with the score's magnitude. Which float32 kernels run (AVX2, AVX-512, AMX) moves
# the last bits, so the bound must be relative: 1e-5 is ~100x the float32 epsilon, and still far
# below any difference a formula error would make.
REL = 1e-5
# Formula tests pin float32: the reference is float64, and bfloat16 (chosen automatically on CPUs
# that compute it, or forced with UNSPUN_DTYPE) keeps only ~3 significant digits. Tests of
# invariances (batching, windows, offsets) run in whatever dtype the machine picks.
F32 = {"dtype": "float32"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("lms")
    shared = train_tokenizer()
    other = train_tokenizer(vocab_size=280)
    return {
        "gpt2": str(build_random_lm(root / "gpt2-a", seed=0, tokenizer=shared)),
        "gpt2-b": str(build_random_lm(root / "gpt2-b", seed=1, tokenizer=shared)),
        "llama": str(build_random_lm(root / "llama-a", arch="llama", seed=2)),
        "llama-b": str(build_random_lm(root / "llama-b", arch="llama", seed=3)),
        "other-tokenizer": str(build_random_lm(root / "gpt2-other", seed=4, tokenizer=other)),
    }


# ---- the independent reference: one text, one full forward pass, float64 formulas ----------


@functools.lru_cache(maxsize=8)
def plain_model(model_dir: str):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir), AutoModelForCausalLM.from_pretrained(
        model_dir
    ).eval()


def reference_stats(model_dir: str, text: str, contexts: list[int] | None = None) -> dict:
    """Per-token log p, rank, entropy and the distributions, straight from the model's logits.

    ``contexts[t]``: first token index of the context used to predict token t (default 0).
    """
    tokenizer, model = plain_model(model_dir)
    ids = tokenizer(text)["input_ids"]
    offsets = tokenizer(text, return_offsets_mapping=True)["offset_mapping"]
    rows = []
    with torch.no_grad():
        if contexts is None:
            logits = model(torch.tensor([ids])).logits[0].double()
            rows = [logits[t - 1] for t in range(1, len(ids))]
        else:
            # The model is causal: one pass over ids[start : last target] gives the prediction
            # for every target whose context begins at ``start``.
            last = {}
            for t in range(1, len(ids)):
                last[contexts[t]] = t
            logits = {
                start: model(torch.tensor([ids[start:end]])).logits[0].double()
                for start, end in last.items()
            }
            rows = [logits[contexts[t]][t - 1 - contexts[t]] for t in range(1, len(ids))]
    logprob, rank, entropy, logdist = [], [], [], []
    for t, row in zip(range(1, len(ids)), rows, strict=True):
        log_dist = row - torch.logsumexp(row, dim=0)
        order = torch.argsort(row, descending=True).tolist()
        logprob.append(float(log_dist[ids[t]]))
        rank.append(order.index(ids[t]) + 1)
        entropy.append(float(-(log_dist.exp() * log_dist).sum()))
        logdist.append(log_dist)
    return {
        "ids": ids,
        "offsets": offsets[1:],
        "logprob": np.array(logprob),
        "rank": np.array(rank),
        "entropy": np.array(entropy),
        "logdist": logdist,
    }


def expected_score(method: str, main: dict, other: dict | None = None) -> float:
    lp, rank, ent = main["logprob"], main["rank"], main["entropy"]
    if method == "likelihood":
        return lp.mean()
    if method == "log-rank":
        return -np.log(rank).mean()
    if method == "entropy":
        return -ent.mean()
    if method == "lrr":
        return -lp.mean() / np.log(rank).mean()
    if method == "gltr":
        return (rank <= 10).mean()
    q_source = other if other is not None else main
    if method == "fast-detectgpt":
        mu, var = [], []
        for log_p, log_q in zip(main["logdist"], q_source["logdist"], strict=True):
            q = log_q.exp()
            mean = float((q * log_p).sum())
            mu.append(mean)
            var.append(float((q * (log_p - mean) ** 2).sum()))  # a different but equal formula
        return (lp.sum() - sum(mu)) / math.sqrt(sum(var))
    if method == "binoculars":
        x_ent = [
            float(-(log_o.exp() * log_p).sum())
            for log_p, log_o in zip(main["logdist"], q_source["logdist"], strict=True)
        ]
        return -((-lp.mean()) / np.mean(x_ent))
    raise AssertionError(method)


def make(method: str, models: dict, arch: str, pair: bool = False, **options):
    first, second = models[arch], models[f"{arch}-b"]
    if method == "fast-detectgpt":
        return create_detector(
            method, scoring_model=first, sampling_model=second if pair else None, **options
        )
    if method == "binoculars":
        return create_detector(
            method, performer=first, observer=second if pair else first, **options
        )
    return create_detector(method, model=first, **options)


METHODS = ["likelihood", "log-rank", "entropy", "lrr", "gltr", "fast-detectgpt", "binoculars"]


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
@pytest.mark.parametrize("method", METHODS)
def test_each_method_matches_its_formula(models, method, arch):
    pairs = [False, True] if method in ("fast-detectgpt", "binoculars") else [False]
    for pair in pairs:
        detector = make(method, models, arch, pair=pair, **F32)
        results = detector.score(TEXTS)
        for text, result in zip(TEXTS, results, strict=True):
            main = reference_stats(models[arch], text)
            other = reference_stats(models[f"{arch}-b"], text) if pair else None
            expected = expected_score(method, main, other)
            assert result.document == pytest.approx(expected, rel=REL, abs=TOL)
            assert result.raw["tokens"] == len(main["logprob"])


def test_llama_scores_every_real_token_and_gpt2_all_but_the_first(models):
    text = TEXTS[1]
    llama = create_detector("likelihood", model=models["llama"]).score([text])[0]
    gpt2 = create_detector("likelihood", model=models["gpt2"]).score([text])[0]
    llama_ids = reference_stats(models["llama"], text)["ids"]
    gpt2_ids = reference_stats(models["gpt2"], text)["ids"]
    assert len(llama.tokens) == len(llama_ids) - 1  # BOS predicts the first real token
    assert len(gpt2.tokens) == len(gpt2_ids) - 1
    assert llama.tokens[0].start == 0
    assert gpt2.tokens[0].start > 0


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_token_evidence_matches_the_logits_and_the_text(models, arch):
    text = TEXTS[2]
    result = create_detector("gltr", model=models[arch], **F32).score([text])[0]
    ref = reference_stats(models[arch], text)
    assert len(result.tokens) == len(ref["logprob"])
    reached = 0
    for i, token in enumerate(result.tokens):
        assert token.text == text[token.start : token.end]
        # A multi-byte character split over two tokens is given to the first of them.
        start, end = ref["offsets"][i]
        assert (token.start, token.end) == (max(start, reached), max(end, reached))
        reached = token.end
        assert token.logprob == pytest.approx(ref["logprob"][i], abs=TOL)
        assert token.rank == ref["rank"][i]
        assert token.entropy == pytest.approx(ref["entropy"][i], abs=TOL)
    # Tokens tile the text in order: together they spell it (byte-level BPE keeps spaces).
    assert "".join(t.text for t in result.tokens) == text[result.tokens[0].start :]


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
@pytest.mark.parametrize("method", ["fast-detectgpt", "binoculars", "lrr"])
def test_batch_mates_and_order_do_not_change_a_score(models, method, arch):
    alone = [make(method, models, arch, pair=True, batch_size=1).score([t])[0] for t in TEXTS]
    for size, texts in ((3, TEXTS), (2, TEXTS[::-1])):
        batched = make(method, models, arch, pair=True, batch_size=size).score(texts)
        if texts is not TEXTS:
            batched = batched[::-1]
        for single, together in zip(alone, batched, strict=True):
            assert together.document == single.document  # bit for bit, not approximately
            for a, b in zip(single.tokens, together.tokens, strict=True):
                assert (a.start, a.rank, a.logprob) == (b.start, b.rank, b.logprob)


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_long_texts_are_stitched_from_windows(models, arch):
    max_length, stride = 16, 5
    ref_ids = reference_stats(models[arch], LONG_TEXT)["ids"]
    n = len(ref_ids)
    assert n > 3 * max_length
    # Token t is scored in the first window (starts 0, stride, 2*stride...) that reaches it.
    contexts = [0] * n
    for t in range(1, n):
        k = max(0, math.ceil((t - max_length + 1) / stride))
        contexts[t] = k * stride
    ref = reference_stats(models[arch], LONG_TEXT, contexts)
    detector = create_detector(
        "binoculars",
        performer=models[arch],
        observer=models[arch],
        max_length=max_length,
        stride=stride,
        batch_size=4,
        **F32,
    )
    result = detector.score([LONG_TEXT, TEXTS[1]])[0]
    assert len(result.tokens) == n - 1  # every token counted exactly once
    assert [t.end for t in result.tokens] == [e for _, e in ref["offsets"]]
    assert np.allclose([t.logprob for t in result.tokens], ref["logprob"], atol=TOL)
    assert [t.rank for t in result.tokens] == list(ref["rank"])
    assert result.document == pytest.approx(expected_score("binoculars", ref), abs=TOL)
    # A window as long as the text gives the plain, unwindowed result.
    whole = create_detector(
        "binoculars", performer=models[arch], observer=models[arch], max_length=n, **F32
    )
    full = reference_stats(models[arch], LONG_TEXT)
    assert whole.score([LONG_TEXT])[0].document == pytest.approx(
        expected_score("binoculars", full), abs=TOL
    )


def test_passage_scores_use_the_same_formula_on_their_tokens(models):
    detector = create_detector("likelihood", model=models["gpt2"], **F32)
    text = LONG_TEXT
    result = detector.score([text])[0]
    assert len(result.passages) >= 2
    covered = 0
    for passage in result.passages:
        inside = [t.logprob for t in result.tokens if passage.start <= t.start < passage.end]
        covered += len(inside)
        assert passage.score == pytest.approx(np.mean(inside), abs=TOL)
    assert covered >= len(result.tokens) - 3  # only whitespace between passages is left out
    assert detector.score([text], passages=False)[0].passages == []


def test_settings_name_the_exact_models_and_window(models):
    import torch

    from unspun.models.causal import pick_dtype

    detector = create_detector(
        "fast-detectgpt",
        scoring_model=models["gpt2"],
        sampling_model=models["gpt2-b"],
        max_length=64,
    )
    # The dtype the machine (or UNSPUN_DTYPE) picks is part of the settings a calibration is for.
    picked = str(pick_dtype(torch.device("cpu"), None)).removeprefix("torch.")
    assert detector.settings == {
        "method": "fast-detectgpt",
        "models": {"scoring": models["gpt2"], "sampling": models["gpt2-b"]},
        "dtype": picked,
        "max_length": 64,
        "stride": 32,
    }


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_each_dtype_is_named_in_the_settings_and_scores_close_to_float64(models, dtype):
    detector = create_detector("likelihood", model=models["llama"], dtype=dtype)
    assert detector.settings["dtype"] == dtype
    assert detector.primary.model.dtype == getattr(torch, dtype)
    result = detector.score([TEXTS[0]])[0]
    expected = expected_score("likelihood", reference_stats(models["llama"], TEXTS[0]))
    # bfloat16 keeps 8 bits of mantissa: within a few percent of the float64 formula.
    tolerance = {"float32": 1e-5, "bfloat16": 0.05}[dtype]
    assert result.document == pytest.approx(expected, rel=tolerance)
    assert all(math.isfinite(t.logprob) and t.rank >= 1 for t in result.tokens)


def test_the_environment_forces_the_dtype_unless_an_option_names_one(models, monkeypatch):
    monkeypatch.setenv("UNSPUN_DTYPE", "bfloat16")
    assert create_detector("entropy", model=models["gpt2"]).settings["dtype"] == "bfloat16"
    assert create_detector("entropy", model=models["gpt2"], dtype="auto").settings["dtype"] == (
        "bfloat16"
    )
    explicit = create_detector("entropy", model=models["gpt2"], dtype="float32")
    assert explicit.settings["dtype"] == "float32"
    monkeypatch.setenv("UNSPUN_DTYPE", "float32")
    assert create_detector("entropy", model=models["gpt2"]).settings["dtype"] == "float32"
    monkeypatch.setenv("UNSPUN_DTYPE", "int3")
    with pytest.raises(ConfigError, match="UNSPUN_DTYPE"):
        create_detector("entropy", model=models["gpt2"])


def test_models_without_a_shared_tokenizer_are_refused(models):
    with pytest.raises(ConfigError, match="do not share a tokenizer"):
        create_detector("binoculars", observer=models["gpt2"], performer=models["other-tokenizer"])
    with pytest.raises(ConfigError, match="do not share a tokenizer"):
        create_detector(
            "fast-detectgpt", scoring_model=models["gpt2"], sampling_model=models["llama"]
        )


def test_unavailable_model_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("UNSPUN_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(ModelUnavailable) as error:
        create_detector("likelihood", model="nobody/no-such-model-xyz")
    assert "\n" not in str(error.value)
    assert "no-such-model-xyz" in str(error.value)
    not_a_model = tmp_path / "empty-dir"
    not_a_model.mkdir()
    with pytest.raises(ModelUnavailable):
        create_detector("likelihood", model=str(not_a_model))


def test_bad_options_are_config_errors(models):
    with pytest.raises(ConfigError, match="--observer"):
        create_detector("likelihood", model=models["gpt2"], observer="x")
    with pytest.raises(ConfigError, match="stride"):
        create_detector("likelihood", model=models["gpt2"], max_length=16, stride=16)
    with pytest.raises(ConfigError, match="exceeds"):
        create_detector("likelihood", model=models["gpt2"], max_length=100_000)
    with pytest.raises(ConfigError, match="dtype"):
        create_detector("likelihood", model=models["gpt2"], dtype="int3")
    with pytest.raises(ConfigError, match="device"):
        create_detector("likelihood", model=models["gpt2"], device="tpu-9")


def test_texts_without_scorable_tokens_give_nan_not_an_error(models):
    detector = create_detector("fast-detectgpt", scoring_model=models["gpt2"])
    assert detector.score([]) == []
    empty, one = detector.score(["", "x"])
    assert math.isnan(empty.document) and empty.tokens == []
    assert math.isnan(one.document)


def test_all_methods_are_registered():
    names = available_detectors()
    for method in METHODS:
        assert method in names


def test_windows_count_every_token_once_with_the_most_left_context():
    from unspun.detect.zeroshot.lm import plan_windows

    for n in range(0, 60):
        for max_length in (2, 3, 7, 16):
            for stride in range(1, max_length):
                windows = plan_windows(0, n, max_length, stride)
                counted = [t for w in windows for t in range(w.first, w.end)]
                assert counted == list(range(1, n))
                for w in windows:
                    assert w.end - w.start <= max_length and w.start < w.first
                    # No earlier-starting window (more left context) holds these targets.
                    assert w.start == 0 or w.first > w.start - stride + max_length - 1


@pytest.mark.parametrize("width", [1, 2, 4])
def test_masked_tokens_with_minus_infinity_logits_add_nothing(width, monkeypatch):
    from unspun.detect.zeroshot import lm

    monkeypatch.setattr(lm, "_VOCAB_SLICE", width)
    logits = torch.tensor([[[0.0, 1.0, float("-inf"), 2.0], [3.0, float("-inf"), 0.5, 0.5]]])
    targets = torch.tensor([1, 0])
    slices = ((b, logits[0, :, b : b + width]) for b in range(0, 4, width))
    target_logit = logits[0].gather(-1, targets[:, None]).squeeze(-1)
    stats = lm._statistics(target_logit, targets, slices, None, with_q=True, variance=True)
    for i in range(2):
        finite = logits[0, i][torch.isfinite(logits[0, i])].double()
        log_p = finite - torch.logsumexp(finite, 0)
        entropy = float(-(log_p.exp() * log_p).sum())
        assert stats["entropy"][i] == pytest.approx(entropy, abs=TOL)
        second = float((log_p.exp() * log_p**2).sum())
        assert stats["cross_var"][i] == pytest.approx(second - entropy**2, abs=TOL)
    assert list(stats["rank"]) == [2, 1]


def test_binoculars_without_a_pair_says_so_in_one_line(models):
    for options in ({}, {"observer": models["gpt2"]}, {"performer": models["gpt2"]}):
        with pytest.raises(ConfigError, match="needs a pair of models") as caught:
            create_detector("binoculars", **options)
        assert "\n" not in str(caught.value)

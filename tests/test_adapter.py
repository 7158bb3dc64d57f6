"""Low-rank adapters: trained with peft on the pooled blocks, merged at load time without peft,
shipped with a detector whose files are checked for tampering."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from unspun.detect.supervised.adapter import adapted_blocks, merge_adapter, train_adapter
from unspun.errors import ConfigError
from unspun.models.encoder import DEFAULT_ENCODER, load_token_encoder

PLAIN = "the cat sat on a mat and then it ran off to see the dog who was happy".split()  # noqa: SIM905
FANCY = (  # noqa: SIM905
    "extraordinary institutional deliberations continued throughout comprehensive "
    "multinational negotiations regarding sustainable infrastructure"
).split()


def _texts(n: int, seed: int = 3) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        words = FANCY if i % 2 else PLAIN
        texts.append(" ".join(rng.choice(words, size=30)) + ".")
        labels.append(bool(i % 2))
    return texts, np.asarray(labels)


def test_adapted_blocks_cover_the_pooled_hidden_states() -> None:
    assert adapted_blocks((3, 4)) == [2, 3]
    assert adapted_blocks((6, 8)) == [5, 6, 7]
    assert adapted_blocks((0, 1)) == [0]


@pytest.fixture(scope="module")
def trained_adapter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    texts, labels = _texts(24)
    out = tmp_path_factory.mktemp("adapter") / "adapter"
    train_adapter(DEFAULT_ENCODER, texts, labels, (3, 4), out, epochs=1)
    return out


def test_training_writes_only_small_adapter_files(trained_adapter: Path) -> None:
    names = sorted(p.name for p in trained_adapter.iterdir())
    assert names == ["adapter_config.json", "adapter_model.safetensors"]
    # rank-16 updates of the linear layers in two blocks: well under a megabyte
    assert (trained_adapter / "adapter_model.safetensors").stat().st_size < 1_000_000
    config = json.loads((trained_adapter / "adapter_config.json").read_text())
    assert config["layers_to_transform"] == [2, 3]


def test_merge_matches_peft_and_changes_only_adapted_blocks(trained_adapter: Path) -> None:
    import torch
    from peft import PeftModel

    _, reference = load_token_encoder(DEFAULT_ENCODER)
    expected = PeftModel.from_pretrained(reference, str(trained_adapter)).merge_and_unload()
    _, plain = load_token_encoder(DEFAULT_ENCODER)
    before = {k: v.clone() for k, v in plain.state_dict().items()}
    merged = merge_adapter(plain, trained_adapter)
    assert merged == 2 * 6  # query, key, value and three dense layers in each of two blocks
    ours = plain.state_dict()
    for name, tensor in expected.state_dict().items():
        assert torch.allclose(ours[name], tensor, atol=1e-6), name
    changed = {k for k in ours if not torch.equal(ours[k], before[k])}
    assert changed and all(".layer.2." in k or ".layer.3." in k for k in changed)


def test_broken_or_foreign_adapter_is_a_config_error(tmp_path: Path, trained_adapter: Path) -> None:
    _, model = load_token_encoder(DEFAULT_ENCODER)
    with pytest.raises(ConfigError, match="not a readable adapter"):
        merge_adapter(model, tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(trained_adapter, broken)
    (broken / "adapter_model.safetensors").write_bytes(b"not tensors")
    with pytest.raises(ConfigError, match="not a readable adapter"):
        merge_adapter(model, broken)


def test_full_rank_delta_holds_differences_and_merges_back(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    from unspun.detect.supervised.adapter import DELTA_FILE

    texts, labels = _texts(16)
    out = train_adapter(
        DEFAULT_ENCODER, texts, labels, (3, 4), tmp_path / "delta", rank=0, epochs=1
    )
    assert sorted(p.name for p in out.iterdir()) == ["adapter_config.json", DELTA_FILE]
    deltas = load_file(str(out / DELTA_FILE))
    # every parameter of blocks 2 and 3 and nothing else, stored as differences (small values)
    assert deltas and all(".layer.2." in k or ".layer.3." in k for k in deltas)
    assert all(d.dtype == torch.float16 for d in deltas.values())
    assert max(float(d.abs().max()) for d in deltas.values()) < 0.05
    _, model = load_token_encoder(DEFAULT_ENCODER)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert merge_adapter(model, out) == len(deltas)
    after = model.state_dict()
    for name, delta in deltas.items():
        assert torch.allclose(after[name] - before[name], delta.float(), atol=1e-6), name
    changed = {k for k in after if not torch.equal(after[k], before[k])}
    assert changed == {k for k, d in deltas.items() if d.abs().max() > 0}

    foreign = tmp_path / "foreign"
    shutil.copytree(out, foreign)
    from safetensors.torch import save_file

    save_file({"encoder.layer.2.output.dense.weight": torch.zeros(3, 3)}, str(foreign / DELTA_FILE))
    with pytest.raises(ConfigError, match="does not fit"):
        merge_adapter(model, foreign)


@pytest.mark.slow
def test_trained_detector_with_adapter_scores_and_detects_tampering(tmp_path: Path) -> None:
    from unspun.detect.data import LabelledText
    from unspun.detect.supervised.model import SupervisedDetector
    from unspun.detect.supervised.train import train_detector

    texts, labels = _texts(96, seed=5)
    records = [
        LabelledText(
            text=t,
            label="machine" if m else "human",
            domain="news",
            generator="gen" if m else "human",
            pair_id=f"p{i // 2}",
        )
        for i, (t, m) in enumerate(zip(texts, labels, strict=True))
    ]
    out = tmp_path / "detector"
    summary = train_detector(records, out, adapt=True)
    assert summary["adapted"] and (out / "adapter" / "adapter_model.safetensors").is_file()
    config = json.loads((out / "detector.json").read_text())
    assert config["adapter"] == "adapter" and config["adapter_sha1"]
    detector = SupervisedDetector.load(out)
    scores = detector.score([texts[0], texts[1]])
    assert scores[1].document > scores[0].document  # fancy words = the machine class here
    assert detector.calibration is not None
    assert detector.calibration.meta["source"] == "held-out human texts"

    weights = out / "adapter" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ConfigError, match="adapter does not match"):
        SupervisedDetector.load(out)

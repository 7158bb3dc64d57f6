"""The traced encoder cache: a later process pools exactly as the first did, without importing
transformers, and a missing, broken or disabled cache only means building the encoder again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from unspun.detect.supervised.embedding import PoolingEncoder
from unspun.models import traced
from unspun.models.encoder import DEFAULT_ENCODER, load_token_encoder

TEXTS = [
    "Short one.",
    "The minister said on Tuesday that the bridge would reopen in May, “not before”. " * 30,
    "Zürich’s café owners — 12 of them — met at 9 a.m. to discuss the ½-price offer.",
]


def _spans(text: str) -> list[tuple[int, int]]:
    half = len(text) // 2
    return [(0, half), (half, len(text))]


def _pool(encoder: PoolingEncoder) -> list:
    return encoder.pool(TEXTS, [_spans(t) for t in TEXTS], batch_size=2)


def _encoder(key: str) -> PoolingEncoder:
    return PoolingEncoder(DEFAULT_ENCODER, quantize=True, layers=(3, 4), cache_key=key)


def test_traced_encoder_pools_exactly_like_the_eager_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import torch

    monkeypatch.setenv("UNSPUN_CACHE", str(tmp_path))
    eager = _encoder("k1")
    assert not isinstance(eager.forward, torch.jit.ScriptModule)
    assert (tmp_path / "encoders" / "k1" / traced.MODULE_FILE).is_file()
    loaded = _encoder("k1")
    assert isinstance(loaded.forward, torch.jit.ScriptModule)
    assert (loaded.layers, loaded.dim, loaded.max_length) == (eager.layers, eager.dim, 256)
    # texts longer than one window and passages of each text, bit for bit: a scan's workers load
    # the traced module while the process that built it pools eagerly, and both must agree
    for ours, theirs in zip(_pool(loaded), _pool(eager), strict=True):
        np.testing.assert_array_equal(ours.document, theirs.document)
        np.testing.assert_array_equal(ours.passages, theirs.passages)


def test_fast_tokenizer_matches_the_transformers_one(tmp_path: Path) -> None:
    tokenizer, _ = load_token_encoder(DEFAULT_ENCODER)
    tokenizer.backend_tokenizer.save(str(tmp_path / "tokenizer.json"))
    ours = traced.FastTokenizer(tmp_path / "tokenizer.json", tokenizer.pad_token_id, 256)
    for text in [*TEXTS, "", "ΑΒΓ  naïve\u200b co-operation 3.5%"]:
        theirs = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        mine = ours(text, add_special_tokens=False)
        assert mine["input_ids"] == theirs["input_ids"]
        assert [tuple(o) for o in mine["offset_mapping"]] == [
            tuple(o) for o in theirs["offset_mapping"]
        ]


def test_broken_cache_entry_is_rebuilt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("UNSPUN_CACHE", str(tmp_path))
    reference = _pool(_encoder("k2"))
    module = tmp_path / "encoders" / "k2" / traced.MODULE_FILE
    module.write_bytes(module.read_bytes()[:1000])
    assert traced.load("k2") is None
    rebuilt = _encoder("k2")  # falls back to transformers and writes a good entry again
    np.testing.assert_allclose(_pool(rebuilt)[1].document, reference[1].document, atol=1e-5)
    assert traced.load("k2") is not None
    (tmp_path / "encoders" / "k2" / traced.META_FILE).write_text("{not json")
    assert traced.load("k2") is None


def test_cache_can_be_switched_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("UNSPUN_CACHE", "off")
    assert traced.cache_root() is None
    _encoder("k3")
    assert traced.load("k3") is None
    monkeypatch.setenv("UNSPUN_CACHE", str(tmp_path / "file"))
    (tmp_path / "file").write_text("a file where the cache folder should be")
    assert _encoder("k4").dim == 2 * 384  # an unusable cache is not an error


def test_cache_key_changes_with_every_setting() -> None:
    base = {"encoder": "x", "adapter_sha1": "a", "layers": [3, 4], "quantize": True}
    keys = {
        traced.cache_key(base),
        traced.cache_key({**base, "adapter_sha1": "b"}),
        traced.cache_key({**base, "layers": [4]}),
        traced.cache_key({**base, "quantize": False}),
    }
    assert len(keys) == 4 and traced.cache_key(dict(base)) in keys


@pytest.mark.slow
def test_shipped_detector_scores_from_the_cache_without_transformers(tmp_path: Path) -> None:
    import os

    from unspun.detect.supervised import shipped_directory

    if not (shipped_directory() / "detector.json").is_file():
        pytest.skip("the shipped default detector is not built yet")
    script = (
        "import json, sys\n"
        "from unspun.detect.supervised import shipped_directory\n"
        "from unspun.detect.supervised.model import SupervisedDetector\n"
        "d = SupervisedDetector.load(shipped_directory())\n"
        "s = d.score(['The council met on Monday and agreed the budget for next year.'])[0]\n"
        "print(json.dumps([s.document, 'transformers' in sys.modules]))\n"
    )
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", script],
                capture_output=True,
                check=True,
                timeout=300,
                env={**os.environ, "UNSPUN_CACHE": str(tmp_path)},  # empty: the first run builds
            )
            .stdout.decode()
            .strip()
            .splitlines()[-1]
        )
        for _ in range(2)
    ]
    assert runs[0][1] is True  # the first process builds the encoder with transformers
    assert runs[1][1] is False  # the second loads the traced one
    assert abs(runs[0][0] - runs[1][0]) < 1e-4


def test_only_the_most_recently_used_entries_are_kept(tmp_path: Path) -> None:
    import os

    folder = tmp_path / "encoders"
    for i in range(5):
        (folder / f"k{i}").mkdir(parents=True)
        os.utime(folder / f"k{i}", (1000 + i, 1000 + i))
    os.utime(folder / "k0", (5000, 5000))  # used last, though made first
    (folder / ".k9-staging").mkdir()  # another process still writing: not touched
    (folder / ".k8-crashed").mkdir()  # left by a process that died a day ago: removed
    os.utime(folder / ".k8-crashed", (1000, 1000))
    traced.prune(folder, keep=2)
    assert sorted(p.name for p in folder.iterdir()) == [".k9-staging", "k0", "k4"]

"""The language model behind the zero-shot detectors and the default detector: GGUF files by path,
the packaged Gemma 3 270M (its sha256 kept by unspun), the conversion cache, and the one-line
errors for files that cannot be used."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from unspun.errors import ModelUnavailable
from unspun.models import packaged

HAVE_GEMMA = importlib.util.find_spec(packaged.PACKAGE) is not None
needs_gemma = pytest.mark.skipif(
    not HAVE_GEMMA, reason=f"the {packaged.PACKAGED_LM} package is not installed"
)


def write_gguf(path: Path, architecture: str = "foo") -> Path:
    import gguf

    writer = gguf.GGUFWriter(str(path), architecture)
    writer.add_block_count(1)
    writer.add_tensor("token_embd.weight", np.zeros((4, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def one_line(error: Exception) -> str:
    text = str(error)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_a_file_that_is_not_gguf_is_refused_before_any_work(tmp_path):
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"\x00\x01not a model" * 100)
    with pytest.raises(ModelUnavailable) as caught:
        packaged.gguf_directory(str(bad))
    assert "is not a GGUF file" in one_line(caught.value)


def test_a_missing_gguf_file_is_one_line(tmp_path):
    with pytest.raises(ModelUnavailable, match="does not exist"):
        packaged.gguf_directory(str(tmp_path / "absent.gguf"))


def test_an_architecture_transformers_cannot_load_is_one_line(tmp_path):
    path = write_gguf(tmp_path / "foo.gguf", "foo")
    with pytest.raises(ModelUnavailable) as caught:
        packaged.gguf_directory(str(path))
    assert "architecture" in one_line(caught.value)
    # Nothing half-converted is left, and no entry for this file that could pass for finished.
    root = packaged._lm_root()
    if root is not None:
        assert not (root / packaged.file_sha256(path)[:20]).exists()
        assert not list(root.glob(".converting-*"))


def test_a_truncated_gguf_is_one_line(tmp_path):
    whole = write_gguf(tmp_path / "whole.gguf", "llama").read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ModelUnavailable) as caught:
        packaged.gguf_directory(str(cut))
    one_line(caught.value)


def test_an_unwritable_cache_folder_is_one_line(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("UNSPUN_CACHE", str(blocker))
    path = write_gguf(tmp_path / "m.gguf", "llama")
    with pytest.raises(ModelUnavailable) as caught:
        packaged.gguf_directory(str(path))
    assert "UNSPUN_CACHE" in one_line(caught.value)


def test_gguf_models_load_through_the_zero_shot_detectors(tmp_path, monkeypatch):
    """A GGUF file given as --model is converted once; the second load reuses the cache."""
    from unspun.detect.base import create_detector
    from unspun.errors import ConfigError

    path = write_gguf(tmp_path / "m.gguf", "foo")
    with pytest.raises((ModelUnavailable, ConfigError)) as caught:
        create_detector("likelihood", model=str(path))
    one_line(caught.value)


@needs_gemma
def test_a_packaged_file_whose_sha256_differs_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("UNSPUN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(packaged, "GEMMA_SHA256", "0" * 64)
    with pytest.raises(ModelUnavailable) as caught:
        packaged.packaged_gemma()
    assert "sha256" in one_line(caught.value) and "refusing" in str(caught.value)
    assert not list((tmp_path / "cache" / "lm").glob("0000*"))


@needs_gemma
@pytest.mark.slow
def test_the_packaged_gemma_scores_a_text(capfd):
    """The real model (converted into the test run's cache on first use, ~1-2 min): news-like
    text gets finite per-token statistics and the model is named as the packaged one."""
    from unspun.detect.base import create_detector

    detector = create_detector("likelihood", max_tokens=64)  # no model named: Gemma
    assert detector.primary.name in (packaged.PACKAGED_LM, packaged.DEFAULT_LM)
    text = (
        "The council approved the new budget on Tuesday after a long debate. Officials said the "
        "bridge would reopen next month, weeks ahead of schedule."
    )
    (scores,) = detector.score([text])
    assert np.isfinite(scores.document) and -8 < scores.document < 0
    assert scores.tokens and all(t.rank >= 1 for t in scores.tokens)
    assert "".join(t.text for t in scores.tokens).strip() in text

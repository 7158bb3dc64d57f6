"""Shared fixtures. ``plain_detector`` is a small real detector (mean word length) for fast tests of
the front ends; tests of detection quality use the shipped default detector."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from unspun.article.sentences import passage_windows
from unspun.detect.base import PassageScore, Scores
from unspun.detect.calibration import Calibration

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


class MeanWordLengthDetector:
    """Scores a text by its mean word length: long words -> higher score. Deterministic and fast."""

    name = "mean-word-length"
    version = "test"

    def __init__(self) -> None:
        self.calibration = Calibration(
            detector=self.name,
            settings=self.settings,
            human_scores=[4.0 + i / 100 for i in range(100)],  # 4.00 .. 4.99
            reference="test reference",
        )

    @property
    def settings(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def _mean_length(text: str) -> float:
        words = text.split()
        return sum(len(w) for w in words) / len(words) if words else 0.0

    def score(self, texts: Sequence[str], *, passages: bool = True) -> list[Scores]:
        results = []
        for text in texts:
            spans = passage_windows(text) if passages else []
            results.append(
                Scores(
                    document=self._mean_length(text),
                    passages=[PassageScore(s, e, self._mean_length(text[s:e])) for s, e in spans],
                )
            )
        return results

    def save(self, directory: Path) -> None:  # pragma: no cover - not needed in tests
        raise NotImplementedError


@pytest.fixture
def plain_detector() -> MeanWordLengthDetector:
    return MeanWordLengthDetector()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "data" / "detect").is_dir():
        pytest.skip("../shared/data is not present next to the repository")
    return SHARED


@pytest.fixture(scope="session")
def seed_article_path() -> Path:
    path = SHARED / "examples" / "seed-article.txt"
    if not path.is_file():
        pytest.skip("../shared/examples/seed-article.txt is not present")
    return path


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Traced encoders and saved calibrations belong to this test run, never the user's
    (~/.cache/unspun, ~/.local/share/unspun)."""
    import os

    folder = tmp_path_factory.mktemp("unspun-cache")
    os.environ["UNSPUN_CACHE"] = str(folder)
    # Calibrations a user saved with `unspun calibrate` take precedence over shipped ones: keep
    # the user's out of the tests (a test that needs some sets its own UNSPUN_HOME).
    os.environ["UNSPUN_HOME"] = str(tmp_path_factory.mktemp("unspun-home"))
    return folder


@pytest.fixture(scope="session", autouse=True)
def fast_default_detector() -> None:
    """Tests of the front ends (CLI, API, scans, web page) run the fast encoder detector as the
    default; the hidden-state default itself is tested in test_default_detector.py (it reads
    each article with Gemma 3 270M, under a second a text on 2 cores, after a minute of
    conversion)."""
    import os

    os.environ["UNSPUN_DETECTOR"] = "encoder"


@pytest.fixture(scope="module")
def one_torch_thread():
    """For modules of tiny models and one-window-at-a-time calls: they gain nothing from threads,
    and on a busy machine OpenMP's spinning threads make each small matrix product many times
    slower. Use with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

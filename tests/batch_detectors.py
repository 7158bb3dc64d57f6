"""Test-only detectors for scan tests, registered by name so worker processes and Ray actors can
create them (they import this module through UNSPUN_PLUGINS, which calls ``register``); never part
of the shipped registry."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from conftest import MeanWordLengthDetector

from unspun.detect.base import Scores
from unspun.detect.registry import register

TEST_DETECTOR = "test-mean-word-length"
# Seconds per text, so a scan of a few hundred records lasts long enough to be killed mid-way.
DELAY_ENV = "UNSPUN_TEST_DETECTOR_DELAY"
# Texts containing this word make the detector raise, to test that one bad article stays one row.
EXPLODE = "KABOOM"


class ScanTestDetector(MeanWordLengthDetector):
    name = TEST_DETECTOR

    def __init__(self, delay: float | None = None) -> None:
        super().__init__()
        self.delay = float(os.environ.get(DELAY_ENV, "0")) if delay is None else delay

    def score(self, texts: Sequence[str], *, passages: bool = True) -> list[Scores]:
        if any(EXPLODE in text for text in texts):
            raise ValueError("test detector asked to fail")
        if self.delay:
            time.sleep(self.delay * len(texts))
        return super().score(texts, passages=passages)


def _make(delay: float | None = None) -> ScanTestDetector:
    return ScanTestDetector(delay)


register(TEST_DETECTOR, _make, "test only: mean word length, optionally slowed down")

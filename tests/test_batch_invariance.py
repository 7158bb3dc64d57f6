"""A text's score does not depend on what it is scored with: alone, in any batch, in any order, at
any batch size, through ``check``, ``check_many`` and a scan. (The shipped detector once ran padded
batches through an int8 dynamically quantised encoder, whose activation scales span the whole
batch: ``check`` and ``scan`` of one article disagreed by up to 0.22 in machine probability.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unspun.article import parse_record
from unspun.detect.base import create_detector
from unspun.pipeline import CheckConfig, Checker

CORPUS = Path(__file__).resolve().parent.parent / "examples" / "reference-corpus.jsonl"


def _texts() -> list[str]:
    """Twelve texts: the eight corpus reports (~130-150 words, one encoder window each), three
    joined from several of them (two or three windows), and a short one with unusual characters."""
    reports = [
        json.loads(line)["text"]
        for line in CORPUS.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    joined = ["\n\n".join(reports[i : i + n]) for i, n in ((0, 2), (2, 3), (5, 3))]
    short = "Zürich’s café owners — 12 of them — met at 9 a.m. to discuss the ½-price offer."
    return [*reports, *joined, short]


TEXTS = _texts()
# The handful the property test draws from: one and several windows, the short one.
HANDFUL = [TEXTS[0], TEXTS[3], TEXTS[8], TEXTS[9], TEXTS[11]]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def supervised():  # noqa: ANN201 - the shipped SupervisedDetector
    return create_detector("supervised")


@pytest.fixture(scope="module")
def supervised_alone(supervised) -> list:  # noqa: ANN001
    return [supervised.score([text])[0] for text in HANDFUL]


def _assert_same(scores, reference) -> None:  # noqa: ANN001
    assert scores.document == pytest.approx(reference.document, abs=1e-6)
    assert [(p.start, p.end) for p in scores.passages] == [
        (p.start, p.end) for p in reference.passages
    ]
    for ours, theirs in zip(scores.passages, reference.passages, strict=True):
        assert ours.score == pytest.approx(theirs.score, abs=1e-6)


batches = st.lists(st.integers(0, len(HANDFUL) - 1), min_size=1, max_size=7)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(picks=batches, batch_size=st.integers(1, 40))
def test_supervised_scores_do_not_depend_on_the_batch(
    supervised,  # noqa: ANN001
    supervised_alone,  # noqa: ANN001
    picks: list[int],
    batch_size: int,
) -> None:
    # Windows per encoder call when pooling padded batches; now it must change nothing.
    saved, supervised.batch_size = supervised.batch_size, batch_size
    try:
        scores = supervised.score([HANDFUL[i] for i in picks])
    finally:
        supervised.batch_size = saved
    for pick, score in zip(picks, scores, strict=True):
        _assert_same(score, supervised_alone[pick])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(picks=batches)
def test_plain_detector_scores_do_not_depend_on_the_batch(
    plain_detector,  # noqa: ANN001
    picks: list[int],
) -> None:
    alone = [plain_detector.score([text])[0] for text in HANDFUL]
    scores = plain_detector.score([HANDFUL[i] for i in picks])
    for pick, score in zip(picks, scores, strict=True):
        _assert_same(score, alone[pick])


def test_encoder_pooling_does_not_depend_on_the_batch(supervised) -> None:  # noqa: ANN001
    """The embeddings themselves, bit for bit: each window runs alone, whatever batch_size says."""
    import numpy as np

    encoder = supervised.encoder
    spans = [[(0, len(t) // 2), (len(t) // 2, len(t))] for t in HANDFUL]
    alone = [encoder.pool([t], [s])[0] for t, s in zip(HANDFUL, spans, strict=True)]
    order = [4, 2, 0, 3, 1]
    together = encoder.pool([HANDFUL[i] for i in order], [spans[i] for i in order], batch_size=3)
    for i, pooled in zip(order, together, strict=True):
        np.testing.assert_array_equal(pooled.document, alone[i].document)
        np.testing.assert_array_equal(pooled.passages, alone[i].passages)


CONFIG = CheckConfig(detector="supervised", tokens=False)


@pytest.fixture(scope="module")
def reports_alone(supervised) -> list:  # noqa: ANN001
    """``check`` of each of the twelve texts on its own."""
    checker = Checker(CONFIG, detector=supervised)
    return [checker.check(parse_record({"text": text})) for text in TEXTS]


def test_check_and_check_many_report_the_same_probability(
    supervised,  # noqa: ANN001
    reports_alone,  # noqa: ANN001
) -> None:
    checker = Checker(CONFIG, detector=supervised)
    together = checker.check_many([parse_record({"text": text}) for text in TEXTS])
    for alone, report in zip(reports_alone, together, strict=True):
        assert report.human_percentile is not None
        assert report.human_percentile == pytest.approx(alone.human_percentile, abs=1e-6)
        assert report.verdict == alone.verdict
        assert report.scores == pytest.approx(alone.scores, abs=1e-6)


def test_a_local_scan_reports_what_check_reports(reports_alone, tmp_path: Path) -> None:  # noqa: ANN001
    import pyarrow.parquet as pq

    from unspun.batch.engine import ScanSettings
    from unspun.batch.scan import ScanOptions, run_scan

    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "".join(json.dumps({"id": f"t{i}", "text": t}) + "\n" for i, t in enumerate(TEXTS)),
        encoding="utf-8",
    )
    out = tmp_path / "results.parquet"
    # One batch of all twelve, through the scan's own Checker (the detector loaded again).
    run_scan([str(feed)], out, ScanSettings(CONFIG), ScanOptions(workers=1, batch_size=12))
    rows = {row["input_id"]: row for row in pq.read_table(out).to_pylist()}
    assert len(rows) == len(TEXTS)
    for i, alone in enumerate(reports_alone):
        row = rows[f"t{i}"]
        assert row["error"] is None
        assert row["human_percentile"] == pytest.approx(alone.human_percentile, abs=1e-6)
        assert row["verdict"] == alone.verdict


def test_windows_run_side_by_side_on_threads_give_the_same_vectors(supervised) -> None:  # noqa: ANN001
    """With several threads the encoder runs whole windows on parallel threads (one intra-op
    thread each); the vectors must equal those of one thread running them in turn."""
    import numpy as np
    import torch

    texts = _texts()
    encoder = supervised.encoder
    spans = [[(0, len(t) // 2), (len(t) // 2, len(t))] for t in texts]
    alone = encoder.pool(texts, spans)
    torch.set_num_threads(2)
    try:
        threaded = encoder.pool(texts, spans)
    finally:
        torch.set_num_threads(1)
    for a, b in zip(alone, threaded, strict=True):
        assert np.array_equal(a.document, b.document)
        assert np.array_equal(a.passages, b.passages)

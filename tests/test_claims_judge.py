"""The claim judge: the packaged one loads offline and is what every front end uses;
``unspun train --kind claims`` trains one from written pairs and refuses the benchmark's pairs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from unspun.errors import ConfigError, ModelUnavailable
from unspun.provenance.judge import JUDGE_DIR, ClaimJudge, packaged_judge

REPO = Path(__file__).resolve().parent.parent

# Two invented passages, written for this test, in the format of benchmarks/data/claims_train.jsonl.
PASSAGES = [
    {
        "id": "test-ferry",
        "use": "training",
        "date": "2026-05-04",
        "title": "Island ferry returns after repairs",
        "source": "The ferry to Holm Island returned to service on Monday after six weeks of "
        "engine repairs. About 900 islanders rely on it to reach the mainland. Captain Ruth Amos "
        "said most crossings would run to the summer timetable.",
        "cases": [
            {"kind": "faithful", "claim": "Holm Island's ferry is sailing again since Monday."},
            {"kind": "negation", "claim": "The ferry to Holm Island did not return on Monday."},
            {"kind": "number", "claim": "About 300 islanders rely on the ferry."},
            {"kind": "unmentioned", "claim": "The ferry was built in Norway in 1998."},
        ],
    },
    {
        "id": "test-library",
        "use": "training",
        "date": "2026-09-14",
        "title": "Library reopens after flood",
        "source": "Marlby library reopened on Saturday, five months after a flood damaged 4,000 "
        "books. Librarian Omar Pike said the children's section had been rebuilt.",
        "cases": [
            {"kind": "faithful", "claim": "The children's area of Marlby library was rebuilt."},
            {"kind": "quantity", "claim": "No books were damaged in the flood at Marlby."},
            {"kind": "unmentioned", "claim": "The library plans to open a cafe in the spring."},
        ],
    },
]


def test_the_packaged_judge_is_small_and_reads_pairs():
    sizes = sum(path.stat().st_size for path in JUDGE_DIR.iterdir())
    assert sizes < 2_000_000  # the trained updates only, never MiniLM's own weights
    judge = packaged_judge()
    probabilities = judge.probabilities(
        [
            ("The ferry returned on Monday.", "The ferry did not return on Monday."),
            ("The ferry returned on Monday.", "The ferry came back on Monday."),
        ]
    )
    assert probabilities.shape == (2, 3)
    assert probabilities.sum(axis=1) == pytest.approx([1.0, 1.0], abs=1e-4)
    assert probabilities[0, 2] > probabilities[1, 2]  # the negated claim reads as contradicted


def test_a_missing_judge_is_a_one_line_model_error(tmp_path):
    with pytest.raises(ModelUnavailable, match="cannot be read"):
        ClaimJudge(tmp_path)


def test_the_pipeline_and_the_trace_use_the_packaged_judge(tmp_path):
    from unspun.provenance import Provenance, SourceIndex
    from unspun.provenance.records import read_sources

    location = str(tmp_path / "index")
    SourceIndex(location, create=True).add(
        read_sources(REPO / "examples" / "reference-corpus.jsonl")
    )
    assert Provenance(location).checker.judge is packaged_judge()


def test_train_claims_writes_a_judge_that_loads(tmp_path):
    from unspun.cli import app

    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(p) + "\n" for p in PASSAGES), encoding="utf-8")
    out = tmp_path / "judge"
    result = CliRunner().invoke(
        app,
        ["train", "--kind", "claims", str(data), "--out", str(out), "--epochs", "1", "-f", "json"],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["written passages"] == 2 and summary["training pairs"] > 0
    judge = ClaimJudge(out)
    assert judge.probabilities([("A ship sailed.", "A ship left.")]).shape == (1, 3)
    assert set(judge.thresholds) == {"supported", "contradicted"}


def test_train_claims_refuses_the_benchmarks_pairs(tmp_path):
    from unspun.cli import app

    data = tmp_path / "bench.jsonl"
    data.write_text(json.dumps(PASSAGES[0] | {"use": "benchmark"}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["train", "--kind", "claims", str(data), "--out", str(tmp_path / "j")]
    )
    # A ConfigError: the console entry point prints it as one line (tests/test_cli.py).
    assert isinstance(result.exception, ConfigError)
    assert "benchmark" in str(result.exception) and "\n" not in str(result.exception)
    assert not (tmp_path / "j" / "judge.json").exists()

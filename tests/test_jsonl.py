"""One JSONL reader for every command: a UTF-8 BOM at the start of a file is accepted everywhere,
blank lines are skipped, and a malformed line is one line of error naming its number."""

from __future__ import annotations

import codecs
import json

import pytest
from typer.testing import CliRunner

from unspun.cli import app
from unspun.errors import InputNotFound, MalformedInput
from unspun.jsonl import iter_lines, read_objects

TEXT = (
    "The council voted on Monday to approve a budget that raises spending on road repairs "
    "while holding property taxes flat for a third year in a row."
)


def write_lines(path, records, *, bom=True, blank=True) -> None:
    lines = [json.dumps(record) for record in records]
    if blank:
        lines.insert(1, "   ")
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)


def labelled(n: int) -> list[dict]:
    return [
        {"id": f"a{i}", "text": f"{TEXT} Item {i}.", "label": "human" if i % 2 else "machine"}
        for i in range(n)
    ]


def test_the_reader_accepts_a_bom_skips_blank_lines_and_keeps_line_numbers(tmp_path):
    path = tmp_path / "in.jsonl"
    write_lines(path, labelled(3))
    found = list(read_objects(path))
    assert [where for where, _ in found] == [f"{path}:1", f"{path}:3", f"{path}:4"]
    assert found[0][1]["id"] == "a0"  # the BOM is not part of the first record


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"{oops", "invalid JSON"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (b'{"text": "caf\xe9"}', "not UTF-8 text"),
        (codecs.BOM_UTF8 + b'{"text": "x"}', "invalid JSON (Unexpected UTF-8 BOM"),
    ],
)
def test_a_malformed_line_is_one_line_with_its_number(tmp_path, line, expected):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"text": "fine"}\n\n' + line + b"\n")
    with pytest.raises(MalformedInput) as caught:
        list(read_objects(path))
    message = str(caught.value)
    assert message.startswith(f"{path}:3: ") and expected in message and "\n" not in message


def test_missing_file_and_directory_are_clear_errors(tmp_path):
    with pytest.raises(InputNotFound, match="no such file"):
        list(iter_lines(tmp_path / "absent.jsonl"))
    with pytest.raises(InputNotFound, match="is a directory"):
        list(iter_lines(tmp_path))


def test_every_reader_accepts_a_bom(tmp_path):
    """The readers behind train/eval/train-ensemble, calibrate/synth, trace, scan and index add."""
    from unspun.batch.inputs import iter_inputs, resolve_inputs
    from unspun.detect.data import read_labelled
    from unspun.provenance.bulk import iter_trace_records
    from unspun.provenance.records import read_sources
    from unspun.synth import read_human

    path = tmp_path / "bom.jsonl"
    write_lines(path, labelled(4))
    assert [r.id for r in read_labelled([path])] == ["a0", "a1", "a2", "a3"]
    humans, skipped = read_human(path)
    assert [a.id for a in humans] == ["a1", "a3"] and skipped == 2
    traced = list(iter_trace_records(path))
    assert [r.error for r in traced] == [None] * 4 and traced[0].id == "a0"
    scanned = list(iter_inputs(resolve_inputs([str(path)])))
    assert [r.kind for r in scanned] == ["record"] * 4
    assert json.loads(scanned[0].payload)["id"] == "a0"
    assert [doc.id for doc in read_sources(path)] == ["a0", "a1", "a2", "a3"]


def test_commands_read_a_bom_file_and_stop_at_their_own_checks(tmp_path):
    """Each command gets past reading the BOM file (its next check is what stops it, before any
    model loads); a reader that refused the BOM would stop it at line 1 instead."""
    path = tmp_path / "bom.jsonl"
    write_lines(path, labelled(4))
    taken = tmp_path / "taken"
    taken.write_text("not a directory")
    runner = CliRunner()
    for args, expected in (
        (["calibrate", str(path), "--target-fpr", "0.01"], "2 human texts cannot show"),
        (["synth", str(path), "--model", "none", "--out", str(taken)], "already exists"),
        (["train-ensemble", str(path), "--members", "x", "--out", str(taken)], "not a directory"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code != 0
        assert expected in str(result.exception) or expected in result.output, args
        assert "BOM" not in str(result.exception) and ":1:" not in str(result.exception)

"""``unspun synth``: machine counterparts of human articles from their headline and lead, with the
generator, decoding settings and pair_id recorded; on a tiny random model."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from unspun.cli import app
from unspun.detect.data import read_labelled
from unspun.detect.zeroshot.random_lm import build_random_lm
from unspun.errors import ConfigError, MalformedInput
from unspun.synth import lead_of, read_human

ARTICLES = [
    {
        "id": "a1",
        "title": "Council approves budget",
        "text": "The council approved the new budget on Tuesday after a long debate in the town "
        "hall. Officials said the bridge would reopen next month.",
        "domain": "news",
    },
    {
        "text": "LONDON (Wire) - Shares fell. The company warned that profits would be lower than "
        "expected this year, and its chief executive said costs had risen.",
        "pair_id": "p2",
    },
    {"text": "A machine text that must be skipped.", "label": "machine"},
]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def generator(tmp_path_factory) -> str:
    return str(build_random_lm(tmp_path_factory.mktemp("gen") / "gpt2", seed=3))


@pytest.fixture
def human_file(tmp_path):
    path = tmp_path / "human.jsonl"
    path.write_text("\n".join(json.dumps(a) for a in ARTICLES) + "\n", encoding="utf-8")
    return path


def synth(*args: str):
    return CliRunner().invoke(app, ["synth", *args], catch_exceptions=False)


def test_synth_writes_paired_machine_counterparts(generator, human_file, tmp_path, monkeypatch):
    monkeypatch.setenv("UNSPUN_OFFLINE", "1")
    out = tmp_path / "out.jsonl"
    args = [str(human_file), "--model", generator, "--out", str(out), "--max-new-tokens", "24"]
    result = synth(*args, "--seed", "7", "--with-human", "--temperature", "0.8")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["label"] for r in records] == ["human", "machine", "human", "machine"]
    human, machine = records[0], records[1]
    assert human["pair_id"] == machine["pair_id"] == "a1"
    assert records[3]["pair_id"] == "p2"
    assert machine["generator"] == generator
    assert machine["source_id"] == "a1"
    assert machine["decoding"]["temperature"] == 0.8
    assert machine["decoding"]["seed"] == 7
    assert machine["decoding"]["max_new_tokens"] <= 24
    assert machine["prompt"] == {
        "style": "continue",
        "headline": "Council approves budget",
        "lead": "The council approved the new budget on Tuesday after a long debate in the town "
        "hall.",
    }
    # A base model continues the lead, so the pair shares its opening, as in the benchmarks.
    assert machine["text"].startswith(machine["prompt"]["lead"])
    # The first sentence of the second article is a fragment: the lead takes two sentences.
    assert records[3]["prompt"]["lead"].startswith("LONDON (Wire) - Shares fell. The company")
    # The output is ready for training and evaluation.
    assert len(read_labelled([out])) == 4

    # Same seed, same input: the same texts; OUT is not replaced without --overwrite.
    result = CliRunner().invoke(app, ["synth", *args, "--seed", "7", "--temperature", "0.8"])
    assert result.exit_code != 0 and "already exists" in str(result.exception)
    again = tmp_path / "again.jsonl"
    args[args.index(str(out))] = str(again)
    synth(*args, "--seed", "7", "--temperature", "0.8")
    repeat = [json.loads(line) for line in again.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in repeat] == [r["text"] for r in records if r["label"] == "machine"]
    assert not (tmp_path / "again.jsonl.partial").exists()


def test_chat_models_are_asked_to_write_the_article(generator, human_file, tmp_path):
    from transformers import AutoTokenizer

    chat_dir = tmp_path / "chat"
    tokenizer = AutoTokenizer.from_pretrained(generator)
    tokenizer.chat_template = (
        "{% for m in messages %}{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}Article:\n{% endif %}"
    )
    build_random_lm(chat_dir, seed=3, tokenizer=tokenizer)
    out = tmp_path / "chat.jsonl"
    synth(str(human_file), "--model", str(chat_dir), "--out", str(out), "--max-new-tokens", "8")
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["prompt"]["style"] for r in records] == ["chat", "chat"]
    with pytest.raises(ConfigError, match="no chat template"):
        CliRunner().invoke(
            app,
            ["synth", str(human_file), "--model", generator, "--out", str(tmp_path / "x.jsonl")]
            + ["--style", "chat"],
            catch_exceptions=False,
        )


def test_bad_input_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(MalformedInput, match="bad.jsonl:2"):
        read_human(bad)
    only_machine = tmp_path / "machine.jsonl"
    only_machine.write_text('{"text": "x", "label": "machine"}\n', encoding="utf-8")
    with pytest.raises(Exception, match="no human-written records"):
        read_human(only_machine)
    assert lead_of("   ") == ""

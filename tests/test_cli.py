"""The command line: check/eval/train through Typer's runner and through the installed ``unspun``
script (exit codes, one-line errors, no traceback), the JSON contract, and the terminal report."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from unspun.cli import app
from unspun.cli.options import detector_options
from unspun.detect.base import register
from unspun.errors import (
    BinaryInput,
    ConfigError,
    EmptyInput,
    InputNotFound,
    InputTooLarge,
    MalformedInput,
)
from unspun.report import (
    ArticleInfo,
    ClaimInfo,
    DetectorInfo,
    EvidenceInfo,
    PassageInfo,
    Report,
    SignalInfo,
    SourceInfo,
    TokenInfo,
)

REPO = Path(__file__).resolve().parent.parent
TEST_DETECTOR = "mean-word-length"


@pytest.fixture(autouse=True)
def _register_test_detector(plain_detector) -> None:
    # In-process runs find the conftest detector under this name (subprocesses never see it).
    register(TEST_DETECTOR, type(plain_detector), "test detector: mean word length")


ARTICLE = """Council approves new budget for city parks

By Jane Reporter

The city council voted on Tuesday to approve a budget that sets aside money for the repair of
three parks on the east side. The vote was seven to two, and the mayor said she would sign it.

Residents had asked for new benches, better lighting and a fence around the playground. Some of
them came to the meeting to speak, and one of them said the park had not been fixed in years.

The work will start in the spring and should be done by the end of the summer, the parks
department said in a statement. It will cost less than the council had first thought.
"""

REPORT_KEYS = {
    "schema",
    "verdict",
    "reason",
    "human_percentile",
    "threshold",
    "target_fpr",
    "detector",
    "scores",
    "article",
    "signals",
    "passages",
}
ARTICLE_KEYS = {"title", "subtitle", "author", "date", "url", "site", "body"}
EVAL_KEYS = {"n", "auroc", "tpr_at_1pct_fpr", "tpr_at_5pct_fpr", "f1", "groups"}
GROUP_KEYS = {"domain", "generator", "n", "auroc", "tpr_at_1pct_fpr"}

runner = CliRunner()


def _has_reader() -> bool:
    import unspun.article

    return hasattr(unspun.article, "read_article")


needs_reader = pytest.mark.skipif(not _has_reader(), reason="unspun.article.read_article missing")


def _has_default_detector() -> bool:
    from unspun.detect.supervised import shipped_directory

    return (shipped_directory() / "detector.json").is_file()


def _unspun_script() -> str:
    script = Path(sys.executable).parent / "unspun"
    if script.is_file():
        return str(script)
    found = shutil.which("unspun")
    if found is None:
        pytest.skip("the unspun console script is not installed")
    return found


def run_unspun(*args: str, stdin: bytes | None = None, timeout: float = 120):
    env = {**os.environ, "UNSPUN_OFFLINE": "1", "COLUMNS": "80"}
    env.pop("UNSPUN_DEBUG", None)
    return subprocess.run(
        [_unspun_script(), *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env=env,
    )


def assert_contract(data: dict) -> None:
    """Every key of unspun.report/2 is present with its type, and every offset points into body."""
    assert set(data) >= REPORT_KEYS
    assert data["schema"] == "unspun.report/2"
    assert data["verdict"] in {"machine", "not_flagged", "uncertain"}
    assert data["reason"] is None or isinstance(data["reason"], str)
    assert isinstance(data["human_percentile"], float | None)
    assert isinstance(data["threshold"], float | None)
    assert isinstance(data["target_fpr"], float)
    assert set(data["detector"]) >= {"name", "version"}
    assert all(isinstance(v, float | int) for v in data["scores"].values())
    assert data["detector"]["name"] in data["scores"]
    article = data["article"]
    assert set(article) >= ARTICLE_KEYS
    body = article["body"]
    for signal in data["signals"]:
        assert {"id", "message", "start", "end"} <= set(signal)
        if signal["start"] is not None:
            assert 0 <= signal["start"] <= signal["end"] <= len(body)
    for passage in data["passages"]:
        assert {"start", "end", "text", "score"} <= set(passage)
        assert body[passage["start"] : passage["end"]] == passage["text"]
        assert 0.0 <= passage["score"] <= 1.0 or data["threshold"] is None


@pytest.fixture
def article_file(tmp_path: Path) -> Path:
    path = tmp_path / "article.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    return path


@pytest.fixture
def labelled_file(tmp_path: Path) -> Path:
    """Human texts use short words, machine texts long ones: the test detector separates them."""
    rows = []
    for i in range(30):
        rows.append(
            {"text": f"the cat sat on a mat {i} and ran off", "label": "human", "domain": "news"}
        )
        rows.append(
            {
                "text": f"extraordinary institutional deliberations continued {i}",
                "label": "machine",
                "domain": "news",
                "generator": "gen-a",
            }
        )
    rows.append({"text": "a b c d e f g h i j", "label": "human", "domain": "wiki"})
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# -- in-process (Typer's runner) -----------------------------------------------------------------


@needs_reader
def test_check_json_follows_the_contract(article_file: Path) -> None:
    result = runner.invoke(
        app, ["check", str(article_file), "--detector", TEST_DETECTOR, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert_contract(data)
    assert {k: data["detector"][k] for k in ("name", "version")} == {
        "name": TEST_DETECTOR,
        "version": "test",
    }
    assert data["detector"]["model"] is None  # not a language-model detector
    assert data["target_fpr"] == 0.01
    assert data["passages"], "the test detector scores passages"
    assert "parks" in data["article"]["body"]


@needs_reader
def test_check_reads_stdin_and_honours_target_fpr(article_file: Path) -> None:
    result = runner.invoke(
        app,
        ["check", "-", "-d", TEST_DETECTOR, "-f", "json", "--target-fpr", "0.05"],
        input=article_file.read_text(encoding="utf-8"),
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["target_fpr"] == 0.05
    assert_contract(data)


@needs_reader
def test_check_text_report_is_readable(article_file: Path) -> None:
    # A pipe, 80 columns, no forced colour: what a user redirecting the output gets.
    plain = {"COLUMNS": "80", "FORCE_COLOR": None, "TTY_COMPATIBLE": None}
    result = runner.invoke(app, ["check", str(article_file), "-d", TEST_DETECTOR], env=plain)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert any(words in out for words in ("MACHINE-WRITTEN", "NO SIGN", "UNCERTAIN"))
    assert "Human percentile" in out
    assert "Threshold" in out and "1 in 100" in out
    assert "Measured FPR" in out and "95% interval" in " ".join(out.split())
    assert TEST_DETECTOR in out
    assert "playground" in out  # the body is shown
    assert "\x1b[" not in out  # no colour codes when not a terminal
    # Rich pads table and grid lines to the width; piped output must not carry that padding.
    assert [line for line in out.splitlines() if line != line.rstrip()] == []
    assert max(len(line) for line in out.splitlines()) <= 80
    no_body = runner.invoke(app, ["check", str(article_file), "-d", TEST_DETECTOR, "--no-body"])
    assert "playground" not in no_body.stdout


@needs_reader
def test_option_a_detector_does_not_take_is_a_config_error(article_file: Path) -> None:
    result = runner.invoke(
        app, ["check", str(article_file), "-d", TEST_DETECTOR, "--observer", "gpt2"]
    )
    assert isinstance(result.exception, ConfigError)
    assert "--observer" in str(result.exception)


def test_detector_options_keep_only_given_ones() -> None:
    assert detector_options() == {}
    assert detector_options(observer="a", device="cpu", batch_size=4, model=None) == {
        "observer": "a",
        "device": "cpu",
        "batch_size": 4,
    }


def test_eval_json_and_plot(labelled_file: Path, tmp_path: Path) -> None:
    plot = tmp_path / "roc.png"
    result = runner.invoke(
        app,
        ["eval", str(labelled_file), "-d", TEST_DETECTOR, "-f", "json", "--plot", str(plot)],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= EVAL_KEYS
    assert data["n"] == 61
    assert data["auroc"] == 1.0
    assert data["tpr_at_1pct_fpr"] == 1.0
    # The test detector is calibrated (human reference 4.00..4.99), so F1 is taken there.
    assert data["f1_threshold_source"] == "calibrated"
    groups = {(g["domain"], g["generator"]): g for g in data["groups"]}
    assert set(groups["news", "gen-a"]) >= GROUP_KEYS
    assert groups["news", "gen-a"]["n"] == 60
    assert groups["wiki", "human"]["auroc"] is None
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_eval_table(labelled_file: Path) -> None:
    result = runner.invoke(app, ["eval", str(labelled_file), "-d", TEST_DETECTOR])
    assert result.exit_code == 0, result.output
    assert "AUROC" in result.stdout and "gen-a" in result.stdout
    assert "calibrated threshold" in result.stdout


def test_render_shows_every_part_without_colour_off_a_terminal() -> None:
    from rich.console import Console

    from unspun.render import rank_buckets, render_report

    body = "First passage is here. It reads well.\n\nSecond passage follows it [with brackets]."
    report = Report(
        verdict="machine",
        reason="flagged: at this threshold about 1 in 100 human-written texts is flagged",
        human_percentile=0.995,
        threshold=0.99,
        target_fpr=0.01,
        detector=DetectorInfo(name="default", version="1"),
        scores={"default": 3.2},
        article=ArticleInfo(title="A title", author="Marilyn", body=body),
        signals=[
            SignalInfo(
                id="duplicated_headline",
                message="the headline appears twice",
                text="A title",
                count=2,
            )
        ],
        passages=[
            PassageInfo(start=0, end=37, text=body[:37], score=0.999),
            PassageInfo(start=39, end=len(body), text=body[39:], score=0.2),
        ],
        tokens=[
            TokenInfo(start=0, end=5, text="First", logprob=-1.0, rank=1, entropy=2.0),
            TokenInfo(start=6, end=13, text="passage", logprob=-6.0, rank=500, entropy=4.0),
        ],
        sources=[
            SourceInfo(
                id="s1",
                title="Original story",
                url="https://example.org/a",
                score=0.91,
                reason="shares 12 sentences",
            )
        ],
        claims=[
            ClaimInfo(
                start=0,
                end=22,
                text="First passage is here.",
                status="contradicted",
                evidence=EvidenceInfo(source_id="s1", text="No passage was here."),
                reason="the source says the opposite",
            )
        ],
    )
    buffer = io.StringIO()
    render_report(report, Console(file=buffer, width=80, force_terminal=False))
    out = buffer.getvalue()
    for expected in (
        "LIKELY MACHINE-WRITTEN",
        "0.995",
        "1 in 100",
        "Marilyn",
        "duplicated_headline",
        "[with brackets]",
        "[1.00]",
        "top 10: 50%",
        "Original story",
        "contradicted",
        "the source says the opposite",
    ):
        assert expected in out, expected
    assert "\x1b[" not in out
    assert rank_buckets(report.tokens) == [
        ("top 10", 1),
        ("top 100", 0),
        ("top 1000", 1),
        ("rest", 0),
    ]


# -- the installed console script ----------------------------------------------------------------


def _assert_one_line_error(proc: subprocess.CompletedProcess, exit_code: int, *fragments: str):
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == exit_code, (proc.returncode, stderr)
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("unspun: error:")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert proc.stdout == b""
    return lines[0]


@needs_reader
@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", EmptyInput),
        (b"  \n\t\n   \n", EmptyInput),
        (bytes(range(256)) * 40, BinaryInput),
    ],
    ids=["empty", "whitespace", "binary"],
)
def test_check_bad_content(tmp_path: Path, content: bytes, error: type) -> None:
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    _assert_one_line_error(run_unspun("check", str(path)), error.exit_code)


@needs_reader
def test_check_undecodable_bytes_never_trace(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    encoded = ARTICLE.encode("utf-8")
    path.write_bytes(encoded[:200] + b"caf\xe9 \xff\xfe" + encoded[200:] + b"\xc3")
    proc = run_unspun("check", str(path), "--detector", "no-such-detector")
    # The bytes are read (decoded leniently or refused) before the detector is looked up, so the
    # answer is one clean line either way.
    line = _assert_one_line_error(proc, proc.returncode)
    assert proc.returncode in {e.exit_code for e in (ConfigError, BinaryInput, MalformedInput)}
    assert line


@needs_reader
def test_check_missing_path_directory_and_oversized(tmp_path: Path) -> None:
    _assert_one_line_error(run_unspun("check", str(tmp_path / "nope.txt")), InputNotFound.exit_code)
    _assert_one_line_error(run_unspun("check", str(tmp_path)), InputNotFound.exit_code)
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(100_000_000)  # sparse: 100 MB on paper, nothing on disk
    _assert_one_line_error(run_unspun("check", str(huge)), InputTooLarge.exit_code)
    small = tmp_path / "small.txt"
    small.write_text(ARTICLE, encoding="utf-8")
    _assert_one_line_error(
        run_unspun("check", str(small), "--max-bytes", "100"), InputTooLarge.exit_code
    )
    _assert_one_line_error(
        run_unspun("check", "-", "--max-bytes", "100", stdin=ARTICLE.encode()),
        InputTooLarge.exit_code,
    )


@needs_reader
def test_check_unknown_detector_is_a_config_error(article_file: Path) -> None:
    _assert_one_line_error(
        run_unspun("check", str(article_file), "--detector", "no-such-detector"),
        ConfigError.exit_code,
        "no-such-detector",
    )


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    _assert_one_line_error(run_unspun("check", "x", "--bogus"), 2, "--bogus")
    _assert_one_line_error(run_unspun("check", "x", "--target-fpr", "2"), 2, "--target-fpr")
    _assert_one_line_error(run_unspun("eval", "x", "--format", "xml"), 2, "--format")


@pytest.mark.parametrize("command", ["eval", "train"])
def test_eval_and_train_bad_jsonl(tmp_path: Path, command: str) -> None:
    extra = ["--out", str(tmp_path / "out")] if command == "train" else []
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine", "label": "human"}\n\n{"text": "cut off\n', encoding="utf-8")
    _assert_one_line_error(
        run_unspun(command, str(bad), *extra), MalformedInput.exit_code, f"{bad}:3"
    )
    label = tmp_path / "label.jsonl"
    label.write_text('{"text": "fine", "label": "robot"}\n', encoding="utf-8")
    _assert_one_line_error(
        run_unspun(command, str(label), *extra), MalformedInput.exit_code, f"{label}:1", "label"
    )
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n \n", encoding="utf-8")
    _assert_one_line_error(run_unspun(command, str(empty), *extra), EmptyInput.exit_code)
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00\x01" * 100)
    _assert_one_line_error(run_unspun(command, str(binary), *extra), MalformedInput.exit_code)
    _assert_one_line_error(
        run_unspun(command, str(tmp_path / "nope.jsonl"), *extra), InputNotFound.exit_code
    )
    _assert_one_line_error(run_unspun(command, str(tmp_path), *extra), InputNotFound.exit_code)


def test_exit_codes_are_distinct() -> None:
    codes = [
        e.exit_code
        for e in (
            InputNotFound,
            EmptyInput,
            BinaryInput,
            InputTooLarge,
            MalformedInput,
            ConfigError,
        )
    ]
    assert len(set(codes)) == len(codes)
    assert not {0, 1, 2} & set(codes)


# -- the real shipped detector -------------------------------------------------------------------


@needs_reader
@pytest.mark.slow
def test_default_detector_on_the_seed_article(seed_article_path: Path) -> None:
    if not _has_default_detector():
        pytest.skip("the shipped default detector is not built yet")
    proc = run_unspun("check", str(seed_article_path), "--format", "json")
    assert proc.returncode == 0, proc.stderr.decode()
    assert "Traceback" not in proc.stderr.decode()
    data = json.loads(proc.stdout)
    assert_contract(data)
    assert data["detector"]["name"] in {"default", "supervised"}
    assert data["human_percentile"] is not None


@needs_reader
@pytest.mark.slow
def test_default_detector_on_the_project_example() -> None:
    example = REPO / "examples" / "spun-article.txt"
    if not example.is_file():
        pytest.skip("examples/spun-article.txt is not written yet")
    if not _has_default_detector():
        pytest.skip("the shipped default detector is not built yet")
    proc = run_unspun("check", str(example))
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    assert "Human percentile" in out
    assert "Traceback" not in proc.stderr.decode()


# -- train a real (tiny) supervised detector, then use its directory as --detector --------------


def _tiny_training_set(path: Path, pairs: int = 16) -> Path:
    import random

    rng = random.Random(7)
    plain = "the cat sat on a mat and then it ran off to see the dog who was happy".split()  # noqa: SIM905
    fancy = (  # noqa: SIM905
        "extraordinary institutional deliberations continued throughout comprehensive "
        "multinational negotiations regarding sustainable infrastructure"
    ).split()
    rows = []
    for i in range(pairs):
        rows.append(
            {
                "text": " ".join(rng.choice(plain) for _ in range(40)) + ".",
                "label": "human",
                "domain": "news",
                "pair_id": f"p{i}",
            }
        )
        rows.append(
            {
                "text": " ".join(rng.choice(fancy) for _ in range(40)) + ".",
                "label": "machine",
                "domain": "news",
                "generator": "gen-a",
                "pair_id": f"p{i}",
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@needs_reader
@pytest.mark.slow
def test_train_then_check_and_eval_with_the_trained_directory(tmp_path: Path) -> None:
    data = _tiny_training_set(tmp_path / "train.jsonl")
    out = tmp_path / "detector"
    trained = runner.invoke(
        app, ["train", str(data), "--out", str(out), "--no-adapt", "-f", "json"]
    )
    assert trained.exit_code == 0, trained.output
    summary = json.loads(trained.stdout)
    assert summary["n_train"] + summary["n_heldout"] == 32
    assert not summary["adapted"] and not (out / "adapter").exists()
    assert summary["edited_copies"] is True  # the head also trained on edited copies
    config = json.loads((out / "detector.json").read_text(encoding="utf-8"))
    assert config["edited_copies"]["weight"] == 0.25
    assert (out / "detector.json").is_file()
    # 16 human references cannot show 1 %: the summary says so and what to do instead.
    assert summary["calibration_human_texts"] == 16 and summary["threshold_logit"] is None
    assert summary["lowest_target_fpr"] == 0.0625
    assert "use this detector with --target-fpr 0.0625 or more" in summary["warning"]

    # The trained directory is a detector for every command; 16 human references -> 10 % FPR.
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    proc = run_unspun(
        "check", str(article), "--detector", str(out), "--target-fpr", "0.1", "-f", "json"
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert "Traceback" not in proc.stderr.decode()
    report = json.loads(proc.stdout)
    assert_contract(report)
    assert report["threshold"] is not None

    evaluated = runner.invoke(
        app, ["eval", str(data), "--detector", str(out), "--target-fpr", "0.1", "-f", "json"]
    )
    assert evaluated.exit_code == 0, evaluated.output
    result = json.loads(evaluated.stdout)
    assert result["n"] == 32
    assert result["auroc"] > 0.9  # seen in training: a sanity check, not a quality figure
    assert result["f1_threshold_source"] == "calibrated"


def test_model_options_decorator_passes_the_given_options_through() -> None:
    import inspect

    import typer

    from unspun.cli.options import ModelOptions, model_options

    seen: list[tuple[object, ...]] = []
    demo = typer.Typer()

    @demo.command("run")
    @model_options()
    def run(name: str, loud: bool = False, *, models: ModelOptions) -> None:
        seen.append((name, loud, models))

    @demo.command("own-batch")
    @model_options(batch_size=False)
    def own_batch(batch_size: int = 16, *, models: ModelOptions) -> None:
        seen.append((batch_size, models))

    args = ["run", "x", "--loud", "--observer", "o", "--device", "cpu", "--batch-size", "3"]
    result = runner.invoke(demo, args)
    assert result.exit_code == 0, result.output
    assert seen.pop() == ("x", True, ModelOptions(observer="o", device="cpu", batch_size=3))
    given = ModelOptions(observer="o", device="cpu", batch_size=3)
    assert given.detector_options() == {"observer": "o", "device": "cpu", "batch_size": 3}
    assert given.detector_options(batch_size=False) == {"observer": "o", "device": "cpu"}
    # The options keep their own validation, and --help lists all seven.
    assert runner.invoke(demo, ["run", "x", "--batch-size", "0"]).exit_code == 2
    shown = runner.invoke(demo, ["run", "--help"]).output
    for flag in ("--observer", "--performer", "--scoring-model", "--sampling-model", "--model"):
        assert flag in shown

    # A command with its own --batch-size gets the other six; nothing is passed on for it.
    result = runner.invoke(demo, ["own-batch", "--batch-size", "5", "--model", "m"])
    assert result.exit_code == 0, result.output
    assert seen.pop() == (5, ModelOptions(model="m"))

    # Called from Python it binds like any function; a command without `models` is refused.
    run("y", observer="p")
    assert seen.pop() == ("y", False, ModelOptions(observer="p"))
    with pytest.raises(TypeError, match="models"):
        model_options()(lambda name: None)

    # Every real command taking them lists the options last, in the usual order.
    names = ["observer", "performer", "scoring_model", "sampling_model", "model", "device"]
    commands = {command.name: command.callback for command in app.registered_commands}
    for name in ("check", "eval", "train", "serve", "calibrate", "train-ensemble"):
        assert list(inspect.signature(commands[name]).parameters)[-7:] == [*names, "batch_size"]
    assert list(inspect.signature(commands["scan"]).parameters)[-6:] == names


# -- detector plugins (UNSPUN_PLUGINS) in every front end, not only in scans ------------------


def test_plugin_detectors_work_in_check_and_are_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNSPUN_PLUGINS", "batch_detectors")
    monkeypatch.setenv("PYTHONPATH", str(REPO / "tests"))
    listed = run_unspun("detectors")
    assert listed.returncode == 0, listed.stderr.decode()
    assert "test-mean-word-length" in listed.stdout.decode()
    example = REPO / "examples" / "spun-article.txt"
    proc = run_unspun(
        "check", str(example), "--detector", "test-mean-word-length", "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr.decode()
    data = json.loads(proc.stdout)
    assert_contract(data)
    assert data["detector"]["name"] == "test-mean-word-length"


def test_plugin_that_cannot_be_imported_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNSPUN_PLUGINS", "batch_detectors, no_such_plugin_module")
    monkeypatch.setenv("PYTHONPATH", str(REPO / "tests"))
    proc = run_unspun("check", str(REPO / "examples" / "spun-article.txt"))
    err = proc.stderr.decode()
    assert proc.returncode == 9
    assert err.count("\n") == 1 and "no_such_plugin_module" in err and "Traceback" not in err


def test_calibrate_replaces_the_shipped_calibration_for_check(tmp_path: Path, monkeypatch) -> None:
    # The detector ships a calibration ("test reference"); the user's own human text wins.
    monkeypatch.setenv("UNSPUN_HOME", str(tmp_path / "home"))
    humans = tmp_path / "newsroom.jsonl"
    words = "council budget parks approved residents library transport".split()  # noqa: SIM905
    humans.write_text(
        "".join(
            json.dumps({"text": " ".join(words[: 2 + i % 6]) + f" item {i}."}) + "\n"
            for i in range(40)
        ),
        encoding="utf-8",
    )
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    check = ["check", str(article), "-d", TEST_DETECTOR, "--target-fpr", "0.05", "-f", "json"]
    before = json.loads(runner.invoke(app, check).stdout)
    assert before["calibration"]["reference"] == "test reference"
    calibrated = runner.invoke(
        app, ["calibrate", str(humans), "-d", TEST_DETECTOR, "--target-fpr", "0.05"]
    )
    assert calibrated.exit_code == 0, calibrated.output
    after = json.loads(runner.invoke(app, check).stdout)
    assert after["calibration"]["reference"] == "40 human texts from newsroom.jsonl"
    assert after["calibration"]["human_texts"] == 40
    assert after["threshold"] != before["threshold"]


def test_version_prints_the_installed_version():
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"unspun {version('unspun')}"

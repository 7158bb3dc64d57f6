"""The examples in README.md and docs/ are run, and their output compared with what the text shows,
so the documentation cannot drift from the code.

How an example is marked: an HTML comment right above a fenced block,

    <!-- docs-test: MODE -->
    ```console
    $ unspun check examples/spun-article.txt --detector encoder --format json
    {...}
    ```

MODE is one of
  exact   every output line must match; a line that is only ``...`` stands for any number of
          lines, ``...`` inside a line for any text; a trailing ``# exit N`` gives the exit code
          (0 when absent). stdout and stderr are compared together.
  report  a text report of `unspun check`: only its stable parts are compared (assessment label,
          detector verdict label, signal ids, title/subtitle/author/words, exit code), so the
          example may show another detector's output than the encoder the tests run; the
          verdict is compared only when the example shows the detector that ran (its
          "Detector" line names it).
  json    the output is JSON; what the text shows must be contained in what the code prints:
          objects may leave keys out, lists may leave items out (in order), a string ending in
          ``…`` is a prefix, a number matches to the digits shown.
  api     ``$ curl`` commands against `unspun serve --detector encoder --index …` of the example
          corpus, sent through the real ASGI app; each answer is compared as in ``json``.
  python  a ```python block is run; a ``# -> TEXT`` comment after a print gives its output line.
  skip: REASON   not run (needs data outside the repository, a large model, ...).

Every ```console block must carry a marker: a new example is either tested or says why not.
Commands run in a scratch folder holding a link to examples/ and the small files the error
examples name; blocks run in document order (an `index add` example builds the index that later
trace examples of the same page use). The front ends run the fast encoder detector
(UNSPUN_DETECTOR=encoder, tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import math
import os
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOC_FILES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
MARKER = re.compile(r"<!--\s*docs-test:\s*(.+?)\s*-->")
EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")


@dataclass
class Example:
    path: Path
    line: int
    mode: str
    language: str
    body: str

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def _examples() -> list[Example]:
    found = []
    for path in DOC_FILES:
        if not path.is_file():
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            fence = re.match(r"^(`{3,})(\w*)\s*$", lines[i])
            if not fence:
                i += 1
                continue
            end = next(
                (j for j in range(i + 1, len(lines)) if lines[j].rstrip() == fence.group(1)),
                len(lines),
            )
            previous = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            marker = MARKER.search(previous)
            language = fence.group(2)
            if marker or language == "console":
                found.append(
                    Example(
                        path,
                        i + 1,
                        marker.group(1) if marker else "",
                        language,
                        "\n".join(lines[i + 1 : end]),
                    )
                )
            i = end + 1
    return found


EXAMPLES = _examples()


def test_every_console_example_is_marked():
    unmarked = [example.name for example in EXAMPLES if not example.mode]
    assert not unmarked, (
        "console examples without a '<!-- docs-test: MODE -->' line above them "
        f"(see tests/test_docs_examples.py): {unmarked}"
    )


def test_the_examples_are_found():
    modes = {example.mode.split(":")[0] for example in EXAMPLES}
    assert {"exact", "report", "json", "api", "python"} <= modes, modes
    readme = [e for e in EXAMPLES if e.path.name == "README.md" and not e.mode.startswith("skip")]
    assert len(readme) >= 2, "the README's check run and Python example are tested"


# ---------------------------------------------------------------- comparing


def _commands(body: str) -> list[tuple[str, list[str]]]:
    """``$ command`` lines (with ``\\`` continuations) and the output lines under each."""
    commands: list[tuple[str, list[str]]] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("$ "):
            command = lines[i][2:]
            # A command goes on after a trailing backslash and inside an open quote.
            while i + 1 < len(lines) and (command.endswith("\\") or not _complete(command)):
                i += 1
                command = command.removesuffix("\\") + " " + lines[i].strip()
            commands.append((command.strip(), []))
        elif commands:
            commands[-1][1].append(lines[i])
        i += 1
    return commands


def _complete(command: str) -> bool:
    try:
        shlex.split(command)
    except ValueError:  # no closing quotation
        return False
    return True


def _split_exit(shown: list[str]) -> tuple[list[str], int]:
    code = 0
    out = []
    for line in shown:
        match = EXIT.search(line)
        if match:
            code = int(match.group(1))
            line = line[: match.start()]
        elif line.strip().startswith("# exit "):
            code = int(line.strip().split()[-1])
            continue
        out.append(line)
    return out, code


def _lines_match(shown: list[str], actual: str) -> bool:
    pattern = ""
    for line in shown:
        if line.strip() in ("...", "…"):
            pattern += r"(?:[^\n]*\n)*?"
        else:
            pattern += ".*?".join(re.escape(part) for part in line.rstrip().split("...")) + r"\n"
    text = "\n".join(line.rstrip() for line in actual.strip("\n").splitlines()) + "\n"
    return re.fullmatch(pattern, text) is not None


def _strip_blank(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


LABEL = re.compile(r"^\s*([A-Z][A-Z' -]*[A-Z])(?:\s{2,}|$)")


def _report_facts(text: str) -> dict:
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    facts: dict = {"label": None, "verdict": None, "detector": None, "signals": [], "header": {}}
    if lines and (match := LABEL.match(lines[0])):
        facts["label"] = match.group(1)
    for line in lines:
        if match := re.match(r"^Detector verdict\s+([A-Z][A-Z' -]*[A-Z])(?:\s{2,}|$)", line):
            facts["verdict"] = match.group(1)
        elif match := re.match(r"^Detector\s{2,}(\S+)", line):
            facts["detector"] = match.group(1)
        elif match := re.match(r"^ • ([a-z_]+): ", line):
            facts["signals"].append(match.group(1))
        elif match := re.match(r"^(Title|Subtitle|Author|Words)\s{2,}(.+)$", line):
            facts["header"][match.group(1)] = match.group(2)
    return facts


def _comparable(actual: dict, shown: dict) -> bool:
    """The report facts agree; the verdict counts only when both name the same detector (an
    example may show the default detector's report, which can flag what the encoder does not)."""
    if actual["detector"] != shown["detector"]:
        actual = {**actual, "verdict": None}
        shown = {**shown, "verdict": None}
    return {**actual, "detector": None} == {**shown, "detector": None}


def _number_matches(shown: float, actual: float) -> bool:
    text = repr(shown)
    decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 6
    return math.isclose(actual, shown, abs_tol=max(0.5 * 10**-decimals, 1e-3))


def _contains(shown, actual, where: str = "$") -> None:
    """What the text shows must be found in what the code gives (see the module docstring)."""
    if shown == "…":
        return
    if isinstance(shown, dict):
        assert isinstance(actual, dict), (
            f"{where}: the text shows an object, the code gives {actual!r}"
        )
        for key, value in shown.items():
            assert key in actual, f"{where}: the code gives no {key!r} (keys: {sorted(actual)})"
            _contains(value, actual[key], f"{where}.{key}")
    elif isinstance(shown, list):
        assert isinstance(actual, list), (
            f"{where}: the text shows a list, the code gives {actual!r}"
        )
        position = 0
        for index, item in enumerate(x for x in shown if x != "…"):
            while position < len(actual):
                try:
                    _contains(item, actual[position], f"{where}[{position}]")
                    break
                except AssertionError:
                    position += 1
            else:
                raise AssertionError(
                    f"{where}: item {index} the text shows, {item!r}, is not in what the code "
                    f"gives (in order): {actual!r}"
                )
            position += 1
    elif isinstance(shown, str) and shown.endswith("…"):
        assert isinstance(actual, str) and actual.startswith(shown[:-1]), (
            f"{where}: {actual!r} does not start with {shown[:-1]!r}"
        )
    elif isinstance(shown, float) and not isinstance(actual, bool):
        assert isinstance(actual, int | float) and _number_matches(shown, actual), (
            f"{where}: the text shows {shown}, the code gives {actual}"
        )
    else:
        assert shown == actual, f"{where}: the text shows {shown!r}, the code gives {actual!r}"


# ---------------------------------------------------------------- running


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A scratch folder with examples/ and the files the error examples use."""
    folder = tmp_path_factory.mktemp("docs-examples")
    (folder / "examples").symlink_to(REPO / "examples", target_is_directory=True)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_text("  \n\n \t\n", encoding="utf-8")
    (folder / "program.bin").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x02\x00>\x00")
    with open(folder / "huge.txt", "wb") as huge:  # sparse: 100 MB on paper, nothing on disk
        huge.truncate(100 * 1024 * 1024)
    (folder / "labels.jsonl").write_text(
        '{"text": "a b c", "label": "human"}\n{"text": "d e f", "label": "robot"}\n',
        encoding="utf-8",
    )
    (folder / "broken.jsonl").write_text('{"text": "a", "label": "human"}\nnot json\n')
    (folder / "article.txt").write_text(
        (REPO / "examples" / "spun-article.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return folder


def run_unspun(command: str, workdir: Path, monkeypatch) -> tuple[str, int]:
    """Runs ``unspun ARGS`` in this process through the console entry point (model loading and
    imports are shared with the other examples); returns stdout + stderr and the exit code."""
    from unspun.cli import main
    from unspun.models import hub

    words = shlex.split(command)
    assert words[0] == "unspun", f"only unspun commands are run: {command}"
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("COLUMNS", "80")
    # A user's process has none of the test detectors other test modules register at run time.
    from unspun.detect import registry

    monkeypatch.setattr(registry, "_registered", {})
    monkeypatch.delenv(registry.PLUGINS_ENV, raising=False)
    monkeypatch.setattr(sys, "argv", words)
    # click names the program after __main__'s package under `python -m pytest`: not here.
    monkeypatch.setattr(sys.modules["__main__"], "__package__", None, raising=False)
    out, err = io.StringIO(), io.StringIO()
    code = 0
    was_offline = hub.offline()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            # `unspun --offline` turns the whole process offline: later tests must not inherit it.
            if hub.offline() != was_offline:
                hub.set_offline(was_offline)
    return out.getvalue() + err.getvalue(), code


@pytest.fixture(scope="module")
def api_app(tmp_path_factory):
    """`unspun serve --detector encoder --index IDX`, IDX holding the example corpus."""
    try:
        from unspun.api import create_app  # type: ignore[attr-defined]
    except ImportError:
        from unspun.api.app import create_app
    from unspun.pipeline import CheckConfig, Checker
    from unspun.provenance import SourceIndex
    from unspun.provenance.records import read_sources

    location = str(tmp_path_factory.mktemp("docs-index") / "idx")
    index = SourceIndex(location, create=True)
    index.add(read_sources(REPO / "examples" / "reference-corpus.jsonl"))
    index.close()
    return create_app(Checker(CheckConfig(detector="encoder", index=location)))


def _curl_request(command: str, workdir: Path) -> tuple[str, str, dict | None]:
    """Method, path and JSON body of a documented curl command (the jq filter after a pipe
    only projects the answer, which the subset comparison does by itself)."""
    url = re.search(r"localhost:\d+(/\S*)", command)
    assert url, f"no localhost URL in {command}"
    path = url.group(1).strip("'\"")
    if match := re.search(
        r"-d\s+\"\$\(jq -Rs '\{text: \.((?:, *\w+: *[^,}]+)*)\}' (\S+)\)\"", command
    ):
        body: dict = {"text": (workdir / match.group(2)).read_text(encoding="utf-8")}
        for key, value in re.findall(r", *(\w+): *([^,}]+)", match.group(1)):
            body[key] = json.loads(value)
        return "POST", path, body
    if match := re.search(r"-d\s+'([^']*)'", command):
        return "POST", path, json.loads(match.group(1))
    return "GET", path, None


def _ask(app, method: str, path: str, body: dict | None):
    import httpx

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://unspun.test") as client:
            return await client.request(method, path, json=body, timeout=300)

    return asyncio.run(go())


def _parse_shown_json(lines: list[str], where: str):
    text = "\n".join(lines).strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"{where}: the example's output is not JSON ({exc})") from None


@pytest.mark.parametrize(
    "example",
    [e for e in EXAMPLES if e.mode and not e.mode.startswith("skip")],
    ids=lambda e: e.name,
)
def test_example_matches_the_code(example: Example, workdir, monkeypatch, request):
    mode = example.mode
    if mode == "python":
        _run_python(example, workdir, monkeypatch)
        return
    commands = _commands(example.body)
    assert commands, f"{example.name}: no '$ ' command in a {mode} example"
    for command, shown in commands:
        where = f"{example.name} `{command[:60]}`"
        if mode == "api":
            app = request.getfixturevalue("api_app")
            method, path, body = _curl_request(command, workdir)
            answer = _ask(app, method, path, body)
            _contains(_parse_shown_json(shown, where), answer.json(), "$")
            continue
        shown, expected_code = _split_exit(shown)
        shown = _strip_blank(shown)
        output, code = run_unspun(command, workdir, monkeypatch)
        assert code == expected_code, (
            f"{where}: exit code {code}, the text says {expected_code}\n{output}"
        )
        if mode == "exact":
            assert _lines_match(shown, output), (
                f"{where}: the output differs from the text.\n--- text\n"
                + "\n".join(shown)
                + f"\n--- code\n{output}"
            )
        elif mode == "report":
            assert _comparable(_report_facts(output), _report_facts("\n".join(shown))), (
                f"{where}: the report's stable parts differ.\n--- code\n{output}"
            )
            assert _report_facts(output)["label"], f"{where}: no assessment label found"
        elif mode == "json":
            _contains(_parse_shown_json(shown, where), json.loads(output))
        else:
            pytest.fail(f"{example.name}: unknown docs-test mode {mode!r}")


def _run_python(example: Example, workdir: Path, monkeypatch) -> None:
    monkeypatch.chdir(workdir)
    # A detector an example registers is gone after it (a copy of the table is restored).
    from unspun.detect import registry

    monkeypatch.setattr(registry, "_registered", dict(registry._registered))
    expected = [
        match.group(1).strip()
        for line in example.body.splitlines()
        if (match := re.search(r"#\s*->\s*(.*)$", line))
    ]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example.body, example.name, "exec"), {"__name__": "__docs__"})  # noqa: S102
    printed = out.getvalue().splitlines()
    assert len(printed) >= len(expected), f"{example.name}: printed {printed}"
    for want, got in zip(expected, printed, strict=False):
        assert _lines_match([want], got), f"{example.name}: printed {got!r}, the text says {want!r}"


def test_examples_leave_the_process_online(workdir, monkeypatch):
    from unspun.models import hub

    if hub.offline():
        pytest.skip("this process runs offline anyway")
    output, code = run_unspun("unspun --offline check missing.txt", workdir, monkeypatch)
    assert code == 3, output
    assert not hub.offline()


def test_the_comparison_can_fail():
    """The matchers reject what differs (the /v1/trace scores the old README showed)."""
    with pytest.raises(AssertionError):
        _contains({"sources": [{"score": 0.8688}]}, {"sources": [{"score": 1.0}]})
    with pytest.raises(AssertionError):
        _contains({"sources": [{"id": "a"}, {"id": "b"}]}, {"sources": [{"id": "b"}, {"id": "a"}]})
    _contains({"a": [1, "…"], "b": "abc…"}, {"a": [1, 2, 3], "b": "abcdef", "c": None})
    assert _lines_match(["added ... in ... s", "..."], "added 8 in 2.3 s\nmore\nlines")
    assert not _lines_match(["unspun: error: x is empty"], "unspun: error: y is empty")
    shown = _report_facts(" LIKELY SPUN   Likely spun\n • body_cut_off: stops")
    assert shown == {
        "label": "LIKELY SPUN",
        "verdict": None,
        "detector": None,
        "signals": ["body_cut_off"],
        "header": {},
    }
    assert shown != _report_facts(" POSSIBLY SPUN   x\n • body_cut_off: stops")
    flagged = _report_facts(" X   x\nDetector verdict  LIKELY MACHINE-WRITTEN   y\nDetector   a v1")
    passed = _report_facts(" X   x\nDetector verdict  NOT FLAGGED   y\nDetector   a v1")
    assert flagged["detector"] == "a" and not _comparable(passed, flagged)
    assert _comparable({**passed, "detector": "b"}, flagged)
    assert os.environ.get("UNSPUN_DETECTOR") == "encoder"


def test_readme_stays_short():
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move detail to docs/"


def test_reference_pages_are_generated_from_the_code():
    """The build hook's CLI reference names every command and its options; the schema page every
    field of the report."""
    import importlib.util

    import typer

    from unspun.cli import app
    from unspun.report import Report

    spec = importlib.util.spec_from_file_location("gen_reference", REPO / "docs/gen_reference.py")
    gen_reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_reference)

    cli_page = gen_reference.cli_reference()
    for name in typer.main.get_command(app).commands:
        assert f"## `unspun {name}`" in cli_page, name
    assert "--target-fpr" in cli_page and "--detector" in cli_page
    assert "\x1b[" not in cli_page, "no terminal colour codes in the page"

    schema_page = gen_reference.report_schema()
    for field in Report.model_json_schema(by_alias=True)["properties"]:
        assert f"| `{field}` |" in schema_page, field

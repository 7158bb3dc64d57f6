"""The public Python API: what ``unspun`` exports, that importing it stays light, and that every
example in docs/python.md runs as written (so the page cannot drift from the code)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import unspun

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "docs" / "python.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```$", PAGE.read_text(encoding="utf-8"), re.M | re.S)


def test_the_public_names_are_exported():
    assert {"Checker", "CheckConfig", "check", "Report", "read_article", "parse_record"} <= set(
        unspun.__all__
    )
    assert set(unspun.__all__) == {*unspun._EXPORTS, "__version__"}
    from unspun.pipeline import Checker, check
    from unspun.report import Report

    assert unspun.Checker is Checker and unspun.check is check and unspun.Report is Report
    for name in unspun.__all__:
        assert getattr(unspun, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        unspun.nothing  # noqa: B018


def test_importing_unspun_loads_no_model_code():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, unspun, unspun.cli; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "unspun.pipeline" not in loaded and "numpy" not in loaded and "torch" not in loaded


def test_the_page_has_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_docs_example_runs(number, monkeypatch, capsys):
    monkeypatch.chdir(REPO)  # the page's examples run from the repository root
    exec(compile(BLOCKS[number], f"docs/python.md example {number + 1}", "exec"), {})
    assert capsys.readouterr().out.strip(), "each example shows its result"

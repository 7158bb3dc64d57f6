"""Every command's help: flags show no value type (``--no-tokens``, not ``--no-tokens <bool>``)."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from unspun.cli import app

COMMAND = typer.main.get_command(app)
NAMES = sorted(COMMAND.commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["", *NAMES])
def test_help_shows_no_type_for_flags(name: str) -> None:
    result = CliRunner().invoke(app, [*([name] if name else []), "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    assert "--help" in result.output
    assert "<bool>" not in result.output


def test_options_that_take_values_keep_their_type() -> None:
    result = CliRunner().invoke(app, ["check", "--help"], terminal_width=120)
    assert "<text|json>" in result.output and "<float>" in result.output

"""The ``unspun`` command: thin Typer front end over the library; heavy imports stay in commands."""

from __future__ import annotations

import os
import sys

import typer

from unspun.cli.help import hide_flag_types
from unspun.errors import UnspunError

hide_flag_types()

app = typer.Typer(
    name="unspun",
    help="Check news articles for machine writing, trace them to their sources, "
    "flag made-up claims.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"unspun {version('unspun')}")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            typer.echo("unspun (not installed)")
        raise typer.Exit()


@app.callback()
def _global_options(
    offline: bool = typer.Option(
        False, "--offline", help="Never contact a model hub (same as UNSPUN_OFFLINE=1)."
    ),
    show_version: bool = typer.Option(
        False,
        "--version",
        help="Print unspun's version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    if offline:
        from unspun.models.hub import set_offline

        set_offline(True)


# One module per command, named after it; each imports its heavy dependencies inside the command,
# so importing them all here keeps `unspun --help` fast. The order is the order of `unspun --help`.
from unspun.cli import (  # noqa: E402 - the commands need `app` defined above
    calibrate,
    check,
    detectors,
    evaluate,
    index,
    scan,
    serve,
    sites,
    synth,
    trace,
    train,
    train_ensemble,
)

app.command("check", no_args_is_help=True)(check.check)
app.command("train", no_args_is_help=True)(train.train)
app.command("eval", no_args_is_help=True)(evaluate.evaluate_command)
app.command("detectors")(detectors.detectors)
app.command("calibrate", no_args_is_help=True)(calibrate.calibrate)
app.command("synth", no_args_is_help=True)(synth.synth)
app.command("train-ensemble", no_args_is_help=True)(train_ensemble.train_ensemble)
app.add_typer(index.index_app, name="index")
app.command("trace")(trace.trace)
app.command("serve")(serve.serve)
app.command("scan", no_args_is_help=True)(scan.scan)
app.command("sites", no_args_is_help=True)(sites.sites)


def fail(message: str, exit_code: int) -> None:
    from rich.console import Console

    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[bold red]unspun: error:[/] {message}", markup=True
    )
    raise SystemExit(exit_code)


def main() -> None:
    """Console entry point: every UnspunError becomes one line on stderr and its exit code."""
    if os.environ.get("UNSPUN_OFFLINE"):
        from unspun.models.hub import set_offline

        set_offline(os.environ["UNSPUN_OFFLINE"].strip().lower() in {"1", "true", "yes", "on"})
    try:
        app(standalone_mode=False)
    except UnspunError as exc:
        fail(_one_line(str(exc)), exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        import click

        # Typer >= 0.20 vendors click (typer._click): its exceptions are not click's own classes.
        if isinstance(exc, click.exceptions.Abort | typer.Abort):
            fail("aborted", 130)
        if isinstance(exc, click.ClickException | typer.TyperException) and hasattr(
            exc, "format_message"
        ):
            if type(exc).__name__ == "NoArgsIsHelpError":  # the help is the whole answer
                exc.show()
                raise SystemExit(getattr(exc, "exit_code", 2)) from None
            fail(_usage_error(exc), getattr(exc, "exit_code", 2))
        if os.environ.get("UNSPUN_DEBUG"):
            raise
        fail(
            f"internal error ({type(exc).__name__}: {_one_line(str(exc))}); "
            "rerun with UNSPUN_DEBUG=1 to see the traceback and please report it",
            70,
        )


def _usage_error(exc: Exception) -> str:
    """A usage error in one line, with the command's help to turn to."""
    context = getattr(exc, "ctx", None)
    command = context.command_path if context is not None else "unspun"
    return f"{_one_line(exc.format_message())} (see {command} --help)"


def _one_line(message: str) -> str:
    return " ".join(message.split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``unspun check PATH|-``: read one article, run the pipeline, print the report or its JSON."""

from __future__ import annotations

import re
import sys
from enum import StrEnum
from typing import Annotated

import typer

from unspun.cli.options import (
    DEFAULT_MAX_BYTES,
    DetectorName,
    Format,
    MaxBytes,
    ModelOptions,
    OutputFormat,
    TargetFpr,
    busy,
    model_options,
    quiet_model_loading,
    stdout_console,
)

# A scheme (http://, https://, ftp://...): fetched, or refused with a one-line reason.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class ArticleKind(StrEnum):
    auto = "auto"
    text = "text"
    html = "html"
    json = "json"


@model_options()
def check(
    path: Annotated[
        str,
        typer.Argument(
            metavar="PATH|URL|-",
            help="Article file (text, HTML or JSON), - for stdin, or an http(s) URL to fetch.",
        ),
    ],
    detector: DetectorName = "default",
    target_fpr: TargetFpr = 0.01,
    output_format: Format = OutputFormat.text,
    kind: Annotated[
        ArticleKind,
        typer.Option(
            "--kind",
            help="How to read the input (auto: guess from its content).",
            case_sensitive=False,
        ),
    ] = ArticleKind.auto,
    index: Annotated[
        str | None,
        typer.Option(
            "--index",
            metavar="LOCATION",
            help="Source index (a directory made by `unspun index add`, or a postgresql:// URL)"
            " to trace the article's sources "
            "and check its claims against.",
        ),
    ] = None,
    top: Annotated[
        int,
        typer.Option("--top", metavar="K", min=1, help="Candidate sources to show with --index."),
    ] = 5,
    no_tokens: Annotated[
        bool,
        typer.Option("--no-tokens", help="Leave per-token evidence out of the report."),
    ] = False,
    no_body: Annotated[
        bool,
        typer.Option("--no-body", help="Text report without the highlighted article body."),
    ] = False,
    max_bytes: MaxBytes = DEFAULT_MAX_BYTES,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            min=0.1,
            metavar="SECONDS",
            help="With a URL: seconds the whole fetch may take (redirects and body).",
        ),
    ] = 20.0,
    allow_private_urls: Annotated[
        bool,
        typer.Option(
            "--allow-private-urls",
            help="With a URL: also fetch from loopback, private and link-local addresses "
            "(refused by default).",
        ),
    ] = False,
    *,
    models: ModelOptions,
) -> None:
    """Check one article (a file, stdin or a web page) for machine writing and template
    leftovers."""
    quiet_model_loading()
    # Heavy imports live here so that `unspun --help` and bad-input errors stay instant.
    from unspun.article import read_article
    from unspun.pipeline import CheckConfig, Checker

    fetched = None
    if _URL.match(path):
        from unspun.fetch import FetchSettings, fetch_article

        settings = FetchSettings(
            timeout=timeout, max_bytes=max_bytes, allow_private=allow_private_urls
        )
        with busy(f"Fetching {path}…"):
            article, fetched = fetch_article(path, kind=kind.value, settings=settings)
    else:
        with busy("Reading the article…"):
            article = read_article(path, max_bytes=max_bytes, kind=kind.value)
    config = CheckConfig(
        detector=detector,
        detector_options=models.detector_options(),
        target_fpr=target_fpr,
        index=index,
        top_sources=top,
        tokens=not no_tokens,
    )
    with busy(f"Loading detector {detector}…"):
        checker = Checker(config)
    with busy("Checking…"):
        report = checker.check(article)
    if fetched is not None:
        from unspun.report import FetchInfo

        report.fetch = FetchInfo(**fetched.info())
    if output_format is OutputFormat.json:
        sys.stdout.write(report.to_json() + "\n")
        return

    from unspun.render import render_report

    render_report(report, stdout_console(), body=not no_body)

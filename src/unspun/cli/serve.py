"""``unspun serve``: load the detector once and answer the HTTP API and the web page."""

from __future__ import annotations

from typing import Annotated

import typer

from unspun.cli.options import (
    DetectorName,
    ModelOptions,
    TargetFpr,
    busy,
    model_options,
    quiet_model_loading,
    stderr_console,
)

SERVICE_PANEL = "Service limits"


@model_options()
def serve(
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on. The default answers only this machine; use 0.0.0.0 to "
            "serve a network (set UNSPUN_API_KEYS then).",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port.")] = 8000,
    index: Annotated[
        str | None,
        typer.Option(
            "--index",
            metavar="LOCATION",
            help="Source index (a directory made by `unspun index add`, or a postgresql:// URL)"
            " for /v1/trace and for the "
            "sources and claims in every report.",
        ),
    ] = None,
    detector: DetectorName = "default",
    target_fpr: TargetFpr = 0.01,
    max_body_bytes: Annotated[
        int,
        typer.Option(
            "--max-body-bytes",
            min=1,
            help="Larger request bodies get 413.",
            rich_help_panel=SERVICE_PANEL,
        ),
    ] = 1_000_000,
    max_batch: Annotated[
        int,
        typer.Option(
            "--max-batch",
            min=1,
            help="Articles allowed in one /v1/check/batch request.",
            rich_help_panel=SERVICE_PANEL,
        ),
    ] = 32,
    queue_size: Annotated[
        int,
        typer.Option(
            "--queue-size",
            min=1,
            help="Checking requests admitted at once (waiting or being checked); one more gets "
            "503 + Retry-After at once.",
            rich_help_panel=SERVICE_PANEL,
        ),
    ] = 64,
    queue_wait: Annotated[
        float,
        typer.Option(
            "--queue-wait",
            min=0.1,
            metavar="SECONDS",
            help="Seconds an admitted request may wait for the detector; one not started by then "
            "gets 503 + Retry-After. The default answers every request of a 50-article burst "
            "within 2 minutes on 2 cores, most of them with a report.",
            rich_help_panel=SERVICE_PANEL,
        ),
    ] = 90.0,
    request_timeout: Annotated[
        float,
        typer.Option(
            "--request-timeout",
            min=0.1,
            help="Seconds a request's checking may take once it has left the queue; then 504.",
            rich_help_panel=SERVICE_PANEL,
        ),
    ] = 30.0,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Threads running the detector (each takes a merged batch of requests).",
            rich_help_panel=SERVICE_PANEL,
        ),
    ] = 1,
    max_connections: Annotated[
        int | None,
        typer.Option(
            "--max-connections",
            min=1,
            help="Open connections beyond which uvicorn refuses new requests (plain 503).",
            rich_help_panel=SERVICE_PANEL,
        ),
    ] = 2048,
    allow_private_urls: Annotated[
        bool,
        typer.Option(
            "--allow-private-urls",
            help="Let {\"url\": ...} requests fetch from loopback, private, link-local and "
            "metadata addresses too. Refused by default: the server must not be a way into its "
            "own network.",
            rich_help_panel=SERVICE_PANEL,
        ),
    ] = False,
    url_fetches_per_minute: Annotated[
        int,
        typer.Option(
            "--url-fetches-per-minute",
            min=0,
            help="URL fetches one client address may ask for per minute (then 429); 0 turns "
            "fetching off.",
            rich_help_panel=SERVICE_PANEL,
        ),
    ] = 30,
    no_tokens: Annotated[
        bool, typer.Option("--no-tokens", help="Leave per-token evidence out of reports.")
    ] = False,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log every request.")] = False,
    *,
    models: ModelOptions,
) -> None:
    """Serve the HTTP API (/v1/check, /v1/check/batch, /v1/trace) and the checking page at /."""
    quiet_model_loading()
    from unspun.api.app import create_app
    from unspun.api.server import build_server
    from unspun.api.settings import ServiceSettings
    from unspun.pipeline import CheckConfig, Checker

    config = CheckConfig(
        detector=detector,
        detector_options=models.detector_options(),
        target_fpr=target_fpr,
        index=index,
        tokens=not no_tokens,
    )
    settings = ServiceSettings(
        max_body_bytes=max_body_bytes,
        max_batch=max_batch,
        max_pending=queue_size,
        queue_wait=queue_wait,
        request_timeout=request_timeout,
        workers=workers,
        batch_size=models.batch_size or 16,
        api_keys=ServiceSettings.keys_from_env(),
        allow_private_urls=allow_private_urls,
        url_fetches_per_minute=url_fetches_per_minute,
    )
    console = stderr_console()
    with busy(f"Loading detector {detector}…"):
        checker = Checker(config)
        seconds_per_article = _warm_up(checker)
    if host not in {"127.0.0.1", "localhost", "::1"} and not settings.api_keys:
        console.print(
            f"[yellow]warning:[/] serving on {host} without API keys; anyone who can reach this "
            "address can use it (set UNSPUN_API_KEYS).",
            soft_wrap=True,
        )
    if allow_private_urls:
        console.print(
            "[yellow]warning:[/] --allow-private-urls: clients can make this server fetch from "
            "loopback and private addresses.",
            soft_wrap=True,
        )
    shown = f"[{host}]" if ":" in host else host
    console.print(
        f"unspun: serving detector [bold]{checker.detector.name}[/] on http://{shown}:{port}/ "
        f"(API docs at /docs; {'API keys required' if settings.api_keys else 'no API key needed'})",
        soft_wrap=True,
    )
    app = create_app(checker, settings)
    # Seeds the queue's speed estimate, so a burst arriving at start-up is merged into batches
    # that fit the time limit.
    app.queue.seconds_per_article = seconds_per_article
    build_server(
        app,
        host=host,
        port=port,
        settings=settings,
        access_log=access_log,
        max_connections=max_connections,
        log_level="info" if access_log else "warning",
    ).run()


def _warm_up(checker) -> float:
    """Check two ordinary-length articles at start-up, so the first real request does not pay for
    lazy model setup; returns the seconds one article took (the queue's first speed estimate)."""
    import time

    from unspun.article.model import Article

    sentence = "The council met on Monday to discuss the budget for the coming year. "
    paragraphs = [sentence * 5] * 5  # about 300 words, like a short news article
    checker.check(Article(paragraphs=paragraphs[:1]))
    started = time.perf_counter()
    checker.check_many([Article(paragraphs=paragraphs), Article(paragraphs=paragraphs)])
    return (time.perf_counter() - started) / 2

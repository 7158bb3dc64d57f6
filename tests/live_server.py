"""A real uvicorn server of the unspun app on a free loopback port, in a thread, for tests that need
real sockets (slow clients, floods, the browser)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

from unspun.api.app import create_app
from unspun.api.server import build_server
from unspun.api.settings import ServiceSettings
from unspun.pipeline import Checker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(checker: Checker, settings: ServiceSettings | None = None) -> Iterator[int]:
    """Serve until the block ends; yields the port."""
    settings = settings or ServiceSettings()
    port = free_port()
    server = build_server(
        create_app(checker, settings), port=port, settings=settings, log_level="critical"
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)

"""``unspun serve`` as users start it: a real process on a loopback port, answering with the same
JSON as ``unspun check --format json``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "spun-article.txt"
CLI = [sys.executable, "-c", "from unspun.cli import main; main()"]


def test_serve_listens_on_loopback_unless_told_otherwise():
    from unspun.cli import app

    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "[default: 127.0.0.1]" in result.output
    assert "--queue-size" in result.output and "--max-body-bytes" in result.output
    assert "--queue-wait" in result.output


def test_serve_refuses_an_unknown_detector_in_one_line():
    result = subprocess.run(
        [*CLI, "serve", "--detector", "no-such-detector", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 9
    assert result.stderr.count("\n") == 1 and "unknown detector" in result.stderr


@pytest.mark.slow
def test_served_report_equals_the_cli_json(tmp_path):
    from unspun.detect.base import create_detector

    if not EXAMPLE.is_file():
        pytest.skip("examples/spun-article.txt is not present")
    try:
        create_detector("default")
    except Exception as exc:  # noqa: BLE001 - any reason the shipped model cannot load
        pytest.skip(f"the default detector is not available: {exc}")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "UNSPUN_API_KEYS": "test-key"}
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        # The CLI in this process (the server loads its own copy of the model meanwhile).
        from unspun.cli import app

        cli = CliRunner().invoke(app, ["check", str(EXAMPLE), "--format", "json"])
        assert cli.exit_code == 0, cli.output
        expected = json.loads(cli.stdout)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240
        with httpx.Client(base_url=base, timeout=60) as client:
            while True:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                try:
                    if client.get("/v1/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "unspun serve did not come up"
                time.sleep(0.5)
            text = EXAMPLE.read_text(encoding="utf-8")
            assert client.post("/v1/check", json={"text": text}).status_code == 401
            response = client.post(
                "/v1/check", json={"text": text}, headers={"authorization": "Bearer test-key"}
            )
        assert response.status_code == 200, response.text
        assert response.json() == expected
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

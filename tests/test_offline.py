"""Offline mode: with ``--offline`` / ``UNSPUN_OFFLINE=1`` a model that is not on disk fails fast
with a clear message and nothing connects to the hub. The "hub" is a local TCP server the test
starts (HF_ENDPOINT points at it), so any connection attempt is seen."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

MISSING = "unspun-test-org/model-that-is-not-cached"


class ListeningHub:
    """A TCP listener that counts connections (and answers none of them)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def hub() -> Iterator[ListeningHub]:
    server = ListeningHub()
    yield server
    server.close()


def run_python(
    code: str, hub: ListeningHub, tmp_path: Path, offline: bool
) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"UNSPUN_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"}
    }
    env.update(
        HF_ENDPOINT=f"http://127.0.0.1:{hub.port}",
        HF_HOME=str(tmp_path / "hf-home"),  # an empty cache: nothing is available locally
        NO_PROXY="*",
        HF_HUB_DISABLE_TELEMETRY="1",
    )
    if offline:
        env["UNSPUN_OFFLINE"] = "1"
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_listening_hub_sees_a_connection_when_online(hub, tmp_path):
    # Control: without offline mode, unspun does try the endpoint, and the test notices.
    result = run_python(
        """
        from unspun.models.hub import hub_reachable
        print(hub_reachable())
        """,
        hub,
        tmp_path,
        offline=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
    time.sleep(0.3)
    assert hub.connections >= 1


LOADERS = """
import time

# Import the heavy libraries first: the timing below is about the load attempt, not imports.
import sentence_transformers  # noqa: F401
import transformers  # noqa: F401
from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer  # noqa: F401

from unspun.errors import ModelUnavailable
from unspun.models.causal import load_causal_lm
from unspun.models.encoder import load_sentence_encoder, load_token_encoder

for name, load in [
    ("causal", lambda: load_causal_lm(MISSING, device="cpu")),
    ("sentence", lambda: load_sentence_encoder(MISSING)),
    ("token", lambda: load_token_encoder(MISSING)),
]:
    began = time.monotonic()
    try:
        load()
    except ModelUnavailable as exc:
        print(name, round(time.monotonic() - began, 3), exc)
    else:
        print(name, "LOADED")

# The packaged encoder is on disk, so offline mode still loads it.
print("packaged", load_sentence_encoder().encode(["offline works"]).shape)
"""


def test_offline_model_loads_fail_fast_without_touching_the_network(hub, tmp_path):
    result = run_python(f"MISSING = {MISSING!r}\n" + LOADERS, hub, tmp_path, offline=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4, result.stdout + result.stderr
    assert lines.pop() == "packaged (1, 384)"
    for line in lines:
        name, seconds, message = line.split(" ", 2)
        assert float(seconds) < 2.0, line
        assert message.startswith(f"offline mode: model {MISSING!r} is not cached locally"), line
    time.sleep(0.3)
    assert hub.connections == 0


def test_cli_offline_flag_gives_one_line_error_and_no_connection(hub, tmp_path):
    article = tmp_path / "article.txt"
    article.write_text(
        "Council approves new housing plan\n\n"
        + "The council voted on Tuesday to approve a plan for new homes near the station. " * 8,
        encoding="utf-8",
    )
    code = f"""
        import sys
        sys.argv = ["unspun", "--offline", "check", {str(article)!r},
                    "--detector", "fast-detectgpt", "--scoring-model", {MISSING!r},
                    "--sampling-model", {MISSING!r}]
        from unspun.cli import main
        main()
        """
    began = time.monotonic()
    result = run_python(code, hub, tmp_path, offline=False)
    elapsed = time.monotonic() - began
    assert result.returncode == 8, result.stdout + result.stderr  # ModelUnavailable.exit_code
    assert "offline mode: model" in result.stderr
    assert "Traceback" not in result.stderr
    assert elapsed < 60  # includes interpreter start and torch import
    time.sleep(0.3)
    assert hub.connections == 0


def test_set_offline_reaches_already_imported_hf_libraries():
    import huggingface_hub.constants as constants

    from unspun.models import hub as hub_module

    before = (os.environ.get("UNSPUN_OFFLINE"), constants.HF_HUB_OFFLINE)
    watched = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "RAY_USAGE_STATS_ENABLED")
    try:
        # Undo offline mode a previous test in this process may have left on, then snapshot.
        hub_module.set_offline(False)
        environment = {name: os.environ.get(name) for name in watched}
        hub_module.set_offline(True)
        assert hub_module.offline()
        assert constants.HF_HUB_OFFLINE is True
        assert os.environ["HF_HUB_OFFLINE"] == "1"
        assert os.environ["RAY_USAGE_STATS_ENABLED"] == "0"  # Ray's usage reporting is off too
        assert hub_module.hub_reachable() is False
        hub_module.set_offline(False)
        assert not hub_module.offline()
        if before[0] is None:  # what offline mode changed is put back
            assert {name: os.environ.get(name) for name in watched} == environment
    finally:
        hub_module.set_offline(False)
        if before[0] is not None:
            hub_module.set_offline(True)
        constants.HF_HUB_OFFLINE = before[1]

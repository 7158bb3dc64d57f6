"""The service under hostile conditions, against a real uvicorn on a loopback port: oversized and
trickling requests, floods beyond the queue, waits in the queue, slow work past the time limit,
path traversal."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from typing import Any

import httpx
import pytest
from live_server import running_server

from unspun.api.settings import ServiceSettings
from unspun.detect.base import Scores
from unspun.pipeline import CheckConfig, Checker

ARTICLE = (
    "The regional water board said on Thursday that reservoir levels had recovered after a wet "
    "autumn, and that the hosepipe ban imposed in August would be lifted at the end of the month. "
    "Engineers will keep monitoring the two largest reservoirs through the winter, the board said, "
    "because demand usually rises again in spring when gardens need watering."
)
SECRETS = (b"root:", b"[project]", b"def create_app", b"import ")


class GatedDetector:
    """A real detector (the test detector) that waits for ``gate`` before scoring: lets a test
    hold work in the queue for as long as it needs, deterministically."""

    def __init__(self, inner: Any, gate: threading.Event) -> None:
        self.inner = inner
        self.gate = gate
        self.name = inner.name
        self.version = inner.version
        self.calibration = inner.calibration

    @property
    def settings(self) -> dict[str, Any]:
        return self.inner.settings

    def score(self, texts: Sequence[str], *, passages: bool = True) -> list[Scores]:
        self.gate.wait(timeout=30)
        return self.inner.score(texts, passages=passages)

    def save(self, directory):  # pragma: no cover - never saved
        raise NotImplementedError


def raw_exchange(
    port: int, chunks: Sequence[bytes], pause: float = 0.0, wait: float = 5.0
) -> bytes:
    """Send ``chunks`` with ``pause`` seconds between them, then read until the server closes."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except OSError:  # the server already cut us off: that is what some tests expect
                break
            time.sleep(pause)
        with contextlib.suppress(OSError):
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                received += data
    return received


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


@pytest.fixture
def checker(plain_detector) -> Checker:
    return Checker(CheckConfig(detector="mean-word-length"), detector=plain_detector)


def test_declared_oversized_body_is_refused_before_it_is_sent(checker):
    settings = ServiceSettings(max_body_bytes=10_000)
    with running_server(checker, settings) as port:
        head = (
            b"POST /v1/check HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: 50000000\r\n\r\n"
        )
        started = time.monotonic()
        status, headers, body = parse_response(raw_exchange(port, [head]))
        assert status == 413
        assert json.loads(body)["error"]["code"] == "too_large"
        assert time.monotonic() - started < 4
        # Chunked upload without a length is cut off once it passes the limit.
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            response = client.post("/v1/check", content=iter([b"x" * 4096] * 10))
            assert response.status_code == 413
            assert response.json()["error"]["code"] == "too_large"
            assert client.get("/v1/health").status_code == 200


def test_a_client_waiting_for_100_continue_gets_the_413_without_sending(checker):
    settings = ServiceSettings(max_body_bytes=10_000)
    with running_server(checker, settings) as port:
        head = (
            b"POST /v1/check HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: 20000\r\nExpect: 100-continue\r\n\r\n"
        )
        raw = raw_exchange(port, [head])
        assert raw.startswith(b"HTTP/1.1 413"), raw[:200]  # no "100 Continue" first
        assert json.loads(parse_response(raw)[2])["error"]["code"] == "too_large"


def urllib_post(
    port: int, data: bytes | Iterable[bytes], path: str = "/v1/check", timeout: float = 60
) -> tuple[int, dict[str, str], bytes]:
    """POST with the standard library's client, which sends the whole body before it reads the
    answer (an iterable body goes chunked): status, headers (lower-case names), body."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def test_an_oversized_body_gets_a_413_that_a_plain_client_reads(checker):
    # Well past what the kernel buffers on loopback: a server that answered without reading the
    # body would close on unread data, and urllib would report a broken pipe or a reset.
    settings = ServiceSettings(max_body_bytes=1_000_000)
    body = json.dumps({"text": "word " * 1_600_000}).encode()  # 8 MB
    with running_server(checker, settings) as port:
        for attempt in range(3):
            status, _, answer = urllib_post(port, body)
            assert status == 413, attempt
            assert json.loads(answer)["error"]["code"] == "too_large"
            # Chunked, without a Content-Length: bounded as it arrives, then drained.
            chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
            status, _, answer = urllib_post(port, chunks)
            assert status == 413, attempt
            assert json.loads(answer)["error"]["code"] == "too_large"
        status, _, answer = urllib_post(port, json.dumps({"text": ARTICLE}).encode())
        assert status == 200 and json.loads(answer)["schema"].startswith("unspun.report/")


def test_trickling_body_is_cut_off_and_others_are_still_served(checker):
    settings = ServiceSettings(body_timeout=1.0)
    with running_server(checker, settings) as port:
        payload = json.dumps({"text": ARTICLE}).encode()
        head = (
            b"POST /v1/check HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n"
        )
        outcome: dict[str, bytes] = {}
        trickle = threading.Thread(
            target=lambda: outcome.update(
                raw=raw_exchange(port, [head, *[payload[i : i + 1] for i in range(40)]], pause=0.1)
            )
        )
        started = time.monotonic()
        trickle.start()
        time.sleep(0.3)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            assert client.get("/v1/health").status_code == 200
            assert client.post("/v1/check", json={"text": ARTICLE}).status_code == 200
        trickle.join(timeout=15)
        status, headers, body = parse_response(outcome["raw"])
        assert status == 408
        assert json.loads(body)["error"]["code"] == "body_timeout"
        assert headers.get("connection") == "close"
        assert time.monotonic() - started < 4.5  # cut off at ~1 s, not after the 4 s trickle


def test_trickling_headers_are_cut_off(checker):
    settings = ServiceSettings(header_timeout=1.0)
    with running_server(checker, settings) as port:
        pieces = [b"GET /v1/health HTTP/1.1\r\n", b"Host: t\r\n"] + [b"X-Slow: 1\r\n"] * 30
        started = time.monotonic()
        raw = raw_exchange(port, pieces, pause=0.1, wait=8)
        elapsed = time.monotonic() - started
        assert raw.startswith(b"HTTP/1.1 408"), raw[:200]
        assert b"header_timeout" in raw
        assert elapsed < 3.2
        # A normal request on a fresh connection is unaffected.
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            assert client.get("/v1/health").status_code == 200


def test_flood_beyond_the_queue_gets_clean_503s_and_health_answers(plain_detector):
    gate = threading.Event()
    checker = Checker(CheckConfig(), detector=GatedDetector(plain_detector, gate))
    settings = ServiceSettings(max_pending=3, batch_size=1, retry_after=3)
    flood = 40

    async def scenario(port: int):
        limits = httpx.Limits(max_connections=flood + 5)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
            tasks = [
                asyncio.create_task(client.post("/v1/check", json={"text": ARTICLE}))
                for _ in range(flood)
            ]
            deadline = time.monotonic() + 20
            while sum(t.done() for t in tasks) < flood - 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            health = await client.get("/v1/health")
            gate.set()
            responses = await asyncio.gather(*tasks)
            after = await client.post("/v1/check", json={"text": ARTICLE})
            return health, responses, after

    try:
        with running_server(checker, settings) as port:
            health, responses, after = asyncio.run(scenario(port))
    finally:
        gate.set()
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 3 + [503] * (flood - 3)
    for response in responses:
        if response.status_code == 503:
            assert response.headers["retry-after"] == "3"
            assert response.json()["error"]["code"] == "overloaded"
        else:
            assert response.json()["schema"].startswith("unspun.report/")
    assert health.status_code == 200
    # Three admitted: one in the detector, two waiting; the rest were refused at once.
    assert health.json()["queue"] == {"pending": 3, "capacity": 3, "waiting": 2}
    assert after.status_code == 200


def test_work_past_the_time_limit_gets_504(plain_detector):
    gate = threading.Event()
    checker = Checker(CheckConfig(), detector=GatedDetector(plain_detector, gate))
    settings = ServiceSettings(request_timeout=0.5)
    try:
        with (
            running_server(checker, settings) as port,
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
        ):
            response = client.post("/v1/check", json={"text": ARTICLE})
            assert response.status_code == 504
            assert response.json()["error"]["code"] == "timeout"
            assert client.get("/v1/health").json()["queue"]["pending"] == 0
            gate.set()
            assert client.post("/v1/check", json={"text": ARTICLE}).status_code == 200
    finally:
        gate.set()


class TicketDetector(GatedDetector):
    """The test detector scoring one call per ticket the test hands out: the test decides when
    the detector frees up, so no assertion depends on how fast this machine is."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner, threading.Event())
        self.tickets = threading.Semaphore(0)

    def score(self, texts: Sequence[str], *, passages: bool = True) -> list[Scores]:
        if not self.tickets.acquire(timeout=60):
            raise RuntimeError("the test handed out no ticket")
        return self.inner.score(texts, passages=passages)


def test_queued_requests_wait_past_the_time_limit_and_are_served(plain_detector):
    detector = TicketDetector(plain_detector)
    checker = Checker(CheckConfig(), detector=detector)
    # The last request waits ~6 s, past the 4 s limit on checking: the wait is not counted in it.
    settings = ServiceSettings(batch_size=1, request_timeout=4.0, queue_wait=60.0)
    burst = 6

    async def scenario(port: int):
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=90) as client:

            async def timed_post() -> tuple[httpx.Response, float]:
                started = time.monotonic()
                response = await client.post("/v1/check", json={"text": ARTICLE})
                return response, time.monotonic() - started

            tasks = [asyncio.create_task(timed_post()) for _ in range(burst)]
            deadline = time.monotonic() + 30
            while True:  # all admitted: one in the detector, the others waiting
                queue = (await client.get("/v1/health")).json()["queue"]
                if queue["pending"] == burst and queue["waiting"] == burst - 1:
                    break
                assert time.monotonic() < deadline, queue
                await asyncio.sleep(0.05)
            assert not any(task.done() for task in tasks)
            for _ in range(burst):  # the detector frees up once a second
                await asyncio.sleep(1.0)
                detector.tickets.release()
            answered = await asyncio.gather(*tasks)
            health = (await client.get("/v1/health")).json()
            return queue, answered, health

    try:
        with running_server(checker, settings) as port:
            queue, answered, health = asyncio.run(scenario(port))
    finally:
        detector.tickets.release(100)
    assert queue == {"pending": burst, "capacity": 64, "waiting": burst - 1}
    assert [response.status_code for response, _ in answered] == [200] * burst
    assert all(r.json()["schema"].startswith("unspun.report/") for r, _ in answered)
    assert max(seconds for _, seconds in answered) > settings.request_timeout
    assert health["queue"] == {"pending": 0, "capacity": 64, "waiting": 0}


def test_a_request_not_started_within_the_queue_wait_gets_503_with_retry_after(plain_detector):
    gate = threading.Event()
    checker = Checker(CheckConfig(), detector=GatedDetector(plain_detector, gate))
    settings = ServiceSettings(batch_size=1, queue_wait=1.0, request_timeout=60.0, retry_after=7)

    async def scenario(port: int):
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=90) as client:
            started = time.monotonic()
            tasks = [
                asyncio.create_task(client.post("/v1/check", json={"text": ARTICLE}))
                for _ in range(3)
            ]
            deadline = started + 30
            while sum(task.done() for task in tasks) < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            refused_after = time.monotonic() - started
            refused = [task.result() for task in tasks if task.done()]
            waiting = [task for task in tasks if not task.done()]
            health = (await client.get("/v1/health")).json()
            gate.set()  # the one in the detector finishes
            served = await asyncio.gather(*waiting)
            return refused_after, refused, served, health

    try:
        with running_server(checker, settings) as port:
            refused_after, refused, served, health = asyncio.run(scenario(port))
    finally:
        gate.set()
    # Two waited behind the one held in the detector, and were told to come back after 1 s.
    assert len(refused) == 2 and refused_after >= 0.9
    for response in refused:
        assert response.status_code == 503
        assert response.headers["retry-after"] == "7"
        error = response.json()["error"]
        assert error["code"] == "overloaded" and "waited 1 s" in error["message"]
    assert health["queue"] == {"pending": 1, "capacity": 64, "waiting": 0}
    assert [response.status_code for response in served] == [200]


TRAVERSALS = [
    "/static/../pyproject.toml",
    "/static/..%2f..%2f..%2fpyproject.toml",
    "/static/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
    "/static/%252e%252e%252fapp.py",
    "/static/....//....//etc/passwd",
    "/static/..\\..\\app.py",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/app.js%00.html",
    "/static/../app.py",
    "/static/../../../../../../etc/passwd",
    "/../../../../etc/passwd",
    "/docs/../../../etc/passwd",
    "/static/index.html/../../app.py",
    "/static/__init__.py",
    "/static/",
]


def test_path_traversal_reaches_no_file(checker):
    with running_server(checker, ServiceSettings()) as port:
        for path in TRAVERSALS:
            request = f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode()
            raw = raw_exchange(port, [request])
            status, headers, body = parse_response(raw)
            assert status in {400, 404}, (path, raw[:300])
            assert not any(secret in body for secret in SECRETS), path
            if status == 404:
                assert json.loads(body)["error"]["code"] == "not_found", path
        # The real assets are still there.
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            assert client.get("/static/app.js").status_code == 200

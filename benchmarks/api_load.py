"""Load test of ``unspun serve`` on loopback, with the detector it is told (default: the default).

A burst (the default): N concurrent ``/v1/check`` calls of one article (the seed article from
``../shared/examples``, else ``examples/spun-article.txt``), each client waiting up to a stated
time, plus one 3 MB body posted with urllib while the burst runs; prints how many calls were
served, told busy (503) and failed, latency percentiles, and the status the 3 MB body got.

    python benchmarks/api_load.py                      # 50 calls, clients wait up to 120 s

Sustained (``--duration``): N clients post ~300-word articles back to back for a fixed time;
prints p50/p99 latency, throughput, 503s, other errors and the server's peak memory.

    python benchmarks/api_load.py --detector default --clients 200 --duration 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "examples" / "reference-corpus.jsonl"
SEED_ARTICLE = REPO.parent / "shared" / "examples" / "seed-article.txt"
EXAMPLE_ARTICLE = REPO / "examples" / "spun-article.txt"
FILLER = (
    "The council said the new timetable would take effect next month after a public consultation "
    "that drew more than four hundred responses from residents and local businesses. "
)


def articles(words: int) -> list[str]:
    """~``words``-word articles: the example reference corpus, cut or repeated to length."""
    texts = []
    if CORPUS.is_file():
        for line in CORPUS.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    if not texts:
        texts = [FILLER * 10]
    sized = []
    for text in texts:
        tokens = text.split(" ")
        while len(tokens) < words:
            tokens += tokens
        sized.append(" ".join(tokens[:words]))
    return sized


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mib(pid: int) -> float:
    """Resident memory of the server process and its children (MiB), from /proc."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.is_file():
        pids += [int(p) for p in children.read_text().split()]
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


async def wait_healthy(base: str, server: subprocess.Popen, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base, timeout=2) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                error = server.stderr.read().decode(errors="replace") if server.stderr else ""
                raise SystemExit(f"the server exited with code {server.returncode}: {error}")
            try:
                response = await client.get("/v1/health")
                if response.status_code == 200:
                    return response.json()
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5)
    raise SystemExit("the server did not become healthy in time")


async def load(base: str, pid: int, texts: list[str], clients: int, duration: float) -> dict:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    memory: list[tuple[float, float]] = []
    stop_at = time.monotonic() + duration
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client_loop(index: int, client: httpx.AsyncClient) -> None:
        n = index
        while time.monotonic() < stop_at:
            body = {"text": texts[n % len(texts)]}
            n += clients
            started = time.perf_counter()
            try:
                response = await client.post("/v1/check", json=body)
                key = str(response.status_code)
            except httpx.HTTPError as exc:
                key = type(exc).__name__
                response = None
            elapsed = time.perf_counter() - started
            statuses[key] = statuses.get(key, 0) + 1
            if key == "200":
                latencies.append(elapsed)
            elif response is not None and response.status_code == 503:
                await asyncio.sleep(min(1.0, float(response.headers.get("retry-after", 1))))

    async def sample_memory() -> None:
        start = time.monotonic()
        while time.monotonic() < stop_at + 1:
            memory.append((time.monotonic() - start, rss_mib(pid)))
            await asyncio.sleep(0.5)

    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        started = time.monotonic()
        sampler = asyncio.create_task(sample_memory())
        await asyncio.gather(*(client_loop(i, client) for i in range(clients)))
        wall = time.monotonic() - started
        await sampler
    return {"latencies": latencies, "statuses": statuses, "memory": memory, "wall": wall}


def post_big_body(base: str, megabytes: float) -> dict:
    """POST a JSON body of ``megabytes`` MB with urllib, which sends the whole body before it
    reads the answer (a server that answers early and closes leaves it a broken pipe)."""
    words = int(megabytes * 1_000_000 / 5)
    body = json.dumps({"text": "word " * words}).encode()
    request = urllib.request.Request(
        f"{base}/v1/check", data=body, headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status, answer = str(response.status), response.read()
    except urllib.error.HTTPError as error:
        status, answer = str(error.code), error.read()
    except OSError as error:  # URLError, reset, broken pipe: no answer the client could read
        reason = getattr(error, "reason", error)
        return {"bytes": len(body), "status": f"no answer ({reason})", "code": None, "s": None}
    try:
        code = json.loads(answer)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    return {
        "bytes": len(body),
        "status": status,
        "code": code,
        "s": round(time.perf_counter() - started, 2),
    }


async def burst(
    base: str, pid: int, text: str, calls: int, timeout: float, big_body_mb: float
) -> dict:
    """``calls`` concurrent checks of ``text``, each given up to ``timeout`` seconds in all."""
    memory: list[float] = []
    limits = httpx.Limits(max_connections=calls, max_keepalive_connections=calls)
    done = asyncio.Event()

    async def call(client: httpx.AsyncClient) -> tuple[str, float, str]:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                response = await client.post("/v1/check", json={"text": text})
        except TimeoutError:
            return "failed", time.perf_counter() - started, "client timeout"
        except httpx.HTTPError as exc:
            return "failed", time.perf_counter() - started, type(exc).__name__
        elapsed = time.perf_counter() - started
        if response.status_code == 200:
            return "served", elapsed, "200"
        if response.status_code == 503 and "retry-after" in response.headers:
            return "busy", elapsed, "503"
        return "failed", elapsed, str(response.status_code)

    async def big_body() -> dict | None:
        if big_body_mb <= 0:
            return None
        await asyncio.sleep(1.0)  # while the burst is queued
        return await asyncio.to_thread(post_big_body, base, big_body_mb)

    async def sample_memory() -> None:
        while not done.is_set():
            memory.append(rss_mib(pid))
            await asyncio.sleep(0.5)

    async with httpx.AsyncClient(base_url=base, timeout=None, limits=limits) as client:
        sampler = asyncio.create_task(sample_memory())
        started = time.monotonic()
        big = asyncio.create_task(big_body())
        outcomes = await asyncio.gather(*(call(client) for _ in range(calls)))
        wall = time.monotonic() - started
        done.set()
        await sampler
        big_result = await big
    return {"outcomes": outcomes, "big_body": big_result, "memory": memory, "wall": wall}


def run_burst(args: argparse.Namespace, base: str, server: subprocess.Popen, health: dict) -> None:
    article = args.article or (SEED_ARTICLE if SEED_ARTICLE.is_file() else EXAMPLE_ARTICLE)
    text = article.read_text(encoding="utf-8")
    limits = health.get("limits", {})
    print(
        f"burst: {args.clients} concurrent /v1/check calls of {article.name} "
        f"({len(text.split())} words), clients wait up to {args.timeout:g} s; server queue "
        f"{health['queue']['capacity']} requests, wait {limits.get('queue_wait_s')} s, "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    result = asyncio.run(
        burst(base, server.pid, text, args.clients, args.timeout, args.big_body_mb)
    )
    outcomes = result["outcomes"]
    served = [s for kind, s, _ in outcomes if kind == "served"]
    busy = [s for kind, s, _ in outcomes if kind == "busy"]
    failed: dict[str, int] = {}
    for kind, _, detail in outcomes:
        if kind == "failed":
            failed[detail] = failed.get(detail, 0) + 1
    big = result["big_body"]
    figures = {
        "mode": "burst",
        "detector": health["detector"],
        "article": article.name,
        "calls": args.clients,
        "client_timeout_s": args.timeout,
        "served": len(served),
        "busy_503": len(busy),
        "failed": sum(failed.values()),
        "failures": failed,
        "served_p50_s": round(percentile(served, 0.50), 1),
        "served_p90_s": round(percentile(served, 0.90), 1),
        "served_p99_s": round(percentile(served, 0.99), 1),
        "busy_p50_s": round(percentile(busy, 0.50), 1),
        "wall_s": round(result["wall"], 1),
        "big_body": big,
        "server_rss_peak_mib": round(max(result["memory"], default=0.0)),
        "cpus": os.cpu_count(),
    }
    print(
        f"served {len(served)}, busy (503 + Retry-After) {len(busy)}, failed "
        f"{figures['failed']}{f' {failed}' if failed else ''}, in {figures['wall_s']} s\n"
        f"latency of served calls: p50 {figures['served_p50_s']} s, p90 "
        f"{figures['served_p90_s']} s, p99 {figures['served_p99_s']} s"
        + (f"; busy answers after p50 {figures['busy_p50_s']} s" if busy else "")
    )
    if big is not None:
        print(
            f"{big['bytes'] / 1e6:.1f} MB body (urllib, during the burst): {big['status']}"
            + (f" {big['code']}" if big["code"] else "")
            + (f" in {big['s']} s" if big["s"] is not None else "")
        )
    print(f"server memory peak {figures['server_rss_peak_mib']} MiB")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    if failed or (big is not None and big["status"] != "413"):
        raise SystemExit(1)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--detector", default="default")
    parser.add_argument(
        "--clients", type=int, default=50, help="concurrent calls (burst) or clients (sustained)"
    )
    parser.add_argument(
        "--duration", type=float, default=None, help="sustained load for this many seconds"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="burst: each client's wait")
    parser.add_argument(
        "--article", type=Path, default=None, help="burst: the article (default: seed article)"
    )
    parser.add_argument("--big-body-mb", type=float, default=3.0, help="burst: 0 to skip")
    parser.add_argument("--words", type=int, default=300, help="sustained: article length")
    parser.add_argument("--target-fpr", type=float, default=0.01)
    parser.add_argument("--queue-size", type=int, default=None, help="default: the server's")
    parser.add_argument("--queue-wait", type=float, default=None, help="default: the server's")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch threads in the server")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-c", "from unspun.cli import main; main()", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--detector", args.detector,
        "--target-fpr", str(args.target_fpr),
    ]  # fmt: skip
    if args.queue_size:
        command += ["--queue-size", str(args.queue_size)]
    if args.queue_wait:
        command += ["--queue-wait", str(args.queue_wait)]
    if args.batch_size:
        command += ["--batch-size", str(args.batch_size)]
    env = dict(os.environ)
    if args.threads:
        env.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    texts = articles(args.words)
    print(f"starting: {' '.join(command[3:])}", flush=True)
    loaded = time.monotonic()
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        health = asyncio.run(wait_healthy(base, server, timeout=300))
        start_up = time.monotonic() - loaded
        idle_rss = rss_mib(server.pid)
        if args.duration is None:
            print(
                f"server up in {start_up:.1f} s (detector {health['detector']}), "
                f"{idle_rss:.0f} MiB",
                flush=True,
            )
            run_burst(args, base, server, health)
            return
        print(
            f"server up in {start_up:.1f} s (detector {health['detector']}), {idle_rss:.0f} MiB; "
            f"{args.clients} clients x {args.duration:g} s, {args.words}-word articles",
            flush=True,
        )
        result = asyncio.run(load(base, server.pid, texts, args.clients, args.duration))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

    latencies = result["latencies"]
    statuses = result["statuses"]
    ok = statuses.get("200", 0)
    refused = statuses.get("503", 0)
    errors = {k: v for k, v in statuses.items() if k not in {"200", "503"}}
    memory = result["memory"]
    peak = max(m for _, m in memory)
    half = len(memory) // 2
    first_half_peak = max((m for _, m in memory[:half]), default=peak)
    figures = {
        "clients": args.clients,
        "duration_s": round(result["wall"], 1),
        "words": args.words,
        "detector": args.detector,
        "requests": sum(statuses.values()),
        "ok": ok,
        "deliberate_503": refused,
        "other_errors": errors,
        "throughput_per_s": round(ok / result["wall"], 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000),
        "p90_ms": round(percentile(latencies, 0.90) * 1000),
        "p99_ms": round(percentile(latencies, 0.99) * 1000),
        "mean_ms": round(statistics.fmean(latencies) * 1000) if latencies else None,
        "server_rss_idle_mib": round(idle_rss),
        "server_rss_peak_mib": round(peak),
        "server_rss_peak_first_half_mib": round(first_half_peak),
        "start_up_s": round(start_up, 1),
        "cpus": os.cpu_count(),
    }
    print(
        f"requests {figures['requests']}: {ok} ok, {refused} deliberate 503, "
        f"other errors {errors or 'none'}\n"
        f"throughput {figures['throughput_per_s']} articles/s; latency p50 {figures['p50_ms']} ms, "
        f"p90 {figures['p90_ms']} ms, p99 {figures['p99_ms']} ms\n"
        f"server memory: {figures['server_rss_idle_mib']} MiB idle, peak "
        f"{figures['server_rss_peak_mib']} MiB (peak in the first half of the run: "
        f"{figures['server_rss_peak_first_half_mib']} MiB)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

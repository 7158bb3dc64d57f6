"""Load test of ``unspun serve`` on loopback: N concurrent clients post ~300-word articles for a
fixed time; prints p50/p99 latency, throughput, 503s, other errors and the server's peak memory.

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
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "examples" / "reference-corpus.jsonl"
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


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--detector", default="default")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--words", type=int, default=300)
    parser.add_argument("--target-fpr", type=float, default=0.01)
    parser.add_argument("--queue-size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch threads in the server")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-c", "from unspun.cli import main; main()", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--detector", args.detector,
        "--queue-size", str(args.queue_size), "--target-fpr", str(args.target_fpr),
    ]  # fmt: skip
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

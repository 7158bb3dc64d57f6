"""Scan throughput and memory: articles/s for the local engine (1 and 2 workers) and Ray (1 and 2
actors) on one input, and peak RSS while scanning a large input (constant memory check).

    python benchmarks/scan_throughput.py                       # shipped default detector
    python benchmarks/scan_throughput.py --records 400 --memory-records 100000
    UNSPUN_PLUGINS=batch_detectors PYTHONPATH=tests python benchmarks/scan_throughput.py \
        --detector test-mean-word-length                      # fast test detector

Input: news articles from ../shared/data/detect (each copy made unique, so de-duplication does
not skip work), or synthetic text when that folder is absent. Prints one line per figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from unspun.batch.engine import ScanSettings, plugins_from_env
from unspun.batch.scan import ScanOptions, run_scan
from unspun.pipeline import CheckConfig

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "detect"


def _texts() -> list[str]:
    path = SHARED / "open-generators.jsonl"
    if path.is_file():
        with open(path, encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle]
        return [row["text"] for row in rows if row["domain"] == "news-bbc"]
    rng = random.Random(0)
    words = [
        "the",
        "a",
        "of",
        "to",
        "in",
        "said",
        "that",
        "for",
        "on",
        "was",
        "with",
        "government",
        "people",
        "year",
        "new",
    ]
    return [" ".join(rng.choice(words) for _ in range(300)) for _ in range(200)]


def write_input(path: Path, count: int) -> Path:
    texts = _texts()
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(count):
            text = texts[i % len(texts)]
            handle.write(
                json.dumps(
                    {
                        "id": f"a{i}",
                        "title": f"Article {i}",
                        "url": f"https://site{i % 20}.example/{i}",
                        "date": f"2024-05-{1 + i % 28:02d}",
                        "text": f"{text}\n\nReference {i}.",  # unique, so never a duplicate
                    }
                )
                + "\n"
            )
    return path


class _Clock:
    """Steady-state rate: rows after the first batch over the time since it arrived, so model
    loading and worker start-up are reported apart from throughput."""

    def __init__(self, rss_every: int = 0) -> None:
        self.first: float | None = None
        self.first_rows = 0
        self.rows = 0
        self.last = 0.0
        self.rss_every = rss_every
        self.rss: list[tuple[int, int]] = []

    def start(self, total: int, already_done: int) -> None:
        self.started = time.monotonic()

    def advance(self, rows: int) -> None:
        self.rows += rows
        self.last = time.monotonic()
        if self.first is None:
            self.first, self.first_rows = self.last, self.rows
        if self.rss_every and self.rows // self.rss_every != (self.rows - rows) // self.rss_every:
            self.rss.append((self.rows, _rss_mib()))

    @property
    def rate(self) -> float:
        if self.first is None or self.last <= self.first:
            return 0.0
        return (self.rows - self.first_rows) / (self.last - self.first)

    @property
    def startup(self) -> float:
        return (self.first or self.started) - self.started


def _rss_mib() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


def _settings(detector: str) -> ScanSettings:
    return ScanSettings(CheckConfig(detector=detector, tokens=False), plugins_from_env())


def throughput(args: argparse.Namespace, work: Path) -> None:
    feed = write_input(work / "throughput.jsonl", args.records)
    runs = [("local", 1), ("local", 2), ("ray", 1), ("ray", 2)]
    for engine, workers in runs:
        if engine == "ray" and args.no_ray:
            continue
        clock = _Clock()
        options = ScanOptions(
            engine=engine, workers=workers, batch_size=args.batch_size, restart=True
        )
        out = work / f"{engine}-{workers}.parquet"
        summary = run_scan([str(feed)], out, _settings(args.detector), options, clock)
        label = "workers" if engine == "local" else "actors"
        print(
            f"{engine:5s} {workers} {label:7s}: {clock.rate:7.1f} articles/s steady, "
            f"{summary.rate:7.1f} articles/s overall ({summary.scanned} articles in "
            f"{summary.seconds:.1f} s, {clock.startup:.1f} s to the first batch)",
            flush=True,
        )


def memory_child(args: argparse.Namespace) -> None:
    """Runs in a fresh process so its peak RSS is the scan's alone."""
    import resource

    work = Path(args.work)
    feed = write_input(work / "memory.jsonl", args.memory_records)
    clock = _Clock(rss_every=max(1, args.memory_records // 10))
    options = ScanOptions(batch_size=args.batch_size, restart=True)
    summary = run_scan(
        [str(feed)], work / "memory.parquet", _settings(args.detector), options, clock
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        json.dumps(
            {
                "records": summary.totals.records,
                "seconds": summary.seconds,
                "rate": summary.rate,
                "peak_mib": peak,
                "rss": clock.rss,
            }
        )
    )


def memory(args: argparse.Namespace, work: Path) -> None:
    command = [
        sys.executable,
        __file__,
        "--memory-child",
        "--work",
        str(work),
        "--detector",
        args.detector,
        "--memory-records",
        str(args.memory_records),
        "--batch-size",
        str(args.batch_size),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        raise SystemExit(result.returncode)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    samples = ", ".join(f"{rows:,}: {mib} MiB" for rows, mib in figures["rss"])
    print(
        f"memory: {figures['records']} records in {figures['seconds']:.0f} s "
        f"({figures['rate']:.0f} articles/s), peak RSS {figures['peak_mib']} MiB; "
        f"RSS while scanning: {samples}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", default="default")
    parser.add_argument("--records", type=int, default=400)
    parser.add_argument("--memory-records", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args)
        return
    print(f"detector {args.detector}, {os.cpu_count()} CPUs, batch size {args.batch_size}")
    with tempfile.TemporaryDirectory(prefix="unspun-bench-") as tmp:
        work = Path(tmp)
        if not args.skip_throughput:
            throughput(args, work)
        if not args.skip_memory:
            memory(args, work)


if __name__ == "__main__":
    main()

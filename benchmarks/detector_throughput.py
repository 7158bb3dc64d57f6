"""Throughput of the check pipeline on ~300-word articles (~400 Gemma tokens), and the cold-start
time and peak memory of one `unspun check`. Articles are assembled from the project's own example
corpus.

    python benchmarks/detector_throughput.py [--detector default|encoder|DIR[,OTHER...]]
        [--articles 256] [--batch-size 32] [--threads 2] [--no-cache] [--no-cold]

Several detectors (comma-separated) are measured one after the other on the same articles in one
run, each in a fresh process (run in one process, a detector slowed the next 3-4x), and each
one's speed is given relative to the first: `--detector language-model,default`
compares the old default (Gemma token statistics, first 256 tokens) with the new one. The CPU's
flags and the dtype each detector computed in are printed; UNSPUN_DTYPE=float32 forces float32,
and ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 make PyTorch,
oneDNN and MKL use only AVX2 kernels (as on a CPU without AVX-512), for the float32 AVX2 figure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def make_articles(count: int, words: int = 300) -> list[str]:
    reports = [
        json.loads(line)["text"]
        for line in (REPO / "examples/reference-corpus.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
        if line.strip()
    ]
    articles = []
    for i in range(count):
        pieces, total, j = [], 0, i
        while total < words:
            text = reports[j % len(reports)]
            pieces.append(text)
            total += len(text.split())
            j += 3
        articles.append(" ".join(" ".join(pieces).split()[:words]) + ".")
    return articles


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--detector", default="default")
    parser.add_argument("--articles", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--no-cache", action="store_true", help="measure throughput with the eager encoder"
    )
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-start runs")
    parser.add_argument("--no-cpu-line", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    import os

    import torch

    torch.set_num_threads(args.threads)
    if args.no_cache:
        os.environ["UNSPUN_CACHE"] = "off"
    names = [name.strip() for name in args.detector.split(",") if name.strip()]
    if len(names) > 1:
        # Each detector in a fresh process: one run leaves the shared model and allocator in a
        # state that slowed the next detector 3-4x (measured: hidden-state after language-model
        # in float32), so side by side must not mean one after the other in one process.
        print(cpu_line())
        rates = []
        for name in names:
            command = [sys.executable, __file__, "--detector", name, "--no-cold", "--no-cpu-line"]
            command += ["--articles", str(args.articles), "--batch-size", str(args.batch_size)]
            command += ["--threads", str(args.threads)] + (["--no-cache"] if args.no_cache else [])
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            line = next((x for x in done.stdout.splitlines() if x.startswith(f"{name} (")), None)
            if done.returncode != 0 or line is None:
                print(f"{name}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
                return 1
            rates.append(float(line.split("threads: ", 1)[1].split(" articles/s", 1)[0]))
            relative = f"; {rates[-1] / rates[0]:.2f}x the first" if len(rates) > 1 else ""
            print(line + relative)
    else:
        if not args.no_cpu_line:
            print(cpu_line())
        measure(names[0], args)
    if args.no_cold:
        return 0
    for name in names:
        if cold_starts(name) != 0:
            return 1
    return 0


def measure(name: str, args: argparse.Namespace) -> None:
    """Articles per second of one detector through the check pipeline, in this process."""
    from unspun.article import parse_text
    from unspun.pipeline import CheckConfig, Checker

    articles = [parse_text(text) for text in make_articles(args.articles)]
    started = time.perf_counter()
    checker = Checker(CheckConfig(detector=name))
    checker.check_many(articles[:4])  # load the model and warm up
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    tokens = []
    for begin in range(0, len(articles), args.batch_size):
        for report in checker.check_many(articles[begin : begin + args.batch_size]):
            tokens.append(
                (report.detector.tokens_scored or 0, report.detector.tokens_not_scored or 0)
            )
    rate = len(articles) / (time.perf_counter() - started)
    read = sum(t for t, _ in tokens) / len(tokens)
    unread = sum(u for _, u in tokens) / len(tokens)
    print(
        f"{name} ({checker.detector.name}, {getattr(checker.detector, 'dtype_name', 'n/a')}): "
        f"{len(articles)} articles of ~300 words, batch {args.batch_size}, {args.threads} "
        f"threads: {rate:.2f} articles/s (passages included; tokens read {read:.0f}, "
        f"left unread {unread:.0f} per article); model load + warm-up {loaded:.1f} s"
    )


def cpu_line() -> str:
    """The CPU's name and the flags that decide the speed of float32 and bfloat16."""
    import os
    import platform

    name, flags = platform.processor() or "unknown CPU", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and name in ("", "unknown CPU", platform.machine()):
                name = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    shown = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    forced = {
        k: os.environ[k]
        for k in (
            "UNSPUN_DTYPE",
            "ATEN_CPU_CAPABILITY",
            "ONEDNN_MAX_CPU_ISA",
            "MKL_ENABLE_INSTRUCTIONS",
        )
        if k in os.environ
    }
    return f"CPU: {name}, {os.cpu_count()} cores, flags {' '.join(shown) or 'none of note'}" + (
        f"; forced {forced}" if forced else ""
    )


def cold_starts(name: str) -> int:
    """The cold-start lines of one detector."""
    import os
    import tempfile

    detector = ["--detector", name]
    shared = os.environ.get("UNSPUN_CACHE")
    if shared and shared != "off":
        # The language model's conversion takes minutes: measure with the user's cache, warm.
        cold_check({}, detector)
        cached = [cold_check({}, detector) for _ in range(3)]
        if None in cached:
            return 1
        print(f"{name}: " + _cold_line(cached, "with the caches of UNSPUN_CACHE warm"))
        return 0
    with tempfile.TemporaryDirectory() as cache:
        first = cold_check({"UNSPUN_CACHE": cache}, detector)
        cached = [cold_check({"UNSPUN_CACHE": cache}, detector) for _ in range(3)]
    uncached = [cold_check({"UNSPUN_CACHE": "off"}, detector) for _ in range(3)]
    if None in (first, *cached, *uncached):
        return 1
    print(
        f"{name}: "
        + _cold_line(cached, "with the caches warm")
        + f" (first process, which fills them: {first[0]:.2f} s); cache off: best "
        f"{min(t for t, _ in uncached):.2f} s of 3"
    )
    return 0


def _cold_line(runs: list[tuple[float, float]], how: str) -> str:
    seconds = min(t for t, _ in runs)
    peak = max(m for _, m in runs)
    return (
        f"cold start `unspun check examples/spun-article.txt`: best {seconds:.2f} s of "
        f"{len(runs)} {how}; peak memory {peak:.0f} MB"
    )


def cold_check(env: dict[str, str], detector: list[str]) -> tuple[float, float] | None:
    """Seconds and peak resident memory (MB) of one new process checking the example article."""
    import os
    import resource

    example = REPO / "examples/spun-article.txt"
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = subprocess.run(
        [sys.executable, "-m", "unspun.cli", "check", str(example), "--format", "json", *detector],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        return None
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest child so far (KB on Linux): a later, smaller child
    # does not lower it, so report it only as an upper bound across the runs.
    return time.perf_counter() - started, max(peak, before) / 1024


if __name__ == "__main__":
    raise SystemExit(main())

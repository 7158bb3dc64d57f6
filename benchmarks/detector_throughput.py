"""Throughput of the check pipeline on ~300-word articles, and the cold-start time and peak memory
of one `unspun check`. Articles are assembled from the project's own example corpus.

    python benchmarks/detector_throughput.py [--detector default|encoder|DIR] [--articles 256]
        [--batch-size 32] [--threads 2] [--no-cache]

The language-model default reads ~1-2 articles/s on 2 cores, so use --articles 32 for it.
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
    args = parser.parse_args()

    import os
    import tempfile

    import torch

    torch.set_num_threads(args.threads)
    if args.no_cache:
        os.environ["UNSPUN_CACHE"] = "off"
    from unspun.article import parse_text
    from unspun.pipeline import CheckConfig, Checker

    articles = [parse_text(text) for text in make_articles(args.articles)]
    started = time.perf_counter()
    checker = Checker(CheckConfig(detector=args.detector))
    checker.check_many(articles[:4])  # load the encoder and warm up
    print(f"model load + warm-up: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    for begin in range(0, len(articles), args.batch_size):
        checker.check_many(articles[begin : begin + args.batch_size])
    elapsed = time.perf_counter() - started
    print(
        f"{args.detector}: {len(articles)} articles of ~300 words, batch {args.batch_size}, "
        f"{args.threads} threads: "
        f"{len(articles) / elapsed:.1f} articles/s (passages included)"
    )

    # Cold processes: the first one on a machine fills the caches (the traced encoder, the
    # converted language model), later ones load them; with the cache off every process builds.
    detector = ["--detector", args.detector]
    shared = os.environ.get("UNSPUN_CACHE")
    if shared and shared != "off":
        # The language model's conversion takes minutes: measure with the user's cache, warm.
        cold_check({}, detector)
        cached = [cold_check({}, detector) for _ in range(3)]
        if None in cached:
            return 1
        print(_cold_line(cached, "with the caches of UNSPUN_CACHE warm"))
        return 0
    with tempfile.TemporaryDirectory() as cache:
        first = cold_check({"UNSPUN_CACHE": cache}, detector)
        cached = [cold_check({"UNSPUN_CACHE": cache}, detector) for _ in range(3)]
    uncached = [cold_check({"UNSPUN_CACHE": "off"}, detector) for _ in range(3)]
    if None in (first, *cached, *uncached):
        return 1
    print(
        _cold_line(cached, "with the caches warm")
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

"""Throughput of the default pipeline on ~300-word articles, and the cold-start time of one
`unspun check`. Articles are assembled from the project's own example corpus.

    python benchmarks/detector_throughput.py [--articles 256] [--batch-size 32] [--threads 2]
        [--no-cache]
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
    parser.add_argument("--articles", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--no-cache", action="store_true", help="measure throughput with the eager encoder"
    )
    args = parser.parse_args()

    import os

    import torch

    torch.set_num_threads(args.threads)
    if args.no_cache:
        os.environ["UNSPUN_CACHE"] = "off"
    from unspun.article import parse_text
    from unspun.pipeline import CheckConfig, Checker

    articles = [parse_text(text) for text in make_articles(args.articles)]
    started = time.perf_counter()
    checker = Checker(CheckConfig())
    checker.check_many(articles[:4])  # load the encoder and warm up
    print(f"model load + warm-up: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    for begin in range(0, len(articles), args.batch_size):
        checker.check_many(articles[begin : begin + args.batch_size])
    elapsed = time.perf_counter() - started
    print(
        f"{len(articles)} articles of ~300 words, batch {args.batch_size}, {args.threads} threads: "
        f"{len(articles) / elapsed:.1f} articles/s (passages included)"
    )

    # Cold processes: the first one on a machine traces the encoder into the cache
    # (unspun.models.traced), later ones load it; with the cache off every process builds it.
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        first = cold_check({"UNSPUN_CACHE": cache})
        cached = [cold_check({"UNSPUN_CACHE": cache}) for _ in range(3)]
    uncached = [cold_check({"UNSPUN_CACHE": "off"}) for _ in range(3)]
    if None in (first, *cached, *uncached):
        return 1
    print(
        f"cold start `unspun check examples/spun-article.txt`: best {min(cached):.2f} s of 3 "
        f"with the traced encoder cached (first process, which builds it: {first:.2f} s); "
        f"cache off: best {min(uncached):.2f} s of 3"
    )
    return 0


def cold_check(env: dict[str, str]) -> float | None:
    """Seconds for one new process to check the project's example article."""
    import os

    example = REPO / "examples/spun-article.txt"
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "unspun.cli", "check", str(example), "--format", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        return None
    return time.perf_counter() - started


if __name__ == "__main__":
    raise SystemExit(main())

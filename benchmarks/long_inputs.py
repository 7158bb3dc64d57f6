"""Time to check one very long article, by input size: the cost should grow linearly at most.

The long articles are built from the paragraphs of the project's own examples/ texts, shuffled
with a fixed seed and repeated to each size, then checked through the library as `unspun check`
does (read, normalise, score, report, render the text report into a buffer).

    python benchmarks/long_inputs.py [--sizes 0.1,0.5,1,4] [--detector encoder] [--threads 2]

Prints, per size in MB: seconds for each step and in all, seconds per MB, and how many characters
the detector scored (a detector scores at most MAX_SCORED_CHARS of one article; the report states
the rest as not scored).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def long_text(size: int, seed: int = 0) -> str:
    texts = [(REPO / "examples" / "spun-article.txt").read_text(encoding="utf-8")]
    with (REPO / "examples" / "reference-corpus.jsonl").open(encoding="utf-8") as handle:
        texts += [json.loads(line)["text"] for line in handle if line.strip()]
    paragraphs = [
        p.strip() for text in texts for p in text.split("\n") if len(p.split()) >= 8
    ]
    rng = random.Random(seed)
    out, total = [], 0
    while total < size:
        paragraph = rng.choice(paragraphs)
        out.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(out)[:size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.1,0.5,1,4", help="input sizes in MB")
    parser.add_argument("--detector", default="encoder")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch
    from rich.console import Console

    from unspun.article import read_article_bytes
    from unspun.pipeline import CheckConfig, Checker
    from unspun.render import render_report

    torch.set_num_threads(args.threads)
    checker = Checker(CheckConfig(detector=args.detector))
    checker.check(read_article_bytes(long_text(20_000).encode(), name="warm-up"))
    print(f"detector {checker.detector.name} {checker.detector.version}, {args.threads} threads")
    print(f"{'MB':>5} {'read s':>7} {'check s':>8} {'render s':>9} {'total s':>8} {'s/MB':>6}"
          f" {'chars scored':>13}")
    for size in [float(s) for s in args.sizes.split(",")]:
        data = long_text(int(size * 1_000_000)).encode()
        start = time.perf_counter()
        article = read_article_bytes(data, name="long", max_bytes=None)
        read = time.perf_counter()
        report = checker.check(article)
        checked = time.perf_counter()
        render_report(report, Console(file=io.StringIO(), width=100))
        done = time.perf_counter()
        total = done - start
        scored = report.detector.chars_scored or len(article.body)
        print(f"{size:5.1f} {read - start:7.1f} {checked - read:8.1f} {done - checked:9.1f}"
              f" {total:8.1f} {total / size:6.1f} {scored:13,}", flush=True)


if __name__ == "__main__":
    main()

"""Does the compute dtype change a verdict? The default detector picks bfloat16 on CPUs (and GPUs)
that compute it in hardware and float32 elsewhere, under one calibration. This scores the same texts
both ways and prints the largest score difference and how many verdicts differ at the calibrated
threshold. On a CPU without bfloat16 hardware the bfloat16 run is emulated (slow, same numbers).

    python benchmarks/lm_dtype.py [--texts 40] [--data DIR] [--target-fpr 0.01]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=40, help="half machine, half human")
    parser.add_argument("--data", default=str(REPO.parent / "shared/data/detect"))
    parser.add_argument("--target-fpr", type=float, default=0.01)
    parser.add_argument("--detector", default="language-model")
    args = parser.parse_args()
    data = Path(args.data)
    if not (data / "current-news.jsonl").is_file():
        print(f"no data at {data}", file=sys.stderr)
        return 2
    from unspun.detect.base import create_detector
    from unspun.detect.calibration import find_calibration

    with (data / "current-news.jsonl").open(encoding="utf-8") as handle:
        machine = [json.loads(line) for line in handle][: args.texts // 2]
    pairs = {r["pair_id"] for r in machine}
    with (data / "open-generators.jsonl").open(encoding="utf-8") as handle:
        human = [
            r for r in map(json.loads, handle) if r["label"] == "human" and r["pair_id"] in pairs
        ]
    texts = [r["text"] for r in machine + human]
    scores = {}
    for dtype in ("float32", "bfloat16"):
        detector = create_detector(args.detector, dtype=dtype)
        started = time.perf_counter()
        scores[dtype] = np.array([s.document for s in detector.score(texts, passages=False)])
        print(
            f"{dtype}: {len(texts)} texts in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    calibration = find_calibration(detector)
    difference = np.abs(scores["float32"] - scores["bfloat16"])
    print(f"{len(texts)} texts ({len(machine)} current-model news, {len(human)} human news)")
    print(
        f"|score float32 - score bfloat16|: max {difference.max():.4f}, "
        f"mean {difference.mean():.4f} (logit units)"
    )
    if calibration is not None:
        threshold = calibration.threshold(args.target_fpr)
        flips = int(((scores["float32"] >= threshold) != (scores["bfloat16"] >= threshold)).sum())
        print(
            f"verdicts that differ at the {args.target_fpr:g} threshold ({threshold:.3f}): "
            f"{flips} of {len(texts)}; closest float32 score to it: "
            f"{np.abs(scores['float32'] - threshold).min():.4f} away"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

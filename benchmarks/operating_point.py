"""What the shipped default detector does at its own threshold, per domain: the verdicts a user gets
from `unspun check` (machine / uncertain / human) on the held-out pairs of ../shared/data/detect,
with 95% Wilson intervals.

The held-out pairs are the ones `unspun train` kept out of the shipped detector's training (the
same deterministic split by pair id). Their human texts are also the calibration's reference
texts, so the human row's rate is the target by construction; the machine rows (true-positive
rates at the operating point) are what this adds: how much machine text the threshold catches.

    python benchmarks/operating_point.py [--data DIR] [--target-fpr 0.01] [--threads 2]
        [--detector DIR] [--attack misspelling [--attack-humans]]

--attack applies one of benchmarks/attacks.py's attacks (fixed seed) to the machine texts, and with
--attack-humans to the human texts too: the verdicts an edited article gets.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared/data/detect"))
    parser.add_argument("--target-fpr", type=float, default=0.01)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--detector", default="default", help="registry name or trained directory")
    parser.add_argument("--attack", help="an attack of benchmarks/attacks.py, e.g. misspelling")
    parser.add_argument("--attack-humans", action="store_true", help="attack human texts too")
    args = parser.parse_args()
    edit = None
    if args.attack:
        sys.path.insert(0, str(REPO / "benchmarks"))
        from attacks import ATTACKS

        if args.attack not in ATTACKS:
            print(
                f"unknown attack {args.attack!r}: choose from {', '.join(ATTACKS)}", file=sys.stderr
            )
            return 2
        edit = ATTACKS[args.attack][0]

    import torch

    from unspun.article import parse_record
    from unspun.detect.data import read_labelled
    from unspun.detect.supervised.train import ADAPTED_HELDOUT_SHARE, is_heldout, pair_key
    from unspun.pipeline import CheckConfig, Checker
    from unspun.stats import wilson_interval

    torch.set_num_threads(args.threads)
    files = sorted(Path(args.data).glob("*.jsonl"))
    if not files:
        print(f"no JSONL files in {args.data}", file=sys.stderr)
        return 2
    records = [r for r in read_labelled(files) if is_heldout(pair_key(r), ADAPTED_HELDOUT_SHARE)]
    checker = Checker(CheckConfig(detector=args.detector, target_fpr=args.target_fpr, tokens=False))
    rng = random.Random(f"operating-point:{args.attack}")

    def text_of(record) -> str:  # noqa: ANN001
        attacked = edit is not None and (record.is_machine or args.attack_humans)
        return edit(record.text, rng) if attacked else record.text

    started = time.perf_counter()
    verdicts: list[str] = []
    for begin in range(0, len(records), args.batch_size):
        chunk = records[begin : begin + args.batch_size]
        reports = checker.check_many([parse_record({"text": text_of(r)}) for r in chunk])
        verdicts.extend(report.verdict for report in reports)
    seconds = time.perf_counter() - started

    groups: dict[tuple[str, str], Counter[str]] = {}
    for record, verdict in zip(records, verdicts, strict=True):
        kind = "human" if not record.is_machine else "machine"
        for key in ((record.domain, kind), ("all", kind)):
            groups.setdefault(key, Counter())[verdict] += 1
    rows = []
    attacked = f"; attack {args.attack}" + (" (humans too)" if args.attack_humans else "")
    print(
        f"{len(records)} held-out texts checked in {seconds:.0f} s; target FPR "
        f"{args.target_fpr:g}; {checker.detector.version}{attacked if args.attack else ''}"
    )
    header = f"{'domain':<16} {'texts':<8} {'n':>5} {'machine':>8} {'95% interval':>14}"
    print(header + f" {'uncertain':>10} {'human':>6}")
    for (domain, kind), counts in sorted(groups.items(), key=lambda item: item[0]):
        n = sum(counts.values())
        low, high = wilson_interval(counts["machine"], n)
        rows.append(
            {
                "domain": domain,
                "texts": kind,
                "n": n,
                "verdicts": dict(counts),
                "machine_share": round(counts["machine"] / n, 4),
                "interval": [round(low, 4), round(high, 4)],
            }
        )
        print(
            f"{domain:<16} {kind:<8} {n:>5} {counts['machine'] / n:>8.1%} "
            f"{f'{low:.1%}-{high:.1%}':>14} {counts['uncertain'] / n:>10.1%} "
            f"{counts['human'] / n:>6.1%}"
        )
    print(json.dumps({"target_fpr": args.target_fpr, "groups": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

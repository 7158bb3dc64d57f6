"""Build the tuned-lm training JSONL from ../shared/data/detect: every machine text of
current-train.jsonl with its human original (the open-generators record with the same pair_id),
plus, for every other pair of the older generators (open-generators.jsonl,
closed-generators.jsonl), its human text and one of its machine texts chosen by a seeded draw.

current-news.jsonl is the validation set: no record whose pair_id appears there is written (its
human originals and their older-generator texts included), and the script checks that no written
text equals one of them. It writes the validation set separately (--eval-out: the 100 machine texts
of current-news.jsonl and their human originals) for ``unspun eval`` after training.

    python benchmarks/build_training_data.py [--out benchmarks/out/tuned-lm-train.jsonl]
        [--eval-out benchmarks/out/current-news-eval.jsonl] [--older-per-pair 1] [--seed 0]
        [--smoke N] [--data DIR]

``--smoke N``: only N current-train machine texts (from N different pairs) and their human
originals, no older pairs: the small set for a smoke run.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KEEP = ("id", "pair_id", "label", "generator", "domain", "task", "text")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared/data/detect"))
    parser.add_argument("--out", default=str(REPO / "benchmarks/out/tuned-lm-train.jsonl"))
    parser.add_argument("--eval-out", default=str(REPO / "benchmarks/out/current-news-eval.jsonl"))
    parser.add_argument(
        "--older-per-pair", type=int, default=1, help="older-generator machine texts per pair"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", type=int, default=None, metavar="N")
    args = parser.parse_args()
    data = Path(args.data)
    names = ("current-train", "current-news", "open-generators", "closed-generators")
    if not all((data / f"{name}.jsonl").is_file() for name in names):
        print(f"{data}: needs {', '.join(n + '.jsonl' for n in names)}", file=sys.stderr)
        return 2
    current = _read(data / "current-train.jsonl")
    validation = _read(data / "current-news.jsonl")
    older = _read(data / "open-generators.jsonl") + _read(data / "closed-generators.jsonl")
    held = {r["pair_id"] for r in validation}
    groups: dict[str, list[dict]] = collections.defaultdict(list)
    for record in older:
        if record["pair_id"] not in held:
            groups[record["pair_id"]].append(record)
    humans = {
        key: next(r for r in group if r["label"] == "human")
        for key, group in groups.items()
        if any(r["label"] == "human" for r in group)
    }
    rng = random.Random(args.seed)
    out: list[dict] = []
    if args.smoke is not None:
        seen: set[str] = set()
        for record in current:
            key = record["pair_id"]
            if key in held or key not in humans or key in seen or len(seen) >= args.smoke:
                continue
            seen.add(key)
            out += [humans[key], record]
    else:
        for key in sorted({r["pair_id"] for r in current} | set(humans)):
            if key in held or key not in humans:
                continue
            out.append(humans[key])
            out += [r for r in current if r["pair_id"] == key]
            machines = [r for r in groups[key] if r["label"] == "machine"]
            out += rng.sample(machines, min(args.older_per_pair, len(machines)))
    forbidden = {r["text"] for r in validation} | {r["text"] for r in older if r["pair_id"] in held}
    leaked = [r for r in out if r["pair_id"] in held or r["text"] in forbidden]
    if leaked:
        print(f"refusing: {len(leaked)} records come from the validation set", file=sys.stderr)
        return 1
    target = Path(args.out)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as handle:
        for record in out:
            handle.write(json.dumps({k: record[k] for k in KEEP if k in record}) + "\n")
    evaluation = validation + [r for r in older if r["pair_id"] in held and r["label"] == "human"]
    with Path(args.eval_out).open("w", encoding="utf-8") as handle:
        for record in evaluation:
            handle.write(json.dumps({k: record[k] for k in KEEP if k in record}) + "\n")
    counts = collections.Counter(
        f"{r['domain']}/{r['generator'] if r['label'] == 'machine' else 'human'}" for r in out
    )
    print(
        json.dumps(
            {
                "out": str(target),
                "records": len(out),
                "pairs": len({r["pair_id"] for r in out}),
                "machine": sum(r["label"] == "machine" for r in out),
                "human": sum(r["label"] == "human" for r in out),
                "by_domain_generator": dict(sorted(counts.items())),
                "eval_out": args.eval_out,
                "eval_records": len(evaluation),
            },
            indent=1,
        )
    )
    return 0


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


if __name__ == "__main__":
    raise SystemExit(main())

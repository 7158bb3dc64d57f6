"""Source recall: index every human original of the shared data plus synthetic distractors, trace
each machine text (its shared opening removed) and print recall@1 and recall@5.

    python benchmarks/provenance_recall.py [--total 10000] [--queries 1500] [--index DIR|URL]
        [--hand-weights] [--all-pairs]

Candidates are scored by the shipped learned re-ranker (or the hand-set weights with
--hand-weights). By default only pairs held out of the re-ranker's training are queried
(shared_data.is_heldout); --all-pairs queries every pair.

Distractors are made in memory by recombining sentences of different human texts (at most one
sentence from any one text, never a text's opening sentence), so they share vocabulary, names and
style with the originals, and are embedded for real like any article; nothing is written into the
repository. The index is cached under --cache so later runs (and
provenance_latency.py) reuse it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from shared_data import (  # noqa: E402
    build_provenance_index,
    is_heldout,
    load_pairs,
    reword,
    strip_shared_opening,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=10000, help="articles in the index")
    parser.add_argument(
        "--queries", type=int, default=1500, help="machine texts to trace (0 = all)"
    )
    parser.add_argument("--index", default="/tmp/unspun-bench/provenance-v2")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--rewrites",
        action="store_true",
        help="query with rule-reworded originals (opening sentence dropped, sentences shuffled) "
        "instead of the machine continuations",
    )
    parser.add_argument(
        "--approximate",
        action="store_true",
        help="embed no distractor: use the mean embedding of the originals it was cut from",
    )
    parser.add_argument(
        "--hand-weights",
        action="store_true",
        help="score candidates with the hand-set weights instead of the learned re-ranker",
    )
    parser.add_argument(
        "--all-pairs",
        action="store_true",
        help="also query pairs the shipped re-ranker was trained on (default: held-out pairs only)",
    )
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from unspun.provenance.trace import Tracer

    index, originals = build_provenance_index(args.index, args.total, approximate=args.approximate)
    _, machines = load_pairs()
    queries = []
    if args.rewrites:
        from unspun.article.sentences import split_sentences

        shuffler = random.Random(args.seed)
        for record in originals.values():
            sentences = [record["text"][s:e] for s, e in split_sentences(record["text"])][1:]
            shuffler.shuffle(sentences)
            text = " ".join(reword(s) for s in sentences)
            if len(text.split()) >= 20:
                queries.append((record, text))
    for record in machines if not args.rewrites else []:
        text = strip_shared_opening(record["text"], originals[record["pair_id"]]["text"])
        if len(text.split()) >= 20:
            queries.append((record, text))
    if not args.all_pairs:
        queries = [(r, t) for r, t in queries if is_heldout(r["pair_id"])]
    random.Random(args.seed).shuffle(queries)
    if args.queries:
        queries = queries[: args.queries]
    tracer = Tracer(index, hand_weights=args.hand_weights)
    hits1 = hits5 = 0
    by_domain: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    latencies = []
    for record, text in queries:
        started = time.perf_counter()
        ranked = tracer.trace(None, text, top=5)
        latencies.append(time.perf_counter() - started)
        ids = [c.stored.doc.id for c in ranked]
        at1 = bool(ids) and ids[0] == record["pair_id"]
        at5 = record["pair_id"] in ids
        hits1 += at1
        hits5 += at5
        stats = by_domain[record["domain"]]
        stats[0] += 1
        stats[1] += at1
        stats[2] += at5
    n = len(queries)
    print(f"index: {index.store.count()} articles ({len(originals)} originals) at {args.index}")
    kind = "reworded originals" if args.rewrites else "machine texts, shared opening removed"
    pairs = "all pairs" if args.all_pairs else "pairs held out of re-ranker training"
    print(f"queries: {n} {kind}, {pairs}")
    scorer = (
        f"learned re-ranker v{tracer.reranker.version}"
        if tracer.reranker is not None
        else "hand-set weights"
    )
    print(f"scoring: {scorer}")
    print(f"recall@1 = {hits1 / n:.4f}   recall@5 = {hits5 / n:.4f}")
    for domain, (count, h1, h5) in sorted(by_domain.items()):
        print(f"  {domain:15s} n={count:5d}  recall@1={h1 / count:.4f}  recall@5={h5 / count:.4f}")
    latencies.sort()
    print(
        f"trace latency: p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {latencies[int(0.95 * (n - 1))] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()

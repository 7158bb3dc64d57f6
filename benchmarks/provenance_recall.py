"""Source recall: index every human original of the shared data plus synthetic distractors, trace
each machine text (its shared opening removed) and print recall@1 and recall@5.

    python benchmarks/provenance_recall.py [--total 10000] [--queries 1500] [--index DIR|URL]
        [--hand-weights] [--all-pairs]

Candidates are scored by the shipped learned re-ranker (or the hand-set weights with
--hand-weights). By default only pairs held out of the re-ranker's training are queried
(train_reranker.is_heldout); --all-pairs queries every pair.

Distractors are made in memory by recombining sentences of different human texts (at most one
sentence from any one text, never a text's opening sentence), so they share vocabulary, names and
style with the originals, and are embedded for real like any article; nothing is written into the
repository. The index is cached under --cache so later runs (and
provenance_latency.py) reuse it.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "detect"


def load_pairs(data_dir: Path = DATA) -> tuple[dict[str, dict], list[dict]]:
    """Human originals by pair_id, and the machine texts made from them."""
    originals: dict[str, dict] = {}
    machines: list[dict] = []
    for name in ("open-generators.jsonl", "closed-generators.jsonl"):
        path = data_dir / name
        if not path.is_file():
            sys.exit(f"missing {path}: this benchmark needs ../shared/data")
        for line in path.open(encoding="utf-8"):
            record = json.loads(line)
            if record["label"] == "human":
                originals.setdefault(record["pair_id"], record)
            else:
                machines.append(record)
    return originals, [m for m in machines if m["pair_id"] in originals]


def strip_shared_opening(machine: str, original: str) -> str:
    """The machine text after the words it shares with the start of its original."""
    a, b = machine.split(), original.split()
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return " ".join(a[n:])


def synthesise_distractors(originals: list[dict], count: int, seed: int = 13) -> list[dict]:
    from unspun.article.sentences import split_sentences

    rng = random.Random(seed)
    pools = []
    for record in originals:
        text = record["text"]
        # Not the opening sentence: a distractor that starts with an original's own first sentence
        # would be a copy of that original's lead, not another article.
        sentences = [text[s:e] for s, e in split_sentences(text)[1:] if e - s > 30]
        if sentences:
            pools.append((record["pair_id"], sentences))
    distractors = []
    for i in range(count):
        picked = rng.sample(range(len(pools)), k=rng.randint(4, 8))
        text = " ".join(rng.choice(pools[p][1]) for p in picked)
        distractors.append(
            {"id": f"synthetic-{i:05d}", "text": text, "from": [pools[p][0] for p in picked]}
        )
    return distractors


def approximate_distractors(index, originals: dict[str, dict], distractors: list[dict]) -> int:  # noqa: ANN001
    """Store distractors without running the encoder: text, BM25 terms, entities, figures and
    MinHash are computed from the synthetic text exactly; the embedding is the normalised mean of
    the embeddings of the originals its sentences were taken from."""
    import numpy as np

    from unspun.provenance.fingerprint import article_features, content_hash, minhash
    from unspun.provenance.store import PreparedDoc, SourceDoc

    vectors: dict[str, np.ndarray] = {}
    for batch in index.store.iter_prepared():
        for prepared in batch:
            if prepared.doc.id in originals:
                vectors[prepared.doc.id] = prepared.embedding
    prepared_docs = []
    for d in distractors:
        mean = np.mean([vectors[o] for o in d["from"]], axis=0)
        prepared_docs.append(
            PreparedDoc(
                doc=SourceDoc(id=d["id"], text=d["text"]),
                content_hash=content_hash(d["text"]),
                embedding=(mean / np.linalg.norm(mean)).astype(np.float32),
                minhash=minhash(d["text"]),
                features=article_features(None, d["text"]),
            )
        )
    return index.add_prepared(prepared_docs)


def build_index(location: str, total: int, *, quiet: bool = False, approximate: bool = False):  # noqa: ANN201
    """Open (or build once) the benchmark index with all originals plus distractors."""
    from unspun.provenance.index import SourceIndex
    from unspun.provenance.store import SourceDoc

    originals, _ = load_pairs()
    index = SourceIndex(location, create=True)
    wanted = max(total, len(originals))
    have = index.store.count()
    if have >= wanted:
        return index, originals
    distractors = synthesise_distractors(list(originals.values()), wanted - len(originals))
    if approximate:
        index.add([SourceDoc(id=r["pair_id"], text=r["text"]) for r in originals.values()])
        present = _ids(index, set(index.store.keys_for_ids([d["id"] for d in distractors])))
        missing = [d for d in distractors if d["id"] not in present]
        started = time.perf_counter()
        added = approximate_distractors(index, originals, missing)
        print(
            f"approximated {added} distractor embeddings in {time.perf_counter() - started:.0f} s"
        )
        return index, originals
    docs = [SourceDoc(id=r["pair_id"], text=r["text"]) for r in originals.values()]
    docs += [SourceDoc(id=d["id"], text=d["text"]) for d in distractors]

    def progress(seen: int, added: int) -> None:
        if not quiet and seen % 1024 == 0:
            print(f"  indexed {seen}/{len(docs)}", file=sys.stderr, flush=True)

    result = index.add(docs, batch_size=128, progress=progress)
    print(
        f"indexing: {result.added} new articles in {result.seconds:.0f} s = "
        f"{result.added / max(result.seconds, 1e-9):.1f} articles/s",
        flush=True,
    )
    return index, originals


def _ids(index, keys: set[int]) -> set[str]:  # noqa: ANN001
    return {stored.doc.id for stored in index.store.fetch(sorted(keys))}


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

    index, originals = build_index(args.index, args.total, approximate=args.approximate)
    _, machines = load_pairs()
    queries = []
    if args.rewrites:
        from claims_eval import reword

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
        from train_reranker import is_heldout

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

"""Trace latency (p50/p95) on the embedded index, and on PostgreSQL with the same articles.

    taskset -c 0,1 python benchmarks/provenance_latency.py [--index DIR] [--postgres URL]

Uses the index provenance_recall.py built (10,000 articles); with --postgres the same articles
(and their stored embeddings, so nothing is embedded again) are copied into that database first and
the copy's throughput is printed. Latency is the whole ``trace`` call: embedding the query with
MiniLM, BM25 and vector search, fetching candidates and re-ranking them.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from shared_data import load_pairs, strip_shared_opening  # noqa: E402


def measure(label: str, location: str, queries: list[str]) -> None:
    from unspun.provenance.index import SourceIndex
    from unspun.provenance.trace import Tracer

    index = SourceIndex(location)
    tracer = Tracer(index)
    for text in queries[:5]:  # warm-up: model weights, SQLite pages, the vector matrix
        tracer.trace(None, text)
    total, encode, rank = [], [], []
    for text in queries:
        started = time.perf_counter()
        query = tracer.prepare(None, text)
        prepared = time.perf_counter()
        tracer.rank(query, top=5)
        done = time.perf_counter()
        total.append(done - started)
        encode.append(prepared - started)
        rank.append(done - prepared)

    def pct(values: list[float], q: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    print(
        f"{label}: {index.store.count()} articles, {len(queries)} traces: "
        f"p50 {statistics.median(total) * 1000:.0f} ms, p95 {pct(total, 0.95):.0f} ms "
        f"(query fingerprint+embedding p50 {statistics.median(encode) * 1000:.0f} ms, "
        f"search+re-rank p50 {statistics.median(rank) * 1000:.0f} ms, p95 {pct(rank, 0.95):.0f} ms)"
    )
    index.close()


def copy_to_postgres(sqlite_dir: str, url: str) -> None:
    from unspun.errors import SourceIndexError
    from unspun.provenance.index import SourceIndex
    from unspun.provenance.postgres import PostgresStore
    from unspun.provenance.sqlite import SqliteStore

    source = SqliteStore(Path(sqlite_dir))
    try:
        target = PostgresStore(url, create=True)
    except SourceIndexError:  # a copy made by an older unspun: drop it and copy again
        import psycopg

        with psycopg.connect(url, autocommit=True) as db:
            for table in ("unspun_docs", "unspun_meta", "unspun_sentence_vectors"):
                db.execute(f"DROP TABLE IF EXISTS {table}")
        target = PostgresStore(url, create=True)
    if target.count() >= source.count():
        return
    target.drop()
    target.close()
    index = SourceIndex(url, create=True)
    started = time.perf_counter()
    added = 0
    for batch in source.iter_prepared():
        added += index.add_prepared(batch)
    seconds = time.perf_counter() - started
    print(
        f"postgresql: stored {added} pre-embedded articles in {seconds:.1f} s "
        f"({added / seconds:.0f} articles/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="/tmp/unspun-bench/provenance-v2")
    parser.add_argument(
        "--postgres", help="postgresql:// URL to copy the index into and measure too"
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if not (Path(args.index) / "index.sqlite").is_file():
        sys.exit(f"no index at {args.index}: run benchmarks/provenance_recall.py first")
    originals, machines = load_pairs()
    texts = [strip_shared_opening(m["text"], originals[m["pair_id"]]["text"]) for m in machines]
    texts = [t for t in texts if len(t.split()) >= 20]
    random.Random(3).shuffle(texts)
    queries = texts[: args.queries]
    measure("sqlite", args.index, queries)
    if args.postgres:
        copy_to_postgres(args.index, args.postgres)
        measure("postgresql", args.postgres, queries)


if __name__ == "__main__":
    main()

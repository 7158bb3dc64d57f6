"""Headline tracing: articles that keep a real story's headline over an invented body, traced
against an index of the genuine stories plus distractors; prints recall@1 and recall@5.

    python benchmarks/headline_trace.py [--total 2200] [--index DIR] [--split heldout|train|all]
        [--hand-weights] [--threads 1]

How the cases are made (nothing is written into the repository; the index is cached under /tmp):

* Stories. The human texts of ../shared/data/detect carry no headline, so each gets one made from
  its first sentence, the way a news headline compresses the lead: a leading time phrase and a
  trailing clause are cut, at most 12 words are kept (``shared_data.headline_for``). Every human
  original of every domain is indexed with its headline as title, plus synthetic distractors
  (sentences of different human texts recombined, as in provenance_recall.py) titled the same way
  from their own first sentence, so every indexed article has a headline.
* Cases. For each human BBC story A, two spun articles: the title is A's headline kept verbatim, a
  light paraphrase of it (synonyms, articles dropped, the tail shortened), or an invented clickbait
  title with A's headline as the sub-headline; the body is machine text about another story B
  (B != A, a different storyline): a current model's continuation, rewrite or content-farm spin of
  B (detect/current-news.jsonl), an older generator's continuation of B with the opening it shares
  with B removed (open-generators.jsonl), or a machine-written fiction story (stories-reddit).
  B's human original is indexed too, so the body points at B: the article is traced correctly
  only when the headline wins over the body. The answer is A.
* Controls (reported apart): an invented clickbait title over a machine text about the story
  itself, so the headline says nothing and the body has to decide.
* Split. A case belongs to the held-out side when both A and B are held-out pairs
  (shared_data.is_heldout), to the training side when both are training pairs. The headline
  stage of the re-ranker is fitted on training-side cases (train_reranker.py --headline); this
  benchmark reports held-out cases by default.

Also printed: how the body alone (no title) traces (its recall of A, and how often it picks B),
which shows why the headline has to count.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from shared_data import build_headline_index, make_cases  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=2200, help="articles in the index")
    parser.add_argument("--index", default="/tmp/unspun-bench/headline-v1")
    parser.add_argument("--split", choices=["heldout", "train", "all"], default="heldout")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--hand-weights", action="store_true")
    parser.add_argument("--no-body-only", action="store_true", help="skip the body-only pass")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from unspun.provenance.trace import Tracer

    index = build_headline_index(args.index, args.total)
    cases = make_cases(args.split, controls=True)
    tracer = Tracer(index, hand_weights=args.hand_weights)
    hits1 = hits5 = body1 = body_to_b = 0
    by_kind: dict[str, list[int]] = {}
    latencies = []
    controls = [c for c in cases if c.title_kind == "control"]
    cases = [c for c in cases if c.title_kind != "control"]
    for case in cases:
        started = time.perf_counter()
        ranked = tracer.trace(case.title, case.body, subtitle=case.subtitle, top=5)
        latencies.append(time.perf_counter() - started)
        ids = [c.stored.doc.id for c in ranked]
        at1 = bool(ids) and ids[0] == case.story
        hits1 += at1
        hits5 += case.story in ids
        for kind in (case.title_kind, case.body_kind.split("/")[0]):
            stats = by_kind.setdefault(kind, [0, 0])
            stats[0] += 1
            stats[1] += at1
        if not args.no_body_only:
            alone = [c.stored.doc.id for c in tracer.trace(None, case.body, top=1)]
            body1 += bool(alone) and alone[0] == case.story
            body_to_b += bool(alone) and alone[0] == case.body_story
    n = len(cases)
    scorer = (
        f"learned re-ranker v{tracer.reranker.version}"
        + (" + headline stage" if getattr(tracer.reranker, "headline", None) else "")
        if tracer.reranker is not None
        else "hand-set weights"
    )
    print(f"index: {index.store.count()} articles at {args.index}")
    print(f"cases: {n} ({args.split} side), scoring: {scorer}")
    print(f"recall@1 = {hits1 / n:.4f}   recall@5 = {hits5 / n:.4f}")
    for kind, (count, h1) in sorted(by_kind.items()):
        print(f"  {kind:14s} n={count:4d}  recall@1={h1 / count:.4f}")
    if not args.no_body_only:
        print(
            f"body alone (no title): recall@1 of the headline's story {body1 / n:.4f}; "
            f"traced to the body's own story {body_to_b / n:.4f}"
        )
    control_hits = control_body = 0
    for case in controls:
        ranked = tracer.trace(case.title, case.body, top=1)
        control_hits += bool(ranked) and ranked[0].stored.doc.id == case.story
        alone = tracer.trace(None, case.body, top=1)
        control_body += bool(alone) and alone[0].stored.doc.id == case.story
    m = max(1, len(controls))
    print(
        f"controls (invented clickbait title over a machine text about the story itself): "
        f"n={len(controls)}  recall@1={control_hits / m:.4f} (body alone {control_body / m:.4f})"
    )
    latencies.sort()
    print(f"trace latency: p50 {latencies[n // 2] * 1000:.0f} ms, "
          f"p95 {latencies[int(0.95 * (n - 1))] * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()

"""Train the trace re-ranker (unspun/data/reranker.json) on the shared pairs and report how it
compares with the hand-set weights on held-out pairs, overall, per domain and leave-one-domain-out.

    python benchmarks/train_reranker.py [--index DIR] [--threads 1] [--write]
    python benchmarks/train_reranker.py --headline [--headline-index DIR] [--write]

Queries are the machine texts of ../shared/data/detect with the opening they share with their
original removed (as in provenance_recall.py); each is traced against the benchmark index that
provenance_recall.py builds (originals + distractors) and every re-ranked candidate becomes one
row (label: it is the original). The model is a standardised logistic regression, by default
pairwise (source vs. each other candidate of its query) with Platt scaling so tracing reports a
0..1 probability; ``--objective pointwise`` fits the plain per-candidate model. Pairs are
split 70/30 by a hash of pair_id (``is_heldout``): the shipped weights are fitted on the 70 % side
only, so provenance_recall.py can report recall on pairs the weights never saw. The candidate
features are cached under /tmp (``--cache``); only the model weights (means, scales,
coefficients) are written into the repository, never texts.

``--headline`` fits the headline stage instead (rerank.HeadlineStage: the body model's logit
weighed against the headline's similarity) on the training-side cases of headline_trace.py
(articles that kept story A's headline over a machine body about story B, with A and B both
training pairs, and controls whose clickbait title says nothing), disjoint from the held-out
cases that headline_trace.py reports; ``--write`` then replaces only the ``headline`` block of
reranker.json. Refit it whenever the body model changes:
it takes the body model's logit as a feature.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from shared_data import (  # noqa: E402
    HELDOUT_SHARE,
    build_headline_index,
    build_provenance_index,
    is_heldout,
    machine_queries,
    make_cases,
)

REPO = Path(__file__).resolve().parent.parent
VERSION = "1"


def collect(index_dir: str, cache: Path, total: int) -> dict[str, np.ndarray]:
    """Candidate features of every query (cached: a full pass takes ~10 minutes on one core)."""
    from unspun.provenance.rerank import FEATURES
    from unspun.provenance.trace import Tracer, hand_score

    if cache.is_file():
        data = dict(np.load(cache, allow_pickle=False))
        if list(data["features"]) == FEATURES:
            return data
        print(f"{cache} was made with other features; recomputing", flush=True)
    index, _ = build_provenance_index(index_dir, total)
    tracer = Tracer(index, hand_weights=True)
    queries = machine_queries()
    rows, labels, hand, qids = [], [], [], []
    pair_ids, domains, generators = [], [], []
    started = time.perf_counter()
    for q, (record, text) in enumerate(queries):
        stored, parts, x = tracer.candidates(tracer.prepare(None, text))
        rows.append(x)
        labels += [d.doc.id == record["pair_id"] for d in stored]
        hand += [hand_score(p) for p in parts]
        qids += [q] * len(stored)
        pair_ids.append(record["pair_id"])
        domains.append(record["domain"])
        generators.append(record["generator"])
        if (q + 1) % 250 == 0:
            rate = (q + 1) / (time.perf_counter() - started)
            print(f"  {q + 1}/{len(queries)} queries ({rate:.1f}/s)", file=sys.stderr, flush=True)
    data = {
        "x": np.vstack(rows),
        "label": np.asarray(labels, dtype=bool),
        "hand": np.asarray(hand),
        "qid": np.asarray(qids, dtype=np.int64),
        "pair_id": np.asarray(pair_ids),
        "domain": np.asarray(domains),
        "generator": np.asarray(generators),
        "features": np.asarray(FEATURES),
    }
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **data)
    return data


def collect_headline(index_dir: str, total: int, cache: Path) -> dict[str, np.ndarray]:
    """What the headline stage is computed from, for every candidate of every training-side case
    of headline_trace.py: the body model's logit, the headline cosine and word share (a few
    minutes; cached under /tmp, keyed by the body model's weights)."""
    import json

    from unspun.provenance.rerank import Reranker, shipped_path
    from unspun.provenance.trace import Tracer

    try:
        shipped = json.loads(shipped_path().read_text(encoding="utf-8"))
        shipped.pop("headline", None)  # the stage being refitted, perhaps for other features
        base = Reranker.from_json(shipped)
    except (OSError, ValueError, KeyError, TypeError):
        sys.exit("the shipped body re-ranker cannot be read; train it first (without --headline)")
    key = hashlib.sha1(np.r_[base.means, base.scales, base.coef, base.intercept]).hexdigest()
    if cache.is_file():
        data = dict(np.load(cache, allow_pickle=False))
        if str(data["body_model"]) == key:
            return data
    index = build_headline_index(index_dir, total)
    tracer = Tracer(index, hand_weights=True)
    cases = make_cases("train", controls=True)
    logits, cosines, lexical, labels, qids, stories, kinds = [], [], [], [], [], [], []
    for q, case in enumerate(cases):
        query = tracer.prepare(case.title, case.body, subtitle=case.subtitle)
        stored, parts, x = tracer.candidates(query)
        logits += list(base.logit(x))
        cosines += [p["headline_cosine"] for p in parts]
        lexical += [p["headline_words"] for p in parts]
        labels += [d.doc.id == case.story for d in stored]
        qids += [q] * len(stored)
        stories.append(case.story)
        kinds.append(case.title_kind)
    data = {
        "logit": np.asarray(logits),
        "cosine": np.asarray(cosines),
        "words": np.asarray(lexical),
        "label": np.asarray(labels, dtype=bool),
        "qid": np.asarray(qids, dtype=np.int64),
        "pair_id": np.asarray(stories),
        "kind": np.asarray(kinds),
        "body_model": np.asarray(key),
    }
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **data)
    return data


def train_headline(args: argparse.Namespace) -> int:
    """Fit and (with --write) ship the headline stage; see the module docstring."""
    import json

    from unspun.provenance.rerank import (
        HEADLINE_FEATURES,
        HeadlineStage,
        headline_matrix,
        shipped_path,
    )

    data = collect_headline(
        args.headline_index, args.headline_total, Path(args.cache).with_name("headline-raw.npz")
    )
    qid, y = data["qid"], data["label"]
    n_queries = len(data["pair_id"])
    boundaries = np.searchsorted(qid, np.arange(n_queries + 1))
    data["rows_of"] = [np.arange(boundaries[q], boundaries[q + 1]) for q in range(n_queries)]
    x = np.vstack(
        [
            headline_matrix(data["logit"][r], data["cosine"][r], data["words"][r])
            for r in data["rows_of"]
        ]
    )
    covered = np.asarray([y[r].any() for r in data["rows_of"]])
    print(f"{n_queries} training-side cases, {len(y)} candidates; the headline's story among the "
          f"candidates for {covered.mean():.3f}")  # fmt: skip
    all_q = np.arange(n_queries)
    controls = data["kind"] == "control"
    body = recall(data["logit"], data, all_q[~controls])[0]
    print(f"body model alone: recall@1 {body:.4f} (controls "
          f"{recall(data['logit'], data, all_q[controls])[0]:.4f})")  # fmt: skip
    fold = np.asarray([int(hashlib.sha1(p.encode()).hexdigest()[8:16], 16) % 3 for p in
                       data["pair_id"]])  # fmt: skip
    results = {}
    for c in (0.01, 0.1, 1.0, 10.0):
        r1 = []
        for k in range(3):
            train_rows = fold[qid] != k
            fitted = fit(x[train_rows], y[train_rows], qid[train_rows], c, "pointwise")
            r1.append(recall(predict(fitted, x), data, all_q[fold == k])[0])
        results[c] = float(np.mean(r1))
    c = args.c or max(results, key=lambda k: results[k])
    print("3-fold CV by story on the training cases (recall@1): " + ", ".join(
        f"{k:g}: {v:.4f}" for k, v in results.items()) + f" -> C={c:g}")  # fmt: skip
    means, scales, coef, intercept = fit(x, y, qid, c, "pointwise")
    print("coefficients (standardised features):")
    for name, weight in zip(HEADLINE_FEATURES, coef, strict=True):
        print(f"  {name:22s} {weight:+.3f}")
    stage = HeadlineStage(means=means, scales=scales, coef=coef, intercept=intercept)
    fitted = predict((means, scales, coef, intercept), x)
    print(f"fitted on all training cases: recall@1 {recall(fitted, data, all_q[~controls])[0]:.4f}"
          f" (controls {recall(fitted, data, all_q[controls])[0]:.4f})")  # fmt: skip
    if args.write:
        path = REPO / "src" / "unspun" / "data" / "reranker.json"
        shipped = json.loads(path.read_text(encoding="utf-8"))
        shipped["headline"] = stage.as_json(
            {
                "trained_on": f"{n_queries} training-side cases of benchmarks/headline_trace.py "
                "(story A's headline over a machine body about story B, A and B training pairs; "
                "and controls: a clickbait title over a machine text about the story itself)",
                "objective": "pointwise",
                "C": c,
            }
        )
        path.write_text(json.dumps(shipped, indent=1) + "\n", encoding="utf-8")
        print(f"wrote the headline stage into {path} (loads from {shipped_path()})")
    return 0


def recall(scores: np.ndarray, data: dict, queries: np.ndarray) -> tuple[float, float]:
    """recall@1 and @5 over ``queries`` (a query whose source is no candidate counts as a miss)."""
    hits1 = hits5 = 0
    for q in queries:
        rows = data["rows_of"][q]
        if len(rows) == 0:
            continue
        order = rows[np.argsort(-scores[rows], kind="stable")]
        hits1 += bool(data["label"][order[0]])
        hits5 += bool(data["label"][order[:5]].any())
    n = max(1, len(queries))
    return hits1 / n, hits5 / n


def fit(x: np.ndarray, y: np.ndarray, qid: np.ndarray, c: float, objective: str):  # noqa: ANN201
    """Standardise, then fit a logistic model: ``pointwise`` (is this candidate the source?) or
    ``pairwise`` (is the source ahead of this other candidate of the same query?, which targets
    the ranking itself); a pairwise score is then mapped to a probability by a 1-D logistic fit
    (Platt scaling), so the model is one standardised linear score in both cases.

    Returns (means, scales, coef, intercept)."""
    from sklearn.linear_model import LogisticRegression

    means = x.mean(axis=0)
    scales = x.std(axis=0)
    scales[scales < 1e-9] = 1.0
    z = (x - means) / scales
    if objective == "pointwise":
        model = LogisticRegression(C=c, max_iter=2000).fit(z, y)
        return means, scales, model.coef_[0], float(model.intercept_[0])
    starts = np.flatnonzero(np.r_[True, qid[1:] != qid[:-1]])
    ends = np.r_[starts[1:], len(qid)]
    diffs = []
    for a, b in zip(starts, ends, strict=True):
        label = y[a:b]
        for p in np.flatnonzero(label):
            diffs.append(z[a + p] - z[a:b][~label])
    pairs = np.vstack(diffs)
    model = LogisticRegression(C=c, fit_intercept=False, max_iter=2000)
    model.fit(np.vstack([pairs, -pairs]), np.r_[np.ones(len(pairs)), np.zeros(len(pairs))])
    score = z @ model.coef_[0]
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(score[:, None], y)
    slope = float(platt.coef_[0, 0])
    return means, scales, model.coef_[0] * slope, float(platt.intercept_[0])


def predict(fitted, x: np.ndarray) -> np.ndarray:  # noqa: ANN001
    means, scales, coef, intercept = fitted
    return ((x - means) / scales) @ coef + intercept


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="/tmp/unspun-bench/provenance-v2")
    parser.add_argument("--total", type=int, default=10000)
    parser.add_argument("--cache", default="/tmp/unspun-bench/reranker-features.npz")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--c", type=float, default=0.0, help="regularisation (0 = pick by CV)")
    parser.add_argument("--objective", choices=["pairwise", "pointwise"], default="pairwise")
    parser.add_argument(
        "--write", action="store_true", help="write the weights to src/unspun/data/reranker.json"
    )
    parser.add_argument(
        "--without",
        default="",
        help="comma-separated features to leave out (their weights are zero): an ablation; "
        "not with --write",
    )
    parser.add_argument(
        "--headline", action="store_true", help="fit the headline stage (see the docstring)"
    )
    parser.add_argument("--headline-index", default="/tmp/unspun-bench/headline-v1")
    parser.add_argument("--headline-total", type=int, default=2200)
    args = parser.parse_args()
    if args.headline:
        import torch

        torch.set_num_threads(args.threads)
        return train_headline(args)
    if args.without and args.write:
        parser.error("--without is an ablation; the shipped model uses every feature")

    import torch

    torch.set_num_threads(args.threads)
    from unspun.provenance.rerank import FEATURES, Reranker, shipped_path

    data = collect(args.index, Path(args.cache), args.total)
    n_queries = len(data["pair_id"])
    qid = data["qid"]
    boundaries = np.searchsorted(qid, np.arange(n_queries + 1))
    data["rows_of"] = [np.arange(boundaries[q], boundaries[q + 1]) for q in range(n_queries)]
    heldout = np.asarray([is_heldout(p) for p in data["pair_id"]])
    train_q = np.flatnonzero(~heldout)
    test_q = np.flatnonzero(heldout)
    row_heldout = heldout[qid]
    x, y = data["x"].copy(), data["label"]
    for name in filter(None, (n.strip() for n in args.without.split(","))):
        x[:, FEATURES.index(name)] = 0.0  # constant: standardised to 0, so it carries nothing
    covered = np.asarray([y[r].any() for r in data["rows_of"]])
    print(
        f"{n_queries} queries ({len(train_q)} train / {len(test_q)} held out by pair), "
        f"{len(y)} candidates; source among the candidates for {covered.mean():.3f} of queries"
    )

    c = args.c
    if not c:
        # 3 folds by pair inside the training side only: the held-out side is not looked at.
        fold = np.asarray([int(hashlib.sha1(p.encode()).hexdigest()[8:16], 16) % 3 for p in
                           data["pair_id"]])  # fmt: skip
        results = {}
        for candidate_c in (0.01, 0.1, 1.0, 10.0):
            r1 = []
            for k in range(3):
                inner_test = train_q[fold[train_q] == k]
                inner_train = np.isin(qid, train_q[fold[train_q] != k])
                fitted = fit(
                    x[inner_train], y[inner_train], qid[inner_train], candidate_c, args.objective
                )
                r1.append(recall(predict(fitted, x), data, inner_test)[0])
            results[candidate_c] = float(np.mean(r1))
        c = max(results, key=lambda k: results[k])
        print("C by 3-fold CV on the training pairs (recall@1): " + ", ".join(
            f"{k:g}: {v:.4f}" for k, v in results.items()) + f" -> C={c:g}")  # fmt: skip

    fitted = fit(x[~row_heldout], y[~row_heldout], qid[~row_heldout], c, args.objective)
    learned = predict(fitted, x)
    hand = data["hand"]
    print(f"\nheld-out pairs ({len(test_q)} queries)        hand r@1  r@5   learned r@1  r@5")
    h1, h5 = recall(hand, data, test_q)
    l1, l5 = recall(learned, data, test_q)
    print(f"  {'all':30s} {h1:.4f} {h5:.4f}    {l1:.4f} {l5:.4f}")
    for domain in sorted(set(data["domain"])):
        qs = test_q[data["domain"][test_q] == domain]
        h1, h5 = recall(hand, data, qs)
        l1, l5 = recall(learned, data, qs)
        print(f"  {domain + f' (n={len(qs)})':30s} {h1:.4f} {h5:.4f}    {l1:.4f} {l5:.4f}")

    print("\nleave-one-domain-out: train on the other domains' training pairs, test on this "
          "domain's held-out pairs")  # fmt: skip
    for domain in sorted(set(data["domain"])):
        train_rows = ~row_heldout & (data["domain"][qid] != domain)
        lodo = predict(fit(x[train_rows], y[train_rows], qid[train_rows], c, args.objective), x)
        qs = test_q[data["domain"][test_q] == domain]
        h1, h5 = recall(hand, data, qs)
        l1, l5 = recall(lodo, data, qs)
        print(f"  {domain + f' (n={len(qs)})':30s} {h1:.4f} {h5:.4f}    {l1:.4f} {l5:.4f}")

    means, scales, coef, intercept = fitted
    print(f"\n{args.objective} coefficients (standardised features):")
    weights = zip(FEATURES, coef, strict=True)
    for name, weight in sorted(weights, key=lambda t: -abs(t[1])):
        print(f"  {name:22s} {weight:+.3f}")

    # The score tracing reports: how the old evidence threshold (0.3) reads on held-out queries.
    probability = 1 / (1 + np.exp(-learned))
    for label, score in (("hand", hand), ("learned", probability)):
        top_true = top_false = 0
        for q in test_q:
            rows = data["rows_of"][q]
            if len(rows) == 0:
                continue
            best = rows[np.argmax(score[rows])]
            if data["label"][best]:
                top_true += score[best] >= 0.3
            else:
                top_false += score[best] >= 0.3
        # An article whose source is not indexed: the same queries without their source.
        absent = [
            score[rows][~data["label"][rows]].max()
            for rows in (data["rows_of"][q] for q in test_q)
            if (~data["label"][rows]).any()
        ]
        print(
            f"{label}: top candidate scored >= 0.3 for {top_true / len(test_q):.3f} of held-out "
            f"queries when it is the source, {top_false / len(test_q):.3f} when it is not; "
            f"without the source (its other candidates) the best scored >= 0.3 for "
            f"{np.mean(np.asarray(absent) >= 0.3):.3f} (median {np.median(absent):.2f})"
        )

    if args.write:
        from unspun.provenance.rerank import load_reranker

        # The shipped headline stage is kept; it takes this model's logit, so refit it after.
        shipped = load_reranker()
        reranker = Reranker(
            means=means, scales=scales, coef=coef, intercept=intercept, version=VERSION,
            headline=shipped.headline if shipped is not None else None,
        )  # fmt: skip
        if reranker.headline is not None:
            print("kept the shipped headline stage: refit it with --headline --write")
        extra = {
            "trained_on": "machine continuations of ../shared/data/detect (shared opening "
            "removed) against originals + synthetic distractors (benchmarks/train_reranker.py)",
            "split": f"pairs with sha1(pair_id)[:8]/0xFFFFFFFF < {HELDOUT_SHARE} held out",
            "objective": args.objective,
            "C": c,
        }
        path = REPO / "src" / "unspun" / "data" / "reranker.json"
        import json

        path.write_text(json.dumps(reranker.as_json(extra), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {path} (loads from {shipped_path()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

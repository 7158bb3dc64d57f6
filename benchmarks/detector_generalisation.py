"""Leave-one-generator-out and leave-one-domain-out evaluation of the supervised detector recipe on
../shared/data/detect (the recipe `unspun train` uses: embeddings + style features + logistic head).

Pairs are split 70/30 by pair_id; for each held-out generator (domain) the head is trained on the
70 % side without that generator (domain) and tested on the 30 % side's texts of it plus the human
texts of the same domains. Prints a table and the averages quoted in the README.

    python benchmarks/detector_generalisation.py [--data DIR] [--cache FILE] [--encoder ID]
    python benchmarks/detector_generalisation.py --adapt [--results FILE]

With --adapt each fold also trains the low-rank adapters on its training side (the recipe
`unspun train` ships), which takes minutes per fold; finished folds are kept in --results and
skipped when the script runs again. Heads also train on edited copies of the training texts
(typos, dropped articles), as `unspun train` does; --no-augment gives the recipe without them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from unspun.detect.data import read_labelled
from unspun.detect.evaluate import auroc_interval
from unspun.detect.supervised.adapter import RANK, TRAIN_LENGTH
from unspun.detect.supervised.embedding import PoolingEncoder
from unspun.detect.supervised.train import (
    Featurised,
    add_edited_copies,
    default_layers,
    featurise,
    fit_document_head,
    pair_key,
)
from unspun.models.encoder import DEFAULT_ENCODER

TEST_SHARE = 0.3


def tpr_at_fpr(scores: np.ndarray, labels: np.ndarray, fpr: float = 0.01) -> float:
    human = np.sort(scores[~labels])[::-1]
    allowed = math.floor(fpr * len(human))
    threshold = human[allowed] if allowed < len(human) else -np.inf
    return float((scores[labels] > threshold).mean())


def main() -> int:
    from sklearn.metrics import roc_auc_score

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/detect")
    )
    parser.add_argument("--cache", default="benchmarks/out/generalisation-features.npz")
    parser.add_argument("--encoder", default=DEFAULT_ENCODER, help="a 6-block encoder")
    parser.add_argument("--features", choices=["both", "embedding", "style"], default="both")
    parser.add_argument("--adapt", action="store_true", help="train adapters in each fold")
    parser.add_argument(
        "--no-augment",
        dest="augment",
        action="store_false",
        help="fit heads without edited copies of the training texts (the recipe before them)",
    )
    parser.add_argument(
        "--results",
        help="with --adapt: finished folds (default: benchmarks/out/generalisation-adapted"
        "[-edited].json)",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--train-length", type=int, default=TRAIN_LENGTH, help="with --adapt: tokens per text"
    )
    parser.add_argument(
        "--rank", type=int, default=RANK, help="with --adapt: adapter rank (0: full-rank delta)"
    )
    parser.add_argument(
        "--learning-rate", type=float, help="with --adapt: adapter LR (default: the recipe's)"
    )
    parser.add_argument(
        "--domains-first", action="store_true", help="with --adapt: run the domain folds first"
    )
    parser.add_argument(
        "--only",
        help="with --adapt: run only these folds, e.g. 'generator: gpt2-xl,domain: wikipedia'",
    )
    args = parser.parse_args()

    files = sorted(Path(args.data).glob("*.jsonl"))
    if not files:
        print(f"no JSONL files in {args.data}", file=sys.stderr)
        return 2
    records = read_labelled(files)
    labels = np.asarray([r.is_machine for r in records])
    generators = np.asarray([r.generator for r in records])
    domains = np.asarray([r.domain for r in records])
    test = np.asarray(
        [
            int(hashlib.sha1(pair_key(r).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < TEST_SHARE
            for r in records
        ]
    )

    if args.adapt:
        return adapted_folds(records, labels, generators, domains, test, args)
    cache = Path(args.cache)
    edited_cache = cache.with_name(cache.stem + "-edited.npz")
    encoder = None
    if cache.is_file():
        inputs = np.load(cache)["documents"]
    else:
        started = time.perf_counter()
        encoder = PoolingEncoder(args.encoder, quantize=True, layers=default_layers(6))
        inputs = featurise(encoder, normalised_texts(records), passages=False).documents
        print(f"featurised {len(records)} texts in {time.perf_counter() - started:.0f} s")
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, documents=inputs)
    features = Featurised(inputs, np.zeros((0, inputs.shape[1])), np.zeros(0, dtype=np.int64))
    if args.augment and edited_cache.is_file():
        features.edited = np.load(edited_cache)["edited"]
    elif args.augment:
        started = time.perf_counter()
        encoder = encoder or PoolingEncoder(args.encoder, quantize=True, layers=default_layers(6))
        add_edited_copies(features, encoder, normalised_texts(records), np.flatnonzero(~test))
        print(f"featurised edited copies in {time.perf_counter() - started:.0f} s")
        np.savez(edited_cache, edited=features.edited)
    dim = inputs.shape[1]
    style_dims = 20  # style features + log length at the end of each row
    columns = {
        "both": slice(None),
        "embedding": slice(0, dim - style_dims),
        "style": slice(dim - style_dims, dim),
    }[args.features]
    features.documents = features.documents[:, columns]
    if features.edited is not None:
        features.edited = features.edited[:, columns]
    inputs = features.documents

    rows = folds(generators, domains, test)
    print(f"{'held out':<30} {'n test':>7} {'AUROC':>7} {'95% interval':>13} {'TPR@1%FPR':>10}")
    results: dict[str, list[tuple[float, float]]] = {"generator": [], "domain": []}
    for kind, name, train, evaluate in rows:
        head = fit_document_head(features, labels, np.flatnonzero(train))
        scores = head.logits(inputs[evaluate])
        auroc = float(roc_auc_score(labels[evaluate], scores))
        tpr = tpr_at_fpr(scores, labels[evaluate])
        results[kind].append((auroc, tpr))
        print(
            f"{kind + ': ' + name:<30} {int(evaluate.sum()):>7} {auroc:>7.3f} "
            f"{interval_text(scores, labels[evaluate]):>13} {tpr:>10.3f}"
        )
    print(json.dumps(summarise(results)))
    return 0


def normalised_texts(records) -> list[str]:  # noqa: ANN001
    from unspun.normalize import normalize

    return [normalize(r.text).text for r in records]


def interval_text(scores: np.ndarray, labels: np.ndarray) -> str:
    """DeLong's 95% interval of a fold's AUROC: how much of a gap between recipes is noise."""
    interval = auroc_interval(scores[~labels], scores[labels])
    return "n/a" if interval is None else f"{interval[0]:.3f}-{interval[1]:.3f}"


def folds(generators: np.ndarray, domains: np.ndarray, test: np.ndarray) -> list[tuple]:
    """(kind, name, train mask, evaluation mask) for every held-out generator and domain."""
    rows = []
    for generator in sorted(set(generators) - {"human"}):
        train = ~test & (generators != generator)
        its_domains = sorted(set(domains[generators == generator]))
        evaluate = test & (
            (generators == generator) | ((generators == "human") & np.isin(domains, its_domains))
        )
        rows.append(("generator", generator, train, evaluate))
    for domain in sorted(set(domains)):
        rows.append(("domain", domain, ~test & (domains != domain), test & (domains == domain)))
    return rows


def summarise(results: dict[str, list[tuple[float, float]]]) -> dict:
    return {
        f"leave_one_{kind}_out": {
            "auroc": round(float(np.mean([a for a, _ in values])), 3),
            "tpr_at_1pct_fpr": round(float(np.mean([t for _, t in values])), 3),
        }
        for kind, values in results.items()
        if values
    }


def adapted_folds(records, labels, generators, domains, test, args) -> int:  # noqa: ANN001
    """The shipped recipe fold by fold: adapters + embeddings + style features + head."""
    import tempfile

    import torch
    from sklearn.metrics import roc_auc_score

    from unspun.detect.supervised.adapter import train_adapter

    torch.set_num_threads(args.threads)
    texts = normalised_texts(records)
    layers = default_layers(6)
    default = "generalisation-adapted" + ("-edited" if args.augment else "") + ".json"
    saved = Path(args.results or Path("benchmarks/out") / default)
    done = json.loads(saved.read_text()) if saved.is_file() else {}
    print(
        f"{'held out':<30} {'n test':>7} {'AUROC':>7} {'95% interval':>13} {'TPR@1%FPR':>10} "
        f"{'minutes':>8}"
    )
    order = folds(generators, domains, test)
    if args.domains_first:
        order.sort(key=lambda fold: fold[0] != "domain")
    if args.only:
        wanted = {key.strip() for key in args.only.split(",")}
        order = [fold for fold in order if f"{fold[0]}: {fold[1]}" in wanted]
    for kind, name, train, evaluate in order:
        key = f"{kind}: {name}"
        if key not in done:
            started = time.perf_counter()
            train_rows, eval_rows = np.flatnonzero(train), np.flatnonzero(evaluate)
            with tempfile.TemporaryDirectory() as tmp:
                adapter = Path(tmp) / "adapter"
                train_texts = [texts[i] for i in train_rows]
                train_adapter(
                    args.encoder,
                    train_texts,
                    labels[train_rows],
                    layers,
                    adapter,
                    rank=args.rank,
                    learning_rate=args.learning_rate,
                    max_length=args.train_length,
                )
                encoder = PoolingEncoder(
                    args.encoder, quantize=True, layers=layers, adapter=str(adapter)
                )
                rows = np.concatenate([train_rows, eval_rows])
                fold_texts = [texts[i] for i in rows]
                features = featurise(encoder, fold_texts, passages=False)
                if args.augment:
                    add_edited_copies(features, encoder, fold_texts, np.arange(len(train_rows)))
            fold_labels = labels[rows]
            head = fit_document_head(features, fold_labels, np.arange(len(train_rows)))
            scores = head.logits(features.documents[len(train_rows) :])
            done[key] = {
                "n": int(len(eval_rows)),
                "auroc": float(roc_auc_score(labels[eval_rows], scores)),
                "auroc_interval": interval_text(scores, labels[eval_rows]),
                "tpr_at_1pct_fpr": tpr_at_fpr(scores, labels[eval_rows]),
                "minutes": (time.perf_counter() - started) / 60,
            }
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_text(json.dumps(done, indent=1) + "\n")
        r = done[key]
        print(
            f"{key:<30} {r['n']:>7} {r['auroc']:>7.3f} {r.get('auroc_interval', 'n/a'):>13} "
            f"{r['tpr_at_1pct_fpr']:>10.3f} {r['minutes']:>8.1f}",
            flush=True,
        )
    results: dict[str, list[tuple[float, float]]] = {"generator": [], "domain": []}
    for key, r in done.items():
        results[key.split(":")[0]].append((r["auroc"], r["tpr_at_1pct_fpr"]))
    print(json.dumps(summarise(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

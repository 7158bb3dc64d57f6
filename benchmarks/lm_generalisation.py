"""How the language-model detector's candidates generalise: each token statistic of Gemma 3 270M
alone, and logistic heads over them, measured on news from a current model (current-news.jsonl),
leave-one-generator-out and leave-one-domain-out, with DeLong 95 % intervals.

The texts are a seeded sample of ../shared/data/detect (reading all 7,200 with a 262k-vocabulary
LM takes hours on 2 cores): all of current-news.jsonl and the 100 human BBC texts it is paired with,
150 human + 50 machine texts per domain and generator of closed-generators.jsonl, and 60 human +
15 machine texts per domain and generator of the rest of open-generators.jsonl (1,205 texts).
Features come from the same code and cache as `unspun train --kind language-model`, so a second
run (and training the shipped head) reads nothing again.

Protocols (pairs never straddle a split):
- current, zero-shot transfer: heads trained on everything but current-news' pairs, tested on them;
- current, cross-fitted: 5 folds by pair_id over all texts, current-news' pairs included (the
  shipped head trains on all of them); scores of each current pair come from a head that never
  saw that pair;
- LOGO / LODO: pairs split 70/30; for each generator (domain) train on the 70 % side without it,
  test its 30 %-side texts against the 30 %-side human texts of the same domains.

    python benchmarks/lm_generalisation.py [--data DIR] [--write-train FILE.jsonl]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
from pathlib import Path

import numpy as np

from unspun.detect.data import LabelledText
from unspun.detect.evaluate import auroc_interval
from unspun.detect.lmfeatures import FEATURES

REPO = Path(__file__).resolve().parents[1]
CLOSED = ("davinci", "gpt-3.5-turbo", "gpt-4")
COMPACT = ("mean_logprob", "std_logprob", "q10_logprob", "mean_excess", "fast_detectgpt")


def load(data: Path) -> tuple[list[dict], set[str]]:
    """The benchmark's sample (see the module doc), in a fixed order."""

    def read(name: str) -> list[dict]:
        with (data / name).open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    current, open_, closed = (
        read("current-news.jsonl"),
        read("open-generators.jsonl"),
        read("closed-generators.jsonl"),
    )
    pairs = {r["pair_id"] for r in current}
    rng = random.Random(0)
    sample = list(current) + [r for r in open_ if r["pair_id"] in pairs and r["label"] == "human"]

    def stratified(records: list[dict], per: dict[str, int]) -> list[dict]:
        groups: dict[tuple[str, str], list[dict]] = {}
        for r in records:
            groups.setdefault((r["domain"], r["generator"]), []).append(r)
        chosen = []
        for key, group in sorted(groups.items()):
            rng.shuffle(group)
            chosen += group[: per.get(key[1], per["*"])]
        return chosen

    sample += stratified(closed, {"human": 150, "*": 50})
    sample += stratified([r for r in open_ if r["pair_id"] not in pairs], {"human": 60, "*": 15})
    return sample, pairs


def features_of(texts: list[str], progress: bool = True) -> np.ndarray:
    from unspun.detect.language_model import LanguageModelDetector
    from unspun.detect.language_model_train import read_features
    from unspun.detect.supervised.head import LinearHead
    from unspun.models.packaged import PACKAGED_LM

    n = len(FEATURES)
    placeholder = LinearHead(np.zeros(n), np.ones(n), np.zeros(n), 0.0)
    config = {"model": PACKAGED_LM, "max_tokens": 256, "max_length": 256, "head_sha1": ""}
    detector = LanguageModelDetector(Path("."), config, placeholder)

    def report(_stage: str, done: int, total: int) -> None:
        if progress and (done % 50 == 0 or done == total):
            print(f"  features {done}/{total}", file=sys.stderr, flush=True)

    return read_features(detector, texts, progress=report)


def fold_of(pair: str, folds: int) -> int:
    return int(hashlib.sha1(pair.encode()).hexdigest()[:8], 16) % folds


def head_scores(
    x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, cols
) -> np.ndarray:
    from unspun.detect.supervised.head import LinearHead

    head = LinearHead.fit(x[train][:, cols], y[train], regularisation=1.0)
    return head.logits(x[test][:, cols])


def single_scores(x, y, train, test, col) -> np.ndarray:
    """A statistic alone, its direction learned on the training side."""
    from sklearn.metrics import roc_auc_score

    sign = 1.0 if roc_auc_score(y[train], x[train, col]) >= 0.5 else -1.0
    return sign * x[test, col]


def measure(scores: np.ndarray, labels: np.ndarray) -> dict:
    from sklearn.metrics import roc_auc_score

    human, machine = scores[~labels], scores[labels]
    order = np.sort(human)[::-1]
    allowed = math.floor(0.01 * len(order))
    threshold = order[allowed] if allowed < len(order) else -np.inf
    interval = auroc_interval(human, machine)
    return {
        "auroc": float(roc_auc_score(labels, scores)),
        "interval": interval,
        "tpr1": float((machine > threshold).mean()),
    }


def candidates() -> dict[str, object]:
    found: dict[str, object] = {
        name: FEATURES.index(name) for name in FEATURES
    }
    found["head: all features"] = list(range(len(FEATURES)))
    found["head: compact"] = [FEATURES.index(n) for n in COMPACT]
    return found


def score_with(candidate, x, y, train, test) -> np.ndarray:
    if isinstance(candidate, list):
        return head_scores(x, y, train, test, candidate)
    return single_scores(x, y, train, test, candidate)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared/data/detect"))
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--write-train",
        metavar="FILE.jsonl",
        help="write the sample as unspun train input (the shipped head's training data)",
    )
    args = parser.parse_args()
    data = Path(args.data)
    if not (data / "current-news.jsonl").is_file():
        print(f"no data at {data}", file=sys.stderr)
        return 2
    sample, current_pairs = load(data)
    if args.write_train:
        with open(args.write_train, "w", encoding="utf-8") as out:
            for r in sample:
                record = LabelledText(
                    text=r["text"],
                    label=r["label"],
                    domain=r["domain"],
                    generator=r["generator"],
                    pair_id=r["pair_id"],
                    id=r["id"],
                )
                out.write(json.dumps(record.__dict__) + "\n")
        print(f"wrote {len(sample)} records to {args.write_train}")
    x = features_of([r["text"] for r in sample])
    y = np.array([r["label"] == "machine" for r in sample])
    pair = np.array([r["pair_id"] for r in sample])
    generator = np.array([r["generator"] for r in sample])
    domain = np.array([r["domain"] for r in sample])
    task = np.array([r.get("task") or "" for r in sample])
    is_current = np.isin(pair, list(current_pairs))
    results: dict[str, dict] = {}

    # Current news: transfer from the other data, and cross-fitted with it.
    folds = np.array([fold_of(p, 5) for p in pair])
    side = np.array([fold_of(p, 10) < 7 for p in pair])  # 70/30 for LOGO / LODO
    for name, candidate in candidates().items():
        row: dict[str, dict] = {}
        current = np.flatnonzero(is_current)
        row["current transfer"] = measure(
            score_with(candidate, x, y, np.flatnonzero(~is_current), current), y[current]
        )
        oof = np.zeros(len(sample))
        for k in range(5):
            test = np.flatnonzero(folds == k)
            oof[test] = score_with(candidate, x, y, np.flatnonzero(folds != k), test)
        row["current cross-fitted"] = measure(oof[current], y[current])
        for t in ("continue", "rewrite", "spin"):
            keep = np.flatnonzero(is_current & (~y | (task == t)))
            row[f"current {t}"] = measure(oof[keep], y[keep])
        logo = []
        for g in sorted(set(generator) - {"human"}):
            train = np.flatnonzero(side & (generator != g))
            domains = set(domain[generator == g])
            test = np.flatnonzero(
                ~side & ((generator == g) | ((~y) & np.isin(domain, list(domains))))
            )
            if y[test].all() or not y[test].any():
                continue
            result = measure(score_with(candidate, x, y, train, test), y[test])
            row[f"LOGO {g}"] = result
            logo.append(result)
        lodo = []
        for d in sorted(set(domain)):
            train = np.flatnonzero(side & (domain != d))
            test = np.flatnonzero(~side & (domain == d))
            result = measure(score_with(candidate, x, y, train, test), y[test])
            row[f"LODO {d}"] = result
            lodo.append(result)
        closed = [row[f"LOGO {g}"] for g in CLOSED if f"LOGO {g}" in row]
        row["LOGO mean"] = _mean(logo)
        row["LODO mean"] = _mean(lodo)
        row["closed LOGO mean"] = _mean(closed)
        worst_current = min(row["current transfer"]["auroc"], row["current cross-fitted"]["auroc"])
        row["worst current"] = {"auroc": worst_current}
        results[name] = row
    _print(results, len(sample), int(is_current.sum()))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


def _mean(rows: list[dict]) -> dict:
    if not rows:
        return {"auroc": float("nan"), "tpr1": float("nan")}
    return {
        "auroc": float(np.mean([r["auroc"] for r in rows])),
        "tpr1": float(np.mean([r["tpr1"] for r in rows])),
    }


def _print(results: dict[str, dict], n: int, n_current: int) -> None:
    print(f"{n} texts ({n_current} on the current-news side); AUROC / TPR at 1 % FPR")
    columns = (
        "current transfer",
        "current cross-fitted",
        "closed LOGO mean",
        "LOGO mean",
        "LODO mean",
    )
    print(f"{'candidate':24s} " + " ".join(f"{c:>22s}" for c in columns))
    for name, row in results.items():
        cells = []
        for c in columns:
            r = row[c]
            cells.append(f"{r['auroc']:.3f} / {r['tpr1']:.2f}".rjust(22))
        print(f"{name:24s} " + " ".join(cells))
    best = max(results, key=lambda k: results[k]["worst current"]["auroc"])
    print(f"\nbest worst-case on current news: {best}")
    row = results[best]
    for key, r in row.items():
        if key.startswith(("current ", "LOGO ", "LODO ")) and "interval" in r:
            low, high = r["interval"] or (float("nan"), float("nan"))
            print(
                f"  {key:28s} AUROC {r['auroc']:.3f} ({low:.3f}-{high:.3f})  TPR@1% {r['tpr1']:.2f}"
            )


if __name__ == "__main__":
    raise SystemExit(main())

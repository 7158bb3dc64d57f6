"""DDL or SPO for the tuned-lm scorer? A small measurement: tune the same top layers on the same
pairs with each objective, then compare the exact Fast-DetectGPT criterion (full vocabulary, the
first --train-tokens tokens) of the untuned and the tuned models on pairs held out from both, as
AUROC (machine vs human) and the share of pairs whose machine text scores above its human original.

    OMP_NUM_THREADS=1 python benchmarks/tuned_lm_objective.py [--data FILE] [--train-pairs 160]
        [--eval-pairs 50] [--train-tokens 256] [--layers-tuned 4] [--learning-rate 1e-4]

--data: a training JSONL written by benchmarks/build_training_data.py (its default output). The
held-out pairs are current-train pairs (the style of current-news, which is never read here).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(REPO / "benchmarks/out/tuned-lm-train.jsonl"))
    parser.add_argument("--out", default=str(REPO / "benchmarks/out/tuned-lm-objective"))
    parser.add_argument("--train-pairs", type=int, default=160)
    parser.add_argument("--eval-pairs", type=int, default=50)
    parser.add_argument("--train-tokens", type=int, default=256)
    parser.add_argument("--layers-tuned", type=int, default=4)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--objectives", default="ddl,spo")
    args = parser.parse_args()
    if not Path(args.data).is_file():
        print(f"{args.data}: run benchmarks/build_training_data.py first", file=sys.stderr)
        return 2
    import torch
    from sklearn.metrics import roc_auc_score

    from unspun.detect.data import read_labelled
    from unspun.detect.tuned_lm import Adapter, decoder_layers
    from unspun.detect.tuned_lm_train import (
        ActivationCache,
        TuningModel,
        tokenize,
        train_tuned_lm,
    )
    from unspun.models.causal import load_causal_lm
    from unspun.models.packaged import PACKAGED_LM

    records = read_labelled([args.data])
    groups: dict[str, list] = {}
    for record in records:
        groups.setdefault(record.pair_id or "", []).append(record)

    def drawn(key: str) -> str:
        return hashlib.sha1(f"objective:{key}".encode()).hexdigest()

    keys = sorted(groups, key=drawn)
    current = [k for k in keys if any(r.generator == "claude" for r in groups[k])]
    evaluation = current[: args.eval_pairs]
    pairs_eval = [
        (
            next(r for r in groups[k] if not r.is_machine),
            next(r for r in groups[k] if r.is_machine and r.generator == "claude"),
        )
        for k in evaluation
    ]
    train, count = [], 0
    for key in keys:
        if key in evaluation or count >= args.train_pairs:
            continue
        machines = [r for r in groups[key] if r.is_machine][: args.train_pairs - count]
        train += [r for r in groups[key] if not r.is_machine] + machines
        count += len(machines)
    lm = load_causal_lm(PACKAGED_LM, dtype="float32")
    first = len(decoder_layers(lm.model)[1]) - args.layers_tuned
    texts = [r.text for pair in pairs_eval for r in pair]
    items = tokenize(lm, texts, args.train_tokens)
    cache = ActivationCache(lm, first, args.train_tokens)
    cache.fill(items)
    exact = TuningModel(lm, first, rank=8, alpha=32.0, dropout=0.0, seed=0, vocabulary=None)

    def evaluate(adapter: Adapter | None) -> dict:
        exact.set_mode(training=False, enabled=adapter is not None)
        if adapter is not None:
            with torch.no_grad():
                for name, (a, b) in adapter.modules.items():
                    exact.lora[name].lora_A.copy_(a)
                    exact.lora[name].lora_B.copy_(b)
        with torch.no_grad():
            crit = np.asarray([float(exact.criterion(t, cache.get(t))[0]) for t in items])
        human, machine = crit[0::2], crit[1::2]
        labels = np.r_[np.zeros(len(human)), np.ones(len(machine))]
        return {
            "auroc": round(float(roc_auc_score(labels, np.r_[human, machine])), 4),
            "pairs_machine_above_human": round(float((machine > human).mean()), 4),
            "mean_human": round(float(human.mean()), 3),
            "mean_machine": round(float(machine.mean()), 3),
        }

    result: dict = {
        "train_pairs": count,
        "eval_pairs": len(pairs_eval),
        "train_tokens": args.train_tokens,
        "layers_tuned": args.layers_tuned,
        "learning_rate": args.learning_rate,
        "epochs": args.epochs,
        "untuned": evaluate(None),
    }
    for objective in args.objectives.split(","):
        began = time.perf_counter()
        summary = train_tuned_lm(
            train,
            Path(args.out) / objective,
            objective=objective,
            layers_tuned=args.layers_tuned,
            train_tokens=args.train_tokens,
            epochs=args.epochs,
            learning_rate=args.learning_rate,
            calibration_share=0.0,
        )
        adapter = Adapter.load(Path(args.out) / objective / "adapter.safetensors")
        result[objective] = {
            **evaluate(adapter),
            "seconds": round(time.perf_counter() - began, 1),
            "seconds_per_step": summary["seconds_per_step"],
        }
        print(json.dumps({objective: result[objective]}), file=sys.stderr)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What does tuning the tuned-lm scorer cost, per piece? Times, on the packaged Gemma 3 270M in
float32 (as training runs): caching the frozen layers' activations per text, one training step (a
machine text and its human original, forward and backward) for some layer/token/vocabulary
settings, scoring one held-out human text with the tuned detector (the calibration's unit of
work), and how closely the reduced-vocabulary criterion follows the exact one.

    OMP_NUM_THREADS=1 python benchmarks/tuned_lm_cost.py [--layers-tuned 4] [--train-tokens 256]
        [--vocab-size 16384] [--steps 4] [--texts 4] [--data DIR]

Prints one JSON object, with wall and CPU seconds (on a machine shared with other jobs, the CPU
seconds of a one-thread run are the better guide to what the step costs on an idle core).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers-tuned", type=int, default=4)
    parser.add_argument("--train-tokens", type=int, default=256)
    parser.add_argument("--vocab-size", type=int, default=16384)
    parser.add_argument("--steps", type=int, default=4, help="timed steps (after one warm-up)")
    parser.add_argument("--texts", type=int, default=4, help="texts scored / compared")
    parser.add_argument("--score-tokens", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--vocab-texts",
        type=int,
        default=3000,
        help="texts whose token counts pick the reduced vocabulary (as training picks it from the "
        "texts it tunes on)",
    )
    parser.add_argument("--data", default=str(REPO.parent / "shared/data/detect"))
    args = parser.parse_args()
    data = Path(args.data)
    if not (data / "current-train.jsonl").is_file():
        print(f"no data at {data}", file=sys.stderr)
        return 2
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from unspun.detect.tuned_lm import decoder_layers
    from unspun.detect.tuned_lm_train import (
        ActivationCache,
        TuningModel,
        reduced_vocabulary,
        tokenize,
    )
    from unspun.models.causal import load_causal_lm
    from unspun.models.packaged import PACKAGED_LM

    machine = _read(data / "current-train.jsonl")[: max(args.steps + 1, args.texts)]
    humans = {
        r["pair_id"]: r for r in _read(data / "open-generators.jsonl") if r["label"] == "human"
    }
    pairs = [(humans[m["pair_id"]]["text"], m["text"]) for m in machine if m["pair_id"] in humans]
    lm = load_causal_lm(PACKAGED_LM, dtype="float32")
    first = len(decoder_layers(lm.model)[1]) - args.layers_tuned
    texts = [t for pair in pairs for t in pair]
    items = tokenize(lm, texts, args.train_tokens)
    cache = ActivationCache(lm, first, args.train_tokens)
    for tokens in items:  # drop earlier runs' entries so the cost is measured
        cache.path(tokens).unlink(missing_ok=True)
    began, cpu = time.perf_counter(), time.process_time()
    cache.fill(items)
    cache_seconds = (time.perf_counter() - began) / len(items)
    cache_cpu = (time.process_time() - cpu) / len(items)
    held = {r["pair_id"] for r in _read(data / "current-news.jsonl")}  # validation: not read
    pool = [
        r["text"]
        for name in ("current-train", "open-generators")
        for r in _read(data / f"{name}.jsonl")
        if r["pair_id"] not in held
    ][: args.vocab_texts]
    vocabulary = reduced_vocabulary(tokenize(lm, pool, args.train_tokens), args.vocab_size)
    tuning = TuningModel(lm, first, rank=8, alpha=32.0, dropout=0.1, seed=0, vocabulary=vocabulary)
    optimizer = torch.optim.AdamW(tuning.parameters(), lr=1e-4)
    timings, cpu_timings = [], []
    for step in range(args.steps + 1):
        human, machine_tokens = items[2 * step], items[2 * step + 1]
        began, cpu = time.perf_counter(), time.process_time()
        tuning.set_mode(training=True)
        crit_h, _ = tuning.criterion(human, cache.get(human))
        crit_m, _ = tuning.criterion(machine_tokens, cache.get(machine_tokens))
        loss = crit_h.abs() + (100.0 - crit_m).abs()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step:
            timings.append(time.perf_counter() - began)
            cpu_timings.append(time.process_time() - cpu)
    # The reduced normaliser against the exact one, with the untuned model.
    exact = TuningModel(lm, first, rank=8, alpha=32.0, dropout=0.0, seed=0, vocabulary=None)
    exact.set_mode(training=False, enabled=False)
    tuning.set_mode(training=False, enabled=False)
    compared = []
    with torch.no_grad():
        for tokens in items[: 2 * args.texts]:
            activations = cache.get(tokens)
            compared.append(
                (
                    float(tuning.criterion(tokens, activations)[0]),
                    float(exact.criterion(tokens, activations)[0]),
                )
            )
    reduced, full = np.asarray(compared).T
    from unspun.detect.zeroshot.fast_detectgpt import FastDetectGPT

    scorer = FastDetectGPT(
        PACKAGED_LM, dtype="float32", max_length=args.score_tokens, max_tokens=args.score_tokens
    )
    score_seconds, score_cpu, score_tokens = [], [], []
    for text, _ in pairs[: args.texts]:
        began, cpu = time.perf_counter(), time.process_time()
        (scores,) = scorer.score([text], passages=False)
        score_seconds.append(time.perf_counter() - began)
        score_cpu.append(time.process_time() - cpu)
        score_tokens.append(scores.raw["tokens"])
    print(
        json.dumps(
            {
                "threads": torch.get_num_threads(),
                "layers_tuned": args.layers_tuned,
                "train_tokens": args.train_tokens,
                "vocab_size": len(vocabulary),
                "cache_seconds_per_text": round(cache_seconds, 3),
                "cache_cpu_seconds_per_text": round(cache_cpu, 3),
                "seconds_per_step": round(float(np.median(timings)), 3),
                "cpu_seconds_per_step": round(float(np.median(cpu_timings)), 3),
                "step_timings": [round(t, 3) for t in timings],
                "reduced_vs_exact_criterion": {
                    "pearson": round(float(np.corrcoef(reduced, full)[0, 1]), 4),
                    "max_abs_difference": round(float(np.abs(reduced - full).max()), 4),
                    "pairs": [[round(a, 3), round(b, 3)] for a, b in compared],
                },
                "score_seconds_per_human_text": round(float(np.mean(score_seconds)), 3),
                "score_cpu_seconds_per_human_text": round(float(np.mean(score_cpu)), 3),
                "score_tokens_per_human_text": float(np.mean(score_tokens)),
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

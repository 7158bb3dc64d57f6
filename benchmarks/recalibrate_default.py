"""Recompute the shipped MiniLM detector's calibration on the texts `unspun train` calibrated it on.

The detector is 'encoder' (alias 'supervised'), its calibration
src/unspun/data/default/calibration.json; the scores are the detector's as it scores today.

`unspun train` (src/unspun/detect/supervised/train.py) holds out 25 % of pairs by a deterministic
hash of the pair id when it trains adapters, and calibrates on them alone: the human reference
scores are the held-out human texts' document logits, and the Platt scaling is fitted on all
held-out texts' logits. The shipped detector was trained on open-generators.jsonl and
closed-generators.jsonl of ../shared/data/detect. This script scores those same held-out texts
with the shipped head and adapter, unchanged, and rewrites the human scores and Platt scaling; use
it when scoring changes without retraining (as when the encoder started running every window alone,
so that a text's score no longer depends on its batch; about 7 min on 2 cores). It first checks
that the split it rebuilds is the one the detector was trained with (the training counts in
detector.json).

    python benchmarks/recalibrate_default.py [--data DIR] [--threads 2] [--write]

Without --write it only prints old and new figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRAINING_FILES = ("open-generators.jsonl", "closed-generators.jsonl")  # in this order


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared/data/detect"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--target-fpr", type=float, default=0.01)
    parser.add_argument("--write", action="store_true", help="overwrite the shipped calibration")
    args = parser.parse_args()

    import numpy as np
    import torch

    from unspun.detect.calibration import CALIBRATION_FILE, Calibration
    from unspun.detect.data import read_labelled
    from unspun.detect.supervised import shipped_directory
    from unspun.detect.supervised.model import SupervisedDetector
    from unspun.detect.supervised.train import (
        ADAPTED_HELDOUT_SHARE,
        _describe,
        fit_platt,
        is_heldout,
        pair_key,
    )
    from unspun.normalize import normalize

    torch.set_num_threads(args.threads)
    files = [Path(args.data) / name for name in TRAINING_FILES]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        print(f"missing training data: {', '.join(missing)}", file=sys.stderr)
        return 2
    records = read_labelled(files)
    directory = shipped_directory()
    detector = SupervisedDetector.load(directory)
    old = Calibration.load(directory / CALIBRATION_FILE)

    heldout = np.asarray([is_heldout(pair_key(r), ADAPTED_HELDOUT_SHARE) for r in records])
    train_rows, heldout_rows = np.flatnonzero(~heldout), np.flatnonzero(heldout)
    if _describe(records, train_rows) != detector.config.get("training_data"):
        print("the rebuilt split does not match detector.json's training_data", file=sys.stderr)
        return 1
    labels = np.asarray([r.is_machine for r in records])
    human_rows = [i for i in heldout_rows if not labels[i]]
    domains = [records[i].domain for i in human_rows]
    if sorted(domains) != sorted(old.human_domains or []):
        print("the held-out humans' domains differ from the shipped calibration's", file=sys.stderr)
        return 1

    # The text the pipeline scores, as in training: normalised.
    texts = [normalize(records[i].text).text for i in heldout_rows]
    started = time.perf_counter()
    scores = detector.score(texts, passages=False)
    seconds = time.perf_counter() - started
    logits = np.asarray([s.document for s in scores])
    position = {row: k for k, row in enumerate(heldout_rows)}
    new = Calibration(
        detector=old.detector,
        settings=old.settings,
        human_scores=[float(logits[position[i]]) for i in human_rows],
        platt=fit_platt(logits, labels[heldout_rows]),
        reference=old.reference,
        human_domains=domains,
        meta={**old.meta, "recomputed_by": "benchmarks/recalibrate_default.py"},
    )
    if not new.matches(detector.name, detector.settings):
        print("the new calibration does not match the detector's settings", file=sys.stderr)
        return 1

    fpr = args.target_fpr
    print(
        f"scored {len(texts)} held-out texts ({len(human_rows)} human) in {seconds:.0f} s "
        f"({args.threads} threads)"
    )
    for name, calibration in (("old", old), ("new", new)):
        raw = calibration.threshold(fpr)
        platt = ", ".join(f"{v:.4f}" for v in calibration.platt or ())
        print(
            f"{name}: threshold at {fpr:g} FPR: raw {raw:.4f}, probability "
            f"{calibration.probability(raw):.4f}; Platt ({platt}); "
            f"median human score {np.median(calibration.human_scores):.4f}"
        )
    shift = np.asarray(new.human_scores) - np.asarray(old.human_scores)
    print(
        f"sorted human scores moved by {shift.mean():+.4f} on average, "
        f"{np.abs(shift).max():.4f} at most"
    )
    if args.write:
        new.save(directory / CALIBRATION_FILE)
        print(f"written to {directory / CALIBRATION_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

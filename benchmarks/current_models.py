"""Issue 21's figures: how the machine-writing detectors do on news written by current models, and
whether the hidden-state detector (the default) generalises beyond what it was trained on.

    python benchmarks/build_training_data.py --older-per-pair 1 \\
        --out benchmarks/out/hidden-state-train.jsonl
    python benchmarks/current_models.py [--train benchmarks/out/hidden-state-train.jsonl]
        [--eval benchmarks/out/current-news-eval.jsonl] [--detector hidden-state]
        [--tuned tuned-lm] [--likelihood-sample 30] [--no-likelihood]

Sets (../shared/data/detect, read through the files build_training_data.py writes): the training
pool is every pair except current-news' (human originals, current-train's current-model news, the
older generators' texts); current-news.jsonl with its 100 human originals is the validation set,
never trained or tuned on.

Printed, with DeLong 95 % intervals and TPR at 1 % FPR (the threshold the validation's own
human texts give, and the detector's shipped threshold):

1. current-news, each pair cut to the same number of tokens (the shorter text's), overall and by
   task; the same uncut; the number of tokens alone as a baseline; the hidden-state and
   likelihood detectors reading at most 256 / 512 / 1,024 tokens; the tuned scorer (--tuned) and
   today's language-model default.
2. Leave-one-task-out inside current-train and leave-one-generator-out over every generator
   (claude included): the hidden-state head refitted without the task or generator, 5 folds by
   pair, each machine text compared with the human texts of its domains over the same window as
   its own human original (cut to that length).
3. Human texts reaching the shipped threshold, out of fold, by domain and by length (joined human
   texts longer than 400 words included).

The hidden-state features come from the same cache as `unspun train --kind hidden-state` (a run
after training reads nothing again). The likelihood baseline reads texts with the 262k-word output
layer and is slower: --likelihood-sample bounds the texts per generator and domain it reads for
the leave-one-generator-out row.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from unspun.detect.data import LabelledText, pair_key
from unspun.detect.evaluate import auroc_interval
from unspun.stats import wilson_interval

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"
WINDOWS = (256, 512, 1024)
TASKS = ("continue", "rewrite", "spin", "expand")
TARGET_FPR = 0.01
REQUIRED_GENERATORS = ("davinci", "gpt-3.5-turbo", "gpt-4", "claude")


def read(path: Path) -> tuple[list[LabelledText], list[str]]:
    records, tasks = [], []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            data = json.loads(line)
            records.append(
                LabelledText(
                    text=data["text"],
                    label=data["label"],
                    domain=data.get("domain", "unknown"),
                    generator=data.get("generator", "human"),
                    pair_id=data.get("pair_id"),
                    id=data.get("id"),
                )
            )
            tasks.append(data.get("task") or "")
    return records, tasks


def auroc(human: np.ndarray, machine: np.ndarray) -> float:
    """NaN when either side has no finite score (a recipe with nothing left to train on)."""
    from sklearn.metrics import roc_auc_score

    human, machine = np.asarray(human, float), np.asarray(machine, float)
    if not np.isfinite(human).any() or not np.isfinite(machine).any():
        return math.nan

    labels = np.r_[np.zeros(len(human)), np.ones(len(machine))]
    return float(roc_auc_score(labels, np.r_[human, machine]))


def tpr_at(human: np.ndarray, machine: np.ndarray, fpr: float = TARGET_FPR) -> float:
    """Share of machine texts above the threshold that at most ``fpr`` of the human texts reach."""
    ranked = np.sort(human)[::-1]
    allowed = math.floor(fpr * len(ranked) + 1e-9)
    threshold = ranked[allowed] if allowed < len(ranked) else -np.inf
    return float((machine > threshold).mean())


def row(name: str, human: np.ndarray, machine: np.ndarray, threshold: float | None = None) -> str:
    human, machine = np.asarray(human, float), np.asarray(machine, float)
    low, high = auroc_interval(human, machine) or (math.nan, math.nan)
    text = (
        f"  {name:<46} {auroc(human, machine):.3f} ({low:.3f}-{high:.3f})  "
        f"TPR {tpr_at(human, machine):.2f}"
    )
    if threshold is not None:
        text += (
            f"  shipped {float((machine >= threshold).mean()):.2f}"
            f" (humans {float((human >= threshold).mean()):.2f})"
        )
    return text + f"   n={len(machine)}/{len(human)}"


class Timer:
    def __init__(self) -> None:
        self.start = time.time()

    def __str__(self) -> str:
        return f"{time.time() - self.start:.0f} s"


# ---- hidden-state ------------------------------------------------------------------------------


def hidden_state_validation(
    detector, records: list[LabelledText], tasks: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Section 1 for the hidden-state head: pair-cut, uncut and by window. Returns the pair-cut
    mean states and which rows are human, for section 4."""
    from unspun.detect.hidden_state_train import pooled

    human_of = {pair_key(r): i for i, r in enumerate(records) if not r.is_machine}
    machines = [i for i, r in enumerate(records) if r.is_machine]
    whole = pooled(detector, [r.text for r in records], [None] * len(records))
    lengths = [n for n, _, _ in whole]
    cut_of = {}
    for i in machines:
        h = human_of[pair_key(records[i])]
        cut_of[i] = cut_of[h] = min(lengths[i], lengths[h])
    cut = pooled(detector, [r.text for r in records], [cut_of.get(i) for i in range(len(records))])

    def scores(means: list[np.ndarray]) -> np.ndarray:
        return detector.logits(np.stack(means))

    paired_means = np.stack([part if part is not None else w for (_, w, part) in cut])
    paired = detector.logits(paired_means)
    uncut = scores([w for _, w, _ in whole])
    threshold = _shipped_threshold(detector)
    humans = np.array([not r.is_machine for r in records])
    print(f"\n1. current-news and its {humans.sum()} human originals (validation)")
    print(
        "  method / window                                AUROC (95% CI)  TPR@1%FPR (threshold "
        "from these humans)  shipped: share flagged at the shipped 1 % threshold"
    )
    lengths_arr = np.asarray(lengths, float)
    print(row("tokens alone (uncut)", lengths_arr[humans], lengths_arr[~humans]))
    print(
        row("hidden-state, each pair cut to one length", paired[humans], paired[~humans], threshold)
    )
    for task in sorted({t for t in tasks if t}):
        chosen = np.array([t == task for t in tasks])
        print(row(f"  task {task}", paired[humans], paired[chosen], threshold))
    print(row("hidden-state, whole (<= max tokens)", uncut[humans], uncut[~humans], threshold))
    for window in WINDOWS:
        at = pooled(detector, [r.text for r in records], [window] * len(records))
        values = scores([part if part is not None else w for (_, w, part) in at])
        print(
            row(f"hidden-state, first {window} tokens", values[humans], values[~humans], threshold)
        )
    return paired_means, humans


def _shipped_threshold(detector) -> float | None:
    calibration = getattr(detector, "calibration", None)
    return calibration.threshold(TARGET_FPR) if calibration is not None else None


class Refit:
    """A training recipe (a list of heads, each: which rows it may train on and its
    regularisation) refitted on part of the training pool's rows."""

    def __init__(self, rows, recipe: list[tuple[np.ndarray, float]]) -> None:
        self.rows, self.recipe = rows, recipe
        self.real_human = ~rows.labels & (rows.source >= 0)

    def _fit(self, train: np.ndarray, regularisation: float):
        from unspun.detect.supervised.head import LinearHead

        return LinearHead.fit(
            self.rows.matrix[train],
            self.rows.labels[train],
            regularisation=regularisation,
            sample_weight=self.rows.weights[train],
        )

    def scorer(self, train_ok: np.ndarray, avoid_fold: int | None = None):
        """The recipe fitted on the rows in ``train_ok`` (outside ``avoid_fold``): a function of
        a matrix of mean states. With several heads, each is put on the scale of its human scores
        out of fold inside those rows, and the score is the largest."""
        from unspun.detect.hidden_state_train import FOLDS, family_scale

        rows = self.rows
        heads = []
        for members, regularisation in self.recipe:
            train = train_ok & members
            if avoid_fold is not None:
                train &= rows.folds != avoid_fold
            if not (train & rows.labels).any():
                continue  # this family's generators are all left out
            head, shift, spread = self._fit(train, regularisation), 0.0, 1.0
            if len(self.recipe) > 1:
                inner = np.full(len(rows.labels), np.nan)
                for other in set(range(FOLDS)) - {avoid_fold}:
                    humans = train & self.real_human & (rows.folds == other)
                    if humans.any():
                        part = self._fit(train & (rows.folds != other), regularisation)
                        inner[humans] = part.logits(rows.matrix[humans])
                shift, spread = family_scale(inner[train & self.real_human])
            heads.append((head, shift, spread))
        if not heads:  # every head's generators left out: nothing to score with
            return lambda matrix: np.full(len(matrix), np.nan)
        return lambda matrix: np.max(
            [(head.logits(matrix) - shift) / spread for head, shift, spread in heads], axis=0
        )

    def held_out(self, train_ok: np.ndarray, test: np.ndarray) -> np.ndarray:
        """Each test row scored by the recipe fitted on the other folds' rows."""
        from unspun.detect.hidden_state_train import FOLDS

        scores = np.full(len(self.rows.labels), np.nan)
        for fold in range(FOLDS):
            inside = test & (self.rows.folds == fold)
            if inside.any():
                score = self.scorer(train_ok, avoid_fold=fold)
                scores[inside] = score(self.rows.matrix[inside])
        return scores


def held_out_rows(
    detector, pool: list[LabelledText], pool_tasks: list[str], validation=None
) -> None:
    """Sections 2-4: leave-one-task-out, leave-one-generator-out and the human false-positive
    rates, all out of fold over the training pool, with the shipped detector's recipe (its layers,
    regularisation and generator families) refitted on each fold's training rows; then other
    recipes (training data) against it."""
    from unspun.detect.hidden_state_train import training_rows

    rows = training_rows(detector, pool)
    record_of = np.where(rows.source >= 0, rows.source, rows.cut_of)
    generator = np.array([pool[i].generator if i >= 0 else "human" for i in record_of])
    task = np.array([pool_tasks[i] if i >= 0 else "" for i in record_of])
    domain = np.array([pool[i].domain if i >= 0 else "" for i in record_of])
    is_cut = rows.source == -2
    machine_has_cut = set(rows.cut_of[is_cut].tolist())
    # The test window of a machine text: cut to its human original's length when it has one.
    test_machine = rows.labels & (is_cut | ~np.isin(rows.source, list(machine_has_cut)))
    real_human = ~rows.labels & (rows.source >= 0)
    everyone = np.ones(len(rows.labels), bool)
    families = detector.config.get("families") or []
    if families:
        shipped = [
            (~rows.labels | np.isin(rows.generators, f["generators"]), float(f["regularisation"]))
            for f in families
        ]
    else:
        shipped = [(everyone, float(detector.config["regularisation"]))]
    current = generator == "claude"
    current_humans = real_human & np.isin(
        [pair_key(pool[i]) if i >= 0 else "" for i in record_of],
        [pair_key(pool[i]) for i in range(len(pool)) if pool[i].generator == "claude"],
    )

    def folds_of(refit: Refit, *, show: bool) -> dict[str, float]:
        found = {}
        for name in TASKS:
            left_out = current & (task == name)
            if not left_out.any():
                continue
            scores = refit.held_out(~left_out, (left_out & test_machine) | current_humans)
            human, machine = scores[current_humans], scores[left_out & test_machine]
            found[f"task {name}"] = auroc(human, machine)
            if show:
                print(row(f"leave task out: {name} (vs current-train humans)", human, machine))
        if show:
            worst = min(v for k, v in found.items() if k.startswith("task "))
            print(f"  leave-one-task-out minimum AUROC {worst:.3f}")
        for name in sorted(set(generator) - {"human"}):
            if not show and name not in REQUIRED_GENERATORS:
                continue
            left_out = generator == name
            domains = set(domain[left_out])
            humans = real_human & np.isin(domain, list(domains))
            scores = refit.held_out(~left_out, (left_out & test_machine) | humans)
            human, machine = scores[humans], scores[left_out & test_machine]
            found[name] = auroc(human, machine)
            if show:
                label = f"leave generator out: {name} ({', '.join(sorted(domains))})"
                print(row(label, human, machine))
        return found

    print("\n2. held out while training (5 folds by pair; pair-cut machine windows)")
    refit = Refit(rows, shipped)
    shipped_folds = folds_of(refit, show=True)

    print("\n3. human texts reaching the shipped threshold, scored out of fold")
    oof = refit.held_out(everyone, everyone)
    threshold = _shipped_threshold(detector)
    if threshold is None:
        print("  (the detector has no calibration)")
    else:
        words = np.array(
            [len(pool[i].text.split()) if i >= 0 else 0 for i in rows.source], dtype=float
        )
        joined = rows.source == -1
        words[joined] = rows.tokens[joined] * 0.75  # joined texts: about 0.75 words a token
        for label, mask in _human_groups(domain, real_human, words, joined):
            flagged = int((oof[mask] >= threshold).sum())
            n = int(mask.sum())
            low, high = wilson_interval(flagged, n)
            print(
                f"  {label:<40} {flagged:>4} of {n:<5} {flagged / max(n, 1):6.1%} "
                f"(95% {low:.1%}-{high:.1%})"
            )

    if validation is None:
        return
    cn_means, cn_humans = validation
    shipped_c = {f["generators"][0]: float(f["regularisation"]) for f in families} or {}
    recipes = {
        "shipped: " + ("two heads, current model | the rest" if families else "one head"): (
            shipped,
            shipped_folds,
        ),
        "one head, every generator (C 0.01)": ([(everyone, 0.01)], None),
        "one head, current model only": (
            [(~rows.labels | current, shipped_c.get("claude", 0.01))],
            None,
        ),
    }
    print(
        "\n4. training data: recipes refitted on the pool (current-news pair-cut; worst = the "
        "lowest of current-news, the leave-one-task-out minimum and the davinci, gpt-3.5-turbo "
        "and gpt-4 folds)"
    )
    print(
        f"  {'recipe':<48} current-news   LOTO min  " + "  ".join(REQUIRED_GENERATORS) + "  worst"
    )
    for name, (recipe, known) in recipes.items():
        refit = Refit(rows, recipe)
        score = refit.scorer(everyone)(cn_means)
        cn = auroc(score[cn_humans], score[~cn_humans])
        tpr = tpr_at(score[cn_humans], score[~cn_humans])
        found = known or folds_of(refit, show=False)
        loto = min(v for k, v in found.items() if k.startswith("task "))
        logo = [found.get(g, math.nan) for g in REQUIRED_GENERATORS]
        worst = min([cn, loto, *logo[:3]])  # claude's fold is shown, not part of the rule
        print(
            f"  {name:<48} {cn:.3f} / {tpr:.2f}  {loto:.3f}     "
            + "  ".join(
                f"{v:.3f}".ljust(len(g)) for v, g in zip(logo, REQUIRED_GENERATORS, strict=True)
            )
            + f"  {worst:.3f}"
        )


def _human_groups(domain, real_human, words, joined):
    yield "all human texts (whole)", real_human
    for name in sorted(set(domain[real_human])):
        yield f"domain {name}", real_human & (domain == name)
    for low, high in ((0, 150), (150, 200), (200, 300), (300, 400), (400, 10**9)):
        label = f"{low}-{high} words" if high < 10**9 else f"{low}+ words"
        yield label, real_human & (words >= low) & (words < high)
    yield "joined human texts (two of a domain)", joined


# ---- likelihood and the tuned scorer -------------------------------------------------------------


def token_logprobs(detector, texts: list[str]) -> list[np.ndarray]:
    """Per-token log-probabilities of each text's first 1,024 tokens under the detector's LM."""
    tables = []
    for text in texts:
        table = detector.tables([text])[0]
        keep = ~table.special
        tables.append(table.logprob[keep])
    return tables


def likelihood_validation(records, threshold_detector=None) -> None:
    from unspun.detect.base import create_detector
    from unspun.models.packaged import PACKAGED_LM

    detector = create_detector("likelihood", model=PACKAGED_LM, max_tokens=1024, max_length=1025)
    logprobs = token_logprobs(detector, [r.text for r in records])
    humans = np.array([not r.is_machine for r in records])
    human_of = {pair_key(r): i for i, r in enumerate(records) if not r.is_machine}
    cut = np.zeros(len(records), dtype=int)
    for i, r in enumerate(records):
        if r.is_machine:
            h = human_of[pair_key(r)]
            cut[i] = cut[h] = min(len(logprobs[i]), len(logprobs[h]))
    paired = np.array([lp[:k].mean() for lp, k in zip(logprobs, cut, strict=True)])
    print(row("likelihood, each pair cut to one length", paired[humans], paired[~humans]))
    for window in WINDOWS:
        values = np.array([lp[:window].mean() for lp in logprobs])
        print(row(f"likelihood, first {window} tokens", values[humans], values[~humans]))


def detector_validation(name: str, records, tasks: list[str] | None = None) -> None:
    """A shipped or trained detector as it ships (its own window), on the validation set: whole
    texts, and with ``tasks`` also each pair cut to the same number of words, by task."""
    from unspun.detect.base import create_detector
    from unspun.detect.calibration import find_calibration, score_texts

    detector = create_detector(name)
    humans = np.array([not r.is_machine for r in records])
    calibration = find_calibration(detector)
    threshold = calibration.threshold(TARGET_FPR) if calibration is not None else None
    label = f"{detector.name} as shipped ({detector.version[:24]})"
    scores = np.asarray(score_texts(detector, [r.text for r in records]))
    print(row(label, scores[humans], scores[~humans], threshold))
    if tasks is None:
        return
    human_of = {pair_key(r): r for r in records if not r.is_machine}
    words = {}
    for r in records:
        if r.is_machine:
            h = human_of[pair_key(r)]
            words[r.id] = words[h.id] = min(len(r.text.split()), len(h.text.split()))
    cut = [" ".join(r.text.split()[: words[r.id]]) for r in records]
    paired = np.asarray(score_texts(detector, cut))
    print(
        row(
            f"{detector.name}, each pair cut to one length (words)",
            paired[humans],
            paired[~humans],
            threshold,
        )
    )
    for task in sorted({t for t in tasks if t}):
        chosen = np.array([t == task for t in tasks])
        print(row(f"  task {task}", paired[humans], paired[chosen], threshold))


def likelihood_held_out(pool: list[LabelledText], per_group: int, seed: int) -> None:
    """Zero-shot likelihood (first 256 tokens, as today's default reads) per generator against
    the human texts of its domains, on a seeded sample."""
    from unspun.detect.base import create_detector
    from unspun.models.packaged import PACKAGED_LM

    rng = random.Random(seed)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(pool):
        groups[(r.domain, r.generator if r.is_machine else "human")].append(i)
    chosen = []
    for key, members in sorted(groups.items()):
        rng.shuffle(members)
        chosen += members[: per_group * (3 if key[1] == "human" else 1)]
    detector = create_detector("likelihood", model=PACKAGED_LM, max_tokens=256)
    scores = {}
    for i in chosen:
        scores[i] = detector.score([pool[i].text], passages=False)[0].document
    print(f"\n   likelihood (first 256 tokens, zero-shot), seeded sample of {len(chosen)} texts")
    for name in sorted({pool[i].generator for i in chosen if pool[i].is_machine}):
        machine = [i for i in chosen if pool[i].is_machine and pool[i].generator == name]
        domains = {pool[i].domain for i in machine}
        human = [i for i in chosen if not pool[i].is_machine and pool[i].domain in domains]
        print(row(f"likelihood: {name}", [scores[i] for i in human], [scores[i] for i in machine]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", default=str(OUT / "hidden-state-train.jsonl"))
    parser.add_argument("--eval", default=str(OUT / "current-news-eval.jsonl"))
    parser.add_argument("--detector", default="hidden-state", help="name or trained directory")
    parser.add_argument("--tuned", default=None, help="tuned-lm name or directory to compare")
    parser.add_argument("--likelihood-sample", type=int, default=30)
    parser.add_argument("--no-likelihood", action="store_true")
    parser.add_argument(
        "--tuned-only",
        action="store_true",
        help="only the tuned scorer's validation rows (needs --tuned)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for path in (args.train, args.eval):
        if not Path(path).is_file():
            print(
                f"{path} is missing: run benchmarks/build_training_data.py first "
                "(see this script's doc)",
                file=sys.stderr,
            )
            return 2
    from unspun.detect.base import create_detector

    timer = Timer()
    validation, tasks = read(Path(args.eval))
    pool, pool_tasks = read(Path(args.train))
    held = {pair_key(r) for r in validation}
    if any(pair_key(r) in held for r in pool):
        print("refusing: the training file holds validation pairs", file=sys.stderr)
        return 1
    if args.tuned_only:
        if not args.tuned:
            print("--tuned-only needs --tuned NAME", file=sys.stderr)
            return 2
        detector_validation(args.tuned, validation, tasks)
        print(f"done in {timer}")
        return 0
    detector = create_detector(args.detector)
    print(
        f"hidden-state detector {detector.version}, layers {list(detector.layers)}, "
        f"{detector.max_tokens} tokens, {detector.dtype_name}; pool {len(pool)} texts, "
        f"validation {len(validation)}"
    )
    validation_states = hidden_state_validation(detector, validation, tasks)
    if not args.no_likelihood:
        likelihood_validation(validation)
        detector_validation("language-model", validation)
    if args.tuned:
        detector_validation(args.tuned, validation, tasks)
    print(f"  ({timer})")
    held_out_rows(detector, pool, pool_tasks, validation_states)
    if not args.no_likelihood and args.likelihood_sample > 0:
        likelihood_held_out(pool, args.likelihood_sample, args.seed)
    print(f"\ndone in {timer}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Detection metrics on labelled texts: AUROC, TPR at a fixed false-positive rate, F1, per-group
figures, ROC plots, and batched scoring of labelled records with any detector."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from unspun.errors import ConfigError, EmptyInput

if TYPE_CHECKING:
    from unspun.detect.base import Detector
    from unspun.detect.data import LabelledText

FPR_TARGETS = (0.01, 0.05)
HUMAN = "human"
DIGITS = 6  # rates from at most millions of texts: more digits would only be noise in the output


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, DIGITS)


def tpr_at_fpr(human: np.ndarray, machine: np.ndarray, target_fpr: float) -> float | None:
    """Share of machine texts flagged at the most permissive threshold that flags at most
    ``target_fpr`` of the human texts (flag = score strictly above the threshold).

    The threshold is read off the human scores of this very set, the same rule the calibration
    uses, so ties at the threshold are never flagged: a tie cannot sneak the FPR over the target.
    """
    if len(human) == 0 or len(machine) == 0:
        return None
    allowed = math.floor(target_fpr * len(human) + 1e-9)
    if allowed >= len(human):
        return 1.0
    threshold = np.sort(human)[::-1][allowed]
    return float(np.mean(machine > threshold))


def auroc(human: np.ndarray, machine: np.ndarray) -> float | None:
    """Probability that a random machine text outscores a random human one (ties count half)."""
    if len(human) == 0 or len(machine) == 0:
        return None
    from sklearn.metrics import roc_auc_score

    labels = np.concatenate([np.zeros(len(human)), np.ones(len(machine))])
    return float(roc_auc_score(labels, np.concatenate([human, machine])))


def auroc_interval(
    human: np.ndarray, machine: np.ndarray, z: float = 1.96
) -> tuple[float, float] | None:
    """95% interval of the AUROC from DeLong's variance (structural components over midranks):
    how far the AUROC of another sample of the same kind of texts may fall. None with fewer than
    two texts on either side."""
    if len(human) < 2 or len(machine) < 2:
        return None
    from scipy.stats import rankdata

    both = rankdata(np.concatenate([machine, human]))
    n_machine, n_human = len(machine), len(human)
    # Share of humans each machine text outscores, and of machines each human text is below.
    machine_part = (both[:n_machine] - rankdata(machine)) / n_human
    human_part = 1.0 - (both[n_machine:] - rankdata(human)) / n_machine
    area = float(machine_part.mean())
    variance = machine_part.var(ddof=1) / n_machine + human_part.var(ddof=1) / n_human
    half = z * math.sqrt(max(0.0, float(variance)))
    return max(0.0, area - half), min(1.0, area + half)


def _interval(value: tuple[float, float] | None) -> list[float] | None:
    return None if value is None else [round(value[0], DIGITS), round(value[1], DIGITS)]


def f1_at(scores: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    """F1 of "machine" when the score is at or above ``threshold`` (the calibration's rule)."""
    from sklearn.metrics import f1_score

    return float(f1_score(labels, scores >= threshold, zero_division=0.0))


def best_f1(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(F1, threshold) at the threshold maximising F1 on this very set (an optimistic figure)."""
    from sklearn.metrics import precision_recall_curve

    if not labels.any():
        return 0.0, float("inf")
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    # The last precision/recall pair has no threshold (it is the "flag nothing" end point).
    precision, recall = precision[:-1], recall[:-1]
    denominator = precision + recall
    f1 = np.divide(
        2 * precision * recall, denominator, out=np.zeros_like(denominator), where=denominator > 0
    )
    best = int(np.argmax(f1))
    return float(f1[best]), float(thresholds[best])


def evaluate(
    scores: Sequence[float],
    labels: Sequence[bool],
    *,
    domains: Sequence[str] | None = None,
    generators: Sequence[str] | None = None,
    threshold: float | None = None,
    threshold_target_fpr: float | None = None,
) -> dict[str, Any]:
    """Metrics for raw detector scores (higher = more machine) and labels (True = machine).

    ``threshold``: the detector's calibrated raw threshold; F1 is measured there when given, else
    at the threshold with the best F1 on this set, and ``f1_threshold_source`` says which.
    ``domains``/``generators``: per-record names; each machine (domain, generator) group is scored
    against the human texts of the same domain. Non-finite scores are left out and counted.
    """
    values = np.asarray(scores, dtype=float)
    truth = np.asarray(labels, dtype=bool)
    if values.shape != truth.shape:
        raise ConfigError(f"{len(values)} scores but {len(truth)} labels")
    n_records = len(values)
    domain_names = np.asarray(domains if domains is not None else ["all"] * n_records, dtype=object)
    generator_names = np.asarray(
        generators
        if generators is not None
        else [("machine" if t else HUMAN) for t in truth.tolist()],
        dtype=object,
    )
    if len(domain_names) != n_records or len(generator_names) != n_records:
        raise ConfigError("domains and generators must have one entry per score")
    finite = np.isfinite(values)
    skipped = int((~finite).sum())
    values, truth = values[finite], truth[finite]
    domain_names, generator_names = domain_names[finite], generator_names[finite]
    if len(values) == 0:
        raise EmptyInput("no scores to evaluate")

    human, machine = values[~truth], values[truth]
    if threshold is not None and math.isfinite(threshold):
        f1 = f1_at(values, truth, threshold)
        f1_threshold, source = threshold, "calibrated"
    else:
        f1, f1_threshold = best_f1(values, truth)
        source = "best_f1"
    result: dict[str, Any] = {
        "n": int(len(values)),
        "n_human": int(len(human)),
        "n_machine": int(len(machine)),
        "auroc": _rounded(auroc(human, machine)),
        "auroc_interval": _interval(auroc_interval(human, machine)),
        "tpr_at_1pct_fpr": _rounded(tpr_at_fpr(human, machine, 0.01)),
        "tpr_at_5pct_fpr": _rounded(tpr_at_fpr(human, machine, 0.05)),
        "f1": _rounded(f1),
        "f1_threshold": _rounded(f1_threshold) if math.isfinite(f1_threshold) else None,
        "f1_threshold_source": source,
        "f1_threshold_target_fpr": threshold_target_fpr if source == "calibrated" else None,
        "skipped_non_finite": skipped,
        "groups": _groups(values, truth, domain_names, generator_names),
    }
    return result


def _groups(
    values: np.ndarray, truth: np.ndarray, domains: np.ndarray, generators: np.ndarray
) -> list[dict[str, Any]]:
    groups = []
    for domain in sorted(set(domains.tolist())):
        in_domain = domains == domain
        human = values[in_domain & ~truth]
        machine_generators = sorted(set(generators[in_domain & truth].tolist()))
        for generator in machine_generators:
            machine = values[in_domain & truth & (generators == generator)]
            groups.append(_group(domain, generator, human, machine))
        if not machine_generators:
            # Human texts with no machine counterpart still get a row, so nothing vanishes silently.
            groups.append(_group(domain, HUMAN, human, values[:0]))
    return groups


def _group(domain: str, generator: str, human: np.ndarray, machine: np.ndarray) -> dict[str, Any]:
    return {
        "domain": domain,
        "generator": generator,
        "n": int(len(human) + len(machine)),
        "n_human": int(len(human)),
        "n_machine": int(len(machine)),
        "auroc": _rounded(auroc(human, machine)),
        "auroc_interval": _interval(auroc_interval(human, machine)),
        "tpr_at_1pct_fpr": _rounded(tpr_at_fpr(human, machine, 0.01)),
        "tpr_at_5pct_fpr": _rounded(tpr_at_fpr(human, machine, 0.05)),
    }


def roc_plot(
    path: str | Path,
    scores: Sequence[float],
    labels: Sequence[bool],
    *,
    domains: Sequence[str] | None = None,
    generators: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """Write a ROC curve (all texts, plus one curve per machine generator) to an image file."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from sklearn.metrics import roc_curve

    path = Path(path)
    values = np.asarray(scores, dtype=float)
    truth = np.asarray(labels, dtype=bool)
    finite = np.isfinite(values)
    values, truth = values[finite], truth[finite]
    if truth.all() or not truth.any():
        raise ConfigError("a ROC curve needs both human and machine texts")

    # A Figure with its own Agg canvas: no pyplot global state, no display needed.
    figure = Figure(figsize=(6, 5), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    fpr, tpr, _ = roc_curve(truth, values)
    overall = auroc(values[~truth], values[truth])
    axes.plot(fpr, tpr, color="black", linewidth=2, label=f"all (AUROC {overall:.3f})")
    if generators is not None:
        names = np.asarray(generators, dtype=object)[finite]
        domain_names = (
            np.asarray(domains, dtype=object)[finite]
            if domains is not None
            else np.full(len(values), "all", dtype=object)
        )
        for generator in sorted(set(names[truth].tolist())):
            picked = truth & (names == generator)
            human_domains = set(domain_names[picked].tolist())
            human = ~truth & np.isin(domain_names, list(human_domains))
            if not human.any():
                continue
            subset = picked | human
            g_fpr, g_tpr, _ = roc_curve(truth[subset], values[subset])
            axes.plot(g_fpr, g_tpr, linewidth=1, alpha=0.8, label=str(generator))
    for target in FPR_TARGETS:
        axes.axvline(target, color="grey", linestyle=":", linewidth=1)
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8)
    axes.set_xlabel("false-positive rate (human texts flagged)")
    axes.set_ylabel("true-positive rate (machine texts flagged)")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.01)
    axes.set_title(title or "ROC")
    axes.legend(loc="lower right", fontsize="small")
    figure.tight_layout()
    try:
        figure.savefig(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot write plot {path}: {exc}") from None
    return path


def score_records(
    detector: Detector,
    records: Sequence[LabelledText],
    *,
    batch_size: int = 16,
    progress: Callable[[int, int], None] | None = None,
) -> list[float]:
    """Raw document scores of ``records`` through the same normalisation as ``unspun check``;
    passages are skipped for speed. ``progress(done, total)`` is called after each batch."""
    from unspun.normalize import normalize

    if batch_size < 1:
        raise ConfigError(f"batch size must be at least 1, got {batch_size}")
    scores: list[float] = []
    total = len(records)
    for start in range(0, total, batch_size):
        batch = records[start : start + batch_size]
        results = detector.score([normalize(r.text).text for r in batch], passages=False)
        scores.extend(float(result.document) for result in results)
        if progress is not None:
            progress(len(scores), total)
    return scores

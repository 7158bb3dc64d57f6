"""Cheap evasion attacks against a detector: AUROC and TPR at 1 % FPR on news machine texts, clean
versus attacked, through the real pipeline (normalisation on) and on the raw text (normalisation
off, ``detector.score`` called directly).

Attacks (fixed seed, applied to the machine texts only; human texts stay as they are):
homoglyph, zero-width, whitespace (character level: normalisation should undo them), and
upper/lower swaps, misspellings, article deletion, number swaps (word level: it cannot).

For the shipped default detector only the pairs it was not trained on are used (the same
pair_id-based split ``unspun train`` makes); pass --all-pairs to use every news text.

    python benchmarks/attacks.py [--detector default] [--data ../shared/data/detect]
        [--domain news-bbc] [--max-machine N] [--seed 0] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

# ---- attacks ------------------------------------------------------------------------------
# Each takes (text, rng) and returns the attacked text. Rates follow the published cheap-attack
# benchmarks: enough to move a tokenizer-based detector, little enough for a reader not to notice.

HOMOGLYPHS = {
    "a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "i": "і", "s": "ѕ",
    "j": "ј", "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "I": "І", "K": "К", "M": "М",
    "O": "О", "P": "Р", "T": "Т", "X": "Х", "N": "Ν", "Z": "Ζ", "v": "ν",
}  # fmt: skip
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
ODD_SPACES = ["  ", "   ", "\u00a0", "\u2003", "\u2009", "\u202f", " \u200a"]
ARTICLES = re.compile(r"\b(?:a|an|the|A|An|The)\s+")
NUMBER = re.compile(r"\d+")
WORD = re.compile(r"[A-Za-z]{4,}")


def homoglyph(text: str, rng: random.Random, rate: float = 0.2) -> str:
    return "".join(HOMOGLYPHS[c] if c in HOMOGLYPHS and rng.random() < rate else c for c in text)


def zero_width(text: str, rng: random.Random, rate: float = 0.2) -> str:
    return "".join(
        c + rng.choice(ZERO_WIDTH) if c.isalpha() and rng.random() < rate else c for c in text
    )


def whitespace(text: str, rng: random.Random, rate: float = 0.3) -> str:
    return "".join(rng.choice(ODD_SPACES) if c == " " and rng.random() < rate else c for c in text)


def upper_lower(text: str, rng: random.Random, rate: float = 0.05) -> str:
    return "".join(c.swapcase() if c.isalpha() and rng.random() < rate else c for c in text)


def misspelling(text: str, rng: random.Random, rate: float = 0.1) -> str:
    def typo(match: re.Match[str]) -> str:
        word = match.group(0)
        if rng.random() >= rate:
            return word
        i = rng.randrange(1, len(word) - 1)
        kind = rng.randrange(3)
        if kind == 0:  # swap two neighbours
            return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
        if kind == 1:  # drop a letter
            return word[:i] + word[i + 1 :]
        return word[:i] + word[i] + word[i:]  # double a letter

    return WORD.sub(typo, text)


def article_deletion(text: str, rng: random.Random, rate: float = 0.5) -> str:
    return ARTICLES.sub(lambda m: "" if rng.random() < rate else m.group(0), text)


def number_swap(text: str, rng: random.Random, rate: float = 0.5) -> str:
    def swap(match: re.Match[str]) -> str:
        if rng.random() >= rate:
            return match.group(0)
        return "".join(str(rng.randrange(10)) for _ in match.group(0))

    return NUMBER.sub(swap, text)


def char_combined(text: str, rng: random.Random) -> str:
    return whitespace(zero_width(homoglyph(text, rng), rng), rng)


ATTACKS: dict[str, tuple[Callable[[str, random.Random], str], bool]] = {
    # name: (attack, character level)
    "homoglyph": (homoglyph, True),
    "zero-width": (zero_width, True),
    "whitespace": (whitespace, True),
    "char-combined": (char_combined, True),
    "upper-lower": (upper_lower, False),
    "misspelling": (misspelling, False),
    "article-deletion": (article_deletion, False),
    "number-swap": (number_swap, False),
}


# ---- scoring ------------------------------------------------------------------------------


def pipeline_scores(checker, texts: Sequence[str], batch: int) -> np.ndarray:
    """Document scores through the real pipeline: parse_text -> normalize -> detector."""
    from unspun.article import parse_text
    from unspun.errors import UnspunError

    name = checker.detector.name
    out = np.full(len(texts), np.nan)
    for start in range(0, len(texts), batch):
        chunk = list(range(start, min(start + batch, len(texts))))
        articles, owners = [], []
        for i in chunk:
            try:
                articles.append(parse_text(texts[i]))
                owners.append(i)
            except UnspunError:
                continue
        for i, report in zip(owners, checker.check_many(articles), strict=True):
            out[i] = report.scores.get(name, np.nan)
    return out


def raw_scores(detector, texts: Sequence[str], batch: int) -> np.ndarray:
    """Document scores of the raw text, no normalisation: what a detector alone would see."""
    out = []
    for start in range(0, len(texts), batch):
        out += [
            s.document for s in detector.score(list(texts[start : start + batch]), passages=False)
        ]
    return np.asarray(out, dtype=float)


def metrics(human: np.ndarray, machine: np.ndarray, threshold: float) -> dict[str, float]:
    """AUROC, TPR at 1 % FPR of this set's human texts, and the share of machine texts at or
    above the detector's own calibrated 1 % threshold (NaN without a calibration): the verdict a
    user would get, which does not depend on the few human texts of the set."""
    from unspun.detect.evaluate import auroc, tpr_at_fpr

    human, machine = human[np.isfinite(human)], machine[np.isfinite(machine)]
    return {
        "auroc": float(auroc(human, machine)),
        "tpr": float(tpr_at_fpr(human, machine, 0.01)),
        "flagged": float(np.mean(machine >= threshold)) if np.isfinite(threshold) else np.nan,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--detector", default="default", help="registry name or trained directory")
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "detect"))
    parser.add_argument("--domain", default="news-bbc")
    parser.add_argument(
        "--all-pairs", action="store_true", help="do not restrict to held-out pairs"
    )
    parser.add_argument(
        "--max-machine", type=int, default=0, help="subsample machine texts (0: all)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--attacks", default=",".join(ATTACKS), help="comma-separated subset")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (shared machines: 1)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from unspun.detect.data import read_labelled
    from unspun.detect.supervised.train import is_heldout, pair_key
    from unspun.pipeline import CheckConfig, Checker

    files = sorted(Path(args.data).glob("*.jsonl"))
    if not files:
        print(f"no JSONL files in {args.data}", file=sys.stderr)
        return 2
    records = [r for r in read_labelled(files) if r.domain == args.domain]
    heldout_only = not args.all_pairs
    if heldout_only:
        records = [r for r in records if is_heldout(pair_key(r))]
    human = [r.text for r in records if not r.is_machine]
    machine = [r.text for r in records if r.is_machine]
    rng = random.Random(args.seed)
    if args.max_machine and len(machine) > args.max_machine:
        machine = rng.sample(machine, args.max_machine)
    if not human or not machine:
        print(f"no {args.domain} texts of both labels in {args.data}", file=sys.stderr)
        return 2
    split = "held-out pairs only" if heldout_only else "all pairs (may overlap the training data)"
    print(f"data: {args.domain}, {len(human)} human + {len(machine)} machine texts ({split})")

    began = time.monotonic()
    # Only raw document scores are read, never verdicts, so any calibration target will do.
    checker = Checker(CheckConfig(detector=args.detector, tokens=False, target_fpr=0.5))
    detector = checker.detector
    print(f"detector: {detector.name} {detector.version}")

    base = {
        "pipeline": (
            pipeline_scores(checker, human, args.batch),
            pipeline_scores(checker, machine, args.batch),
        ),
        "raw": (raw_scores(detector, human, args.batch), raw_scores(detector, machine, args.batch)),
    }
    calibration = checker.calibration
    threshold = calibration.threshold(0.01) if calibration is not None else float("nan")
    results: dict[str, dict] = {"clean": {}}
    for mode, (h, m) in base.items():
        results["clean"][mode] = metrics(h, m, threshold)

    for name in [a for a in args.attacks.split(",") if a]:
        attack, char_level = ATTACKS[name]
        attack_rng = random.Random(f"{args.seed}:{name}")
        attacked = [attack(text, attack_rng) for text in machine]
        results[name] = {"character_level": char_level}
        for mode in ("pipeline", "raw"):
            h = base[mode][0]
            m = (
                pipeline_scores(checker, attacked, args.batch)
                if mode == "pipeline"
                else raw_scores(detector, attacked, args.batch)
            )
            results[name][mode] = metrics(h, m, threshold)
        print(f"  {name}: done ({time.monotonic() - began:.0f} s)", file=sys.stderr)

    print()
    print(
        "| attack | level | AUROC with normalisation (Δ) | TPR@1%FPR with "
        "| flagged at calibrated 1 % with | AUROC without (Δ) | TPR@1%FPR without "
        "| flagged without |"
    )
    print("|---|---|---|---|---|---|---|---|")
    clean = results["clean"]
    for name, row in results.items():
        level = "—" if name == "clean" else ("character" if row["character_level"] else "word")
        cells = []
        for mode in ("pipeline", "raw"):
            auc, tpr = row[mode]["auroc"], row[mode]["tpr"]
            delta = auc - clean[mode]["auroc"]
            cells.append(f"{auc:.3f}" + ("" if name == "clean" else f" ({delta:+.3f})"))
            cells.append(f"{tpr:.3f}")
            cells.append(f"{row[mode]['flagged']:.3f}")
        print(f"| {name} | {level} | " + " | ".join(cells) + " |")
    worst = max(
        (abs(row["pipeline"]["auroc"] - clean["pipeline"]["auroc"]), name)
        for name, row in results.items()
        if name != "clean" and row["character_level"]
    )
    print(
        "\nlargest AUROC change from a character-level attack with normalisation: "
        f"{worst[0]:.3f} ({worst[1]}); target <= 0.02"
    )
    print(f"({time.monotonic() - began:.0f} s)")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "detector": f"{detector.name} {detector.version}",
            "domain": args.domain,
            "heldout_only": heldout_only,
            "n_human": len(human),
            "n_machine": len(machine),
            "seed": args.seed,
            "results": results,
        }
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

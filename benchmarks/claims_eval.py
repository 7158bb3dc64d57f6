"""Claim labelling on a set built from the shared pairs: precision/recall of ``unsupported``.

    python benchmarks/claims_eval.py [--pairs 80]

For each sampled (human original, machine text) pair of the news and Wikipedia domains the
original is the source, and three articles are checked against it:
  * supported:    the original's sentences after its opening, lightly reworded by rules (synonyms,
                  numbers written out), so no sentence is a verbatim copy;
  * unsupported:  the machine text's sentences after the opening it shares with the original (the
                  generator invented them; a few may restate the original by chance: label noise);
  * contradicted: original sentences holding a figure, with that figure changed.
Sentences the checker calls not_checkable count as "not flagged". Nothing is written to the repo.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from shared_data import load_pairs, reword, strip_shared_opening  # noqa: E402


def change_figure(sentence: str, rng: random.Random) -> str | None:
    numbers = list(re.finditer(r"(?<![\d.,])\d+(?:\.\d+)?(?![\d.,]\d)", sentence))
    numbers = [
        m for m in numbers if not (len(m.group()) == 4 and m.group().startswith(("19", "20")))
    ]
    if not numbers:
        return None
    target = rng.choice(numbers)
    value = float(target.group())
    new = (
        value + rng.choice([2, 3, 5, 7])
        if value < 10
        else round(value * rng.choice([1.3, 1.5, 0.6]))
    )
    text = f"{new:g}" if isinstance(new, float) else str(new)
    return sentence[: target.start()] + text + sentence[target.end() :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=80)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from unspun.article.sentences import split_sentences
    from unspun.provenance.claims import ClaimChecker, prepare_source
    from unspun.provenance.index import SourceIndex
    from unspun.provenance.store import SourceDoc

    rng = random.Random(args.seed)
    originals, machines = load_pairs()
    pairs = [m for m in machines if m["domain"] in {"news-bbc", "wikipedia"}]
    rng.shuffle(pairs)
    chosen, used = [], set()
    for machine in pairs:
        if machine["pair_id"] not in used:
            used.add(machine["pair_id"])
            chosen.append(machine)
        if len(chosen) >= args.pairs:
            break
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        index = SourceIndex(directory, create=True)
        index.add(
            [SourceDoc(id=m["pair_id"], text=originals[m["pair_id"]]["text"]) for m in chosen]
        )
        checker = ClaimChecker(index.encoder)
        confusion: Counter[tuple[str, str]] = Counter()
        for machine in chosen:
            original = originals[machine["pair_id"]]["text"]
            (stored,) = index.store.fetch(index.store.keys_for_ids([machine["pair_id"]]))
            source = prepare_source(stored, index.store, index.encoder)
            sentences = [original[s:e] for s, e in split_sentences(original)][1:]
            invented = strip_shared_opening(machine["text"], original)
            invented_sentences = [invented[s:e] for s, e in split_sentences(invented)][1:]
            changed = [c for c in (change_figure(s, rng) for s in sentences) if c]
            for truth, texts in (
                ("supported", [reword(s) for s in sentences]),
                ("unsupported", invented_sentences),
                ("contradicted", changed),
            ):
                if not texts:
                    continue
                body = "\n\n".join(texts)
                for result in checker.check(body, [source]):
                    confusion[(truth, result.status)] += 1
    seconds = time.perf_counter() - started
    labels = ["supported", "unsupported", "contradicted", "not_checkable"]
    print(f"{len(chosen)} source articles; rows = truth, columns = predicted ({seconds:.0f} s)")
    print(f"{'':14s}" + "".join(f"{label:>15s}" for label in labels))
    for truth in labels[:3]:
        print(f"{truth:14s}" + "".join(f"{confusion[(truth, p)]:15d}" for p in labels))

    def report(positive: set[str], truth_label: str, name: str) -> None:
        tp = sum(n for (t, p), n in confusion.items() if t == truth_label and p in positive)
        fp = sum(n for (t, p), n in confusion.items() if t != truth_label and p in positive)
        fn = sum(n for (t, p), n in confusion.items() if t == truth_label and p not in positive)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        print(f"{name}: precision {precision:.3f}, recall {recall:.3f} (n={tp + fn})")

    report({"unsupported"}, "unsupported", "unsupported")
    report(
        {"unsupported", "contradicted"},
        "unsupported",
        "unsupported (flagged: unsupported or contradicted)",
    )
    report({"contradicted"}, "contradicted", "contradicted")


if __name__ == "__main__":
    main()

"""How often each template signal fires on the shared labelled data (human vs machine texts), and
how fast plain-text parsing is.

Usage: python benchmarks/article_signals.py [../shared/data/detect]
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from unspun.article import parse_text
from unspun.errors import UnspunError


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/detect")
    totals: Counter[tuple[str, str]] = Counter()
    fired: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    characters = 0
    elapsed = 0.0
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            key = (record["domain"], record["label"])
            started = time.perf_counter()
            try:
                article = parse_text(record["text"])
            except UnspunError:
                fired[key]["(unparseable)"] += 1
                totals[key] += 1
                continue
            elapsed += time.perf_counter() - started
            characters += len(record["text"])
            totals[key] += 1
            for signal_id in {s.id for s in article.signals}:
                fired[key][signal_id] += 1
    print(
        f"parsed {sum(totals.values()):,} texts, {characters / 1e6:.1f} M characters in "
        f"{elapsed:.2f} s ({characters / 1e6 / elapsed:.1f} M chars/s)"
    )
    signal_ids = sorted({s for counter in fired.values() for s in counter})
    print(f"{'domain':<16}{'label':<9}{'n':>6}  " + "  ".join(f"{s}" for s in signal_ids))
    for key in sorted(totals):
        n = totals[key]
        row = "  ".join(f"{100 * fired[key][s] / n:>{len(s)}.1f}" for s in signal_ids)
        print(f"{key[0]:<16}{key[1]:<9}{n:>6}  {row}")
    print("(cells: % of texts in which the signal fired)")


if __name__ == "__main__":
    main()

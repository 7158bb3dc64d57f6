"""How often the assessment gives each label (likely_spun, possibly_spun, no_sign, uncertain) to
human news that is not spun and to spun articles, with 95% Wilson intervals.

- human news: the human texts of domain news-bbc in ../shared/data/detect/open-generators.jsonl,
  checked as plain-text articles. The data set cut every text at a fixed length, mostly
  mid-sentence; each is trimmed back to its last full sentence so that the data set's cut does not
  count as a body_cut_off signal (--as-given keeps the cut, to see what it costs).
- spun articles: the machine texts of ../shared/data/detect/current-news.jsonl wrapped, by the code
  below, in a content-farm template: a one-name byline, the headline (the first words of the text)
  repeated under itself, the body cut mid-sentence, then "Share this:" links and "Leave a Comment".

    python benchmarks/assessment_rates.py [--detector default] [--limit N] [--index LOCATION]
        [--data DIR] [--target-fpr 0.01] [--batch-size 16] [--threads 2] [--as-given]

By construction each spun article carries one strong template sign (the duplicated headline) and
three moderate ones (one-name byline, boilerplate, cut-off body): likely_spun under the rules
whatever the machine-writing detector says, so its row checks that the signs are found. The human
row is the false-alarm rate a publisher would see.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LABELS = ("likely_spun", "possibly_spun", "no_sign", "uncertain")
PERSONAS = ("Dana", "Marilyn", "Kevin", "Sophie", "Arjun", "Lena", "Marco", "Grace")
HEADLINE_WORDS = 10
# Where the spun body is cut: a share of its words, then a few words into the next sentence.
CUT_SHARE = 0.8
CUT_WORDS = 6
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*(?=\s|$)")


def read_jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def to_last_sentence(text: str) -> str:
    """The text up to its last full stop, question or exclamation mark (all of it if none)."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return text[: ends[-1]] if ends else text


def headline_of(text: str) -> str:
    first = to_first_sentence(text)
    words = first.split()[:HEADLINE_WORDS]
    return " ".join(words).rstrip(".,;:!?\"'”’")


def to_first_sentence(text: str) -> str:
    match = _SENTENCE_END.search(text)
    return text[: match.end()] if match else text


def cut_mid_sentence(text: str) -> str:
    """The body up to the last sentence end before CUT_SHARE of its length, plus the first few
    words of the next sentence: stopped mid-sentence, as a generator or scraper leaves it."""
    limit = int(len(text) * CUT_SHARE)
    ends = [m.end() for m in _SENTENCE_END.finditer(text) if m.end() <= limit]
    if not ends:
        return " ".join(text.split()[: CUT_WORDS * 4])
    head, rest = text[: ends[-1]], text[ends[-1] :]
    fragment = " ".join(rest.split()[:CUT_WORDS]).rstrip(".!?\"'”’")
    return f"{head} {fragment}"


def farm_template(record: dict) -> str:
    text = record["text"].strip()
    digest = hashlib.sha1(str(record.get("id", text[:40])).encode("utf-8")).digest()
    persona = PERSONAS[digest[0] % len(PERSONAS)]
    headline = headline_of(text)
    return (
        f"Author: {persona}\n\n{headline}\n\n{headline}\n\n{cut_mid_sentence(text)}\n\n"
        "Share this:\nFacebook\nTwitter\n\nLeave a Comment\n"
    )


def human_news(data: Path, *, as_given: bool) -> list[str]:
    records = read_jsonl(data / "open-generators.jsonl")
    texts = [r["text"] for r in records if r["domain"] == "news-bbc" and r["label"] == "human"]
    return texts if as_given else [to_last_sentence(t.strip()) for t in texts]


def spun_articles(data: Path) -> list[str]:
    records = read_jsonl(data / "current-news.jsonl")
    return [farm_template(r) for r in records if r["label"] == "machine"]


def rate(count: int, total: int, interval: Callable[[int, int], tuple[float, float]]) -> str:
    low, high = interval(count, total)
    share = count / total if total else 0.0
    return f"{share:6.1%} [{low:5.1%}-{high:5.1%}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--detector", default="default", help="registry name or trained directory")
    parser.add_argument("--limit", type=int, help="check at most N articles of each set")
    parser.add_argument("--index", help="a source index to trace and check claims against")
    parser.add_argument("--data", default=str(REPO.parent / "shared/data/detect"))
    parser.add_argument("--target-fpr", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--as-given", action="store_true", help="keep the data set's cut")
    args = parser.parse_args()

    import torch

    from unspun.article import parse_text
    from unspun.pipeline import CheckConfig, Checker
    from unspun.stats import wilson_interval

    torch.set_num_threads(args.threads)
    data = Path(args.data)
    sets = {
        "human news (news-bbc)": human_news(data, as_given=args.as_given),
        "spun (current-news in a template)": spun_articles(data),
    }
    checker = Checker(
        CheckConfig(detector=args.detector, target_fpr=args.target_fpr, index=args.index)
    )
    print(
        f"detector {args.detector} ({checker.detector.name} {checker.detector.version}), "
        f"target FPR {args.target_fpr:g}, index {args.index or 'none'}"
        + (", human texts as given" if args.as_given else ", human texts to their last sentence")
    )
    header = f"{'set':<36}{'n':>5}  " + "  ".join(f"{label:<22}" for label in LABELS)
    lines = [header]
    notes = []
    started = time.perf_counter()
    for name, texts in sets.items():
        texts = texts[: args.limit] if args.limit else texts
        labels: Counter[str] = Counter()
        verdicts: Counter[str] = Counter()
        counted: Counter[str] = Counter()
        for begin in range(0, len(texts), args.batch_size):
            articles = [parse_text(t) for t in texts[begin : begin + args.batch_size]]
            for report in checker.check_many(articles):
                assessment = report.assessment
                labels[assessment.label] += 1
                verdicts[report.verdict] += 1
                if assessment.label in ("likely_spun", "possibly_spun"):
                    counted.update(
                        f"{e.kind}/{e.strength}"
                        for e in assessment.evidence
                        if e.points_to == "spun" and e.strength != "weak"
                    )
        total = sum(labels.values())
        cells = "  ".join(f"{rate(labels[label], total, wilson_interval):<22}" for label in LABELS)
        lines.append(f"{name:<36}{total:>5}  {cells}")
        notes.append(
            f"{name}: detector verdicts "
            + ", ".join(f"{v} {verdicts[v]}" for v in ("machine", "uncertain", "human"))
            + "; evidence behind spun labels: "
            + (", ".join(f"{k} {n}" for k, n in counted.most_common()) or "none")
        )
    print("\n".join(lines))
    print("(share of articles given each label, 95% Wilson interval)")
    print("\n".join(notes))
    print(f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How often the assessment gives each label (likely_spun, possibly_spun, no_sign, uncertain) to
human news that is not spun and to spun articles, with 95% Wilson intervals.

Rows (``--sets``, all by default):

- ``human``: the human texts of domain news-bbc in ../shared/data/detect/open-generators.jsonl,
  checked as plain-text articles (with ``--index`` if given, else with no index). The data set cut
  every text at a fixed length, mostly mid-sentence; each is trimmed back to its last full
  sentence so that the data set's cut does not count as a body_cut_off signal (--as-given keeps
  the cut, to see what it costs).
- ``spun``: the machine texts of ../shared/data/detect/current-news.jsonl wrapped, by the code
  below, in a content-farm template: a one-name byline, the headline (the first words of the text)
  repeated under itself, the body cut mid-sentence, then "Share this:" links and "Leave a Comment".
- ``human-index``: human news checked WITH an index that holds other stories, not the article.
  The 364 human news-bbc texts are split by a seeded shuffle (--seed): the first --sample are
  checked, all the others go into a SQLite index built for the run (in a temporary directory,
  through the library's SourceIndex). Each indexed story gets as its title the same stand-in
  headline the templates use (its first ten words; the data set has no headlines). The trace finds
  no source or an unrelated one, so every contradicted or unsupported claim is a false alarm:
  this row is the false-alarm rate a fact-checker with an index sees.
- ``invented``: spun articles whose claims are invented against a source in that same index. The
  next --sample stories of the shuffle (disjoint from the checked human ones, and indexed) are
  the genuine sources. From each the code below makes, deterministically (a random.Random seeded
  with --seed and the record id), an article that:
    * keeps the source's headline (its stand-in title) as its title and its first sentence
      verbatim;
    * alters up to ALTERED (3) later sentences, chosen at random among those holding a fact it
      can change, one fact each, tried in this order: a figure (a number that is neither a year
      nor an ordinal: below 10 gets 2, 3, 5 or 7 added, else is scaled by 0.6, 1.3 or 1.5 and
      rounded), a date (a weekday or month name becomes another; a year moves by 1 to 3 either
      way), a name (the second word of a pair of capitalised words inside the sentence becomes
      another surname; this also hits places and bodies, "Port Talbot" -> "Port Okafor");
    * keeps each remaining sentence with probability KEEP (0.5), else drops it;
    * inserts INVENTED (2) sentences at random places after the first: one quotation given to an
      invented spokesperson of an invented body, one invented figure or date with an invented
      attribution (templates and word lists below);
    * sets the sentences in paragraphs of two.
  It is checked as a plain-text article with that title and no byline.
- ``invented-template``: the same invented articles wrapped in the content-farm template of the
  ``spun`` row.

    python benchmarks/assessment_rates.py [--detector default] [--limit N] [--index LOCATION]
        [--data DIR] [--target-fpr 0.01] [--batch-size 16] [--threads 2] [--as-given]
        [--sets human,spun,human-index,invented,invented-template] [--sample 80] [--seed 14]
        [--index-stories N] [--examples 5]

--limit N checks the first N of every row (of the --sample drawn for the indexed rows; the index
still holds all the stories not checked).

Besides the label shares, each row gives how many of its articles carry two or more strong pieces
of evidence and the share of those labelled likely_spun (the issue's target: at least 90%), the
detector's verdicts and the evidence behind spun labels; indexed rows also say how often the
trace's first candidate is the true source and how many claims were contradicted or unsupported.
Articles of the human rows labelled likely_spun or possibly_spun are listed by id with their
evidence (--examples per row), so a false alarm can be looked up.

By construction each ``spun`` article carries one strong template sign (the duplicated headline)
and three moderate ones (one-name byline, boilerplate, cut-off body): likely_spun under the rules
whatever the machine-writing detector says, so its row checks that the signs are found.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LABELS = ("likely_spun", "possibly_spun", "no_sign", "uncertain")
SETS = ("human", "spun", "human-index", "invented", "invented-template")
INDEXED_SETS = frozenset({"human-index", "invented", "invented-template"})
PERSONAS = ("Dana", "Marilyn", "Kevin", "Sophie", "Arjun", "Lena", "Marco", "Grace")
HEADLINE_WORDS = 10
# Where the spun body is cut: a share of its words, then a few words into the next sentence.
CUT_SHARE = 0.8
CUT_WORDS = 6
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*(?=\s|$)")

# How an invented article is made from its source (see the module docstring).
ALTERED = 3
KEEP = 0.5
INVENTED = 2
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
FIRST_NAMES = ("Daniel", "Priya", "Owen", "Fiona", "Tariq", "Helen", "Ruth", "Callum")
SURNAMES = ("Hargreaves", "Okafor", "Lindqvist", "Pembroke", "Castellano", "Whitfield", "Brennan")
BODIES = (
    "the Regional Development Trust",
    "the National Standards Council",
    "the Coastal Communities Forum",
    "the Independent Review Panel",
)
QUOTES = (
    "This changes everything for the people who live and work here",
    "We were never given the full picture, and that has to change now",
    "Nobody expected this to happen so quickly, and we are still counting the cost",
    "It is a decision that families will feel for years to come",
    "We warned about exactly this risk more than a year ago",
)
FIGURE_CLAIMS = (
    "The total cost is now expected to exceed £{n} million, according to figures released by "
    "{body} on {weekday}.",
    "More than {n},000 people are thought to have been affected, {first} {last} of {body} said.",
    "A full report is due in {month} {year}, {body} confirmed on {weekday}.",
)
# Capitalised words that start a pair without being a first name.
_NOT_NAMES = frozenset(
    "The A An In On At For But And Of To By As It He She They We This That Its His Her Their "
    "Mr Mrs Ms Dr Sir Lord Lady".split()
)
# A figure, not an ordinal ("15th") or part of a longer number.
_FIGURE = re.compile(
    r"(?<![\d.,£$€])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\d]|[.,]\d|st\b|nd\b|rd\b|th\b)"
)
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
_NAME_PAIR = re.compile(r"(?<=\w )([A-Z][a-z]+) ([A-Z][a-z]{2,})\b")


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


def farm_wrap(headline: str, body: str, key: str) -> str:
    """``body`` in the content-farm template, under a one-name byline picked by ``key``."""
    digest = hashlib.sha1(key.encode("utf-8")).digest()
    persona = PERSONAS[digest[0] % len(PERSONAS)]
    return (
        f"Author: {persona}\n\n{headline}\n\n{headline}\n\n{cut_mid_sentence(body)}\n\n"
        "Share this:\nFacebook\nTwitter\n\nLeave a Comment\n"
    )


def farm_template(record: dict) -> str:
    text = record["text"].strip()
    return farm_wrap(headline_of(text), text, str(record.get("id", text[:40])))


@dataclass(frozen=True)
class Case:
    """One article to check: its text (and title, when given apart from the text), and for an
    invented article the id of the indexed story it was made from."""

    id: str
    text: str
    title: str | None = None
    source_id: str | None = None


def human_records(data: Path) -> list[dict]:
    records = read_jsonl(data / "open-generators.jsonl")
    return [r for r in records if r["domain"] == "news-bbc" and r["label"] == "human"]


def human_news(data: Path, *, as_given: bool) -> list[str]:
    texts = [r["text"] for r in human_records(data)]
    return texts if as_given else [to_last_sentence(t.strip()) for t in texts]


def spun_articles(data: Path) -> list[str]:
    records = read_jsonl(data / "current-news.jsonl")
    return [farm_template(r) for r in records if r["label"] == "machine"]


# --- invented claims ------------------------------------------------------------------------


def change_figure(sentence: str, rng: random.Random) -> str | None:
    numbers = [m for m in _FIGURE.finditer(sentence) if not _YEAR.fullmatch(m.group())]
    if not numbers:
        return None
    target = rng.choice(numbers)
    written = target.group()
    value = float(written.replace(",", ""))
    if value < 10:
        new = value + rng.choice((2, 3, 5, 7))
    else:
        new = round(value * rng.choice((0.6, 1.3, 1.5)))
    text = f"{new:,.0f}" if "," in written else f"{new:g}"
    return sentence[: target.start()] + text + sentence[target.end() :]


def change_date(sentence: str, rng: random.Random) -> str | None:
    for names in (WEEKDAYS, MONTHS):
        found = re.search(r"\b(" + "|".join(names) + r")\b", sentence)
        if found:
            other = rng.choice([n for n in names if n != found.group()])
            return sentence[: found.start()] + other + sentence[found.end() :]
    year = _YEAR.search(sentence)
    if year:
        moved = int(year.group()) + rng.choice((-3, -2, -1, 1, 2, 3))
        return sentence[: year.start()] + str(moved) + sentence[year.end() :]
    return None


def change_name(sentence: str, rng: random.Random) -> str | None:
    pairs = [m for m in _NAME_PAIR.finditer(sentence) if m.group(1) not in _NOT_NAMES]
    if not pairs:
        return None
    target = rng.choice(pairs)
    other = rng.choice([s for s in SURNAMES if s != target.group(2)])
    return sentence[: target.start(2)] + other + sentence[target.end(2) :]


CHANGES = (change_figure, change_date, change_name)


def alter(sentence: str, rng: random.Random) -> str | None:
    """The sentence with one fact changed (the first kind of CHANGES that applies), or None."""
    for change in CHANGES:
        changed = change(sentence, rng)
        if changed is not None and changed != sentence:
            return changed
    return None


def invented_sentences(rng: random.Random) -> list[str]:
    def person() -> tuple[str, str]:
        return rng.choice(FIRST_NAMES), rng.choice(SURNAMES)

    first, last = person()
    quote = f"\u201c{rng.choice(QUOTES)},\u201d said {first} {last}, a spokesperson for "
    quote += f"{rng.choice(BODIES)}."
    first, last = person()
    figure = rng.choice(FIGURE_CLAIMS).format(
        n=rng.randint(12, 480),
        body=rng.choice(BODIES),
        weekday=rng.choice(WEEKDAYS),
        month=rng.choice(MONTHS),
        year=rng.choice((2027, 2028)),
        first=first,
        last=last,
    )
    return [quote, figure][:INVENTED]


def invent_claims(text: str, rng: random.Random) -> tuple[str, str, int]:
    """(headline, body, facts changed) of an article spun from ``text`` as the docstring says."""
    from unspun.article.sentences import split_sentences

    sentences = [text[s:e] for s, e in split_sentences(text)]
    headline = headline_of(text)
    changed = {i: alter(s, rng) for i, s in enumerate(sentences) if i > 0}
    changeable = sorted(i for i, c in changed.items() if c is not None)
    chosen = set(rng.sample(changeable, min(ALTERED, len(changeable))))
    body = sentences[:1]
    for i, sentence in enumerate(sentences[1:], start=1):
        if i in chosen:
            body.append(changed[i] or sentence)
        elif rng.random() < KEEP:
            body.append(sentence)
    for sentence in invented_sentences(rng):
        body.insert(rng.randint(1, len(body)), sentence)
    # Paragraphs of two sentences, as a web page would show them.
    paragraphs = [" ".join(body[i : i + 2]) for i in range(0, len(body), 2)]
    return headline, "\n\n".join(paragraphs), len(chosen)


def split_human(records: list[dict], *, seed: int, sample: int) -> tuple[list[dict], list[dict]]:
    """The seeded shuffle of the human news: (the --sample checked against the index, the rest:
    indexed, the first --sample of them also the sources of the invented articles)."""
    order = sorted(records, key=lambda r: r["id"])
    random.Random(seed).shuffle(order)
    return order[:sample], order[sample:]


def invented_cases(sources: list[dict], *, seed: int, template: bool) -> list[Case]:
    cases = []
    for record in sources:
        rng = random.Random(f"{seed}/{record['id']}")
        headline, body, _ = invent_claims(to_last_sentence(record["text"].strip()), rng)
        key = f"invented/{record['id']}"
        if template:
            cases.append(Case(key, farm_wrap(headline, body, key), source_id=record["id"]))
        else:
            cases.append(Case(key, body, title=headline, source_id=record["id"]))
    return cases


def build_index(location: str, records: list[dict]) -> int:
    """A SQLite index of ``records`` (trimmed to their last sentence, titled by headline_of)."""
    from unspun.provenance import SourceDoc, SourceIndex

    index = SourceIndex(location, create=True)
    try:
        docs = []
        for record in records:
            text = to_last_sentence(record["text"].strip())
            docs.append(SourceDoc(id=record["id"], text=text, title=headline_of(text)))
        return index.add(docs).added
    finally:
        index.close()


# --- the run ----------------------------------------------------------------------------------


def rate(count: int, total: int, interval: Callable[[int, int], tuple[float, float]]) -> str:
    low, high = interval(count, total)
    share = count / total if total else 0.0
    return f"{share:6.1%} [{low:5.1%}-{high:5.1%}]"


@dataclass
class Tally:
    labels: Counter[str]
    verdicts: Counter[str]
    counted: Counter[str]
    claims: Counter[str]
    two_strong: int = 0
    two_strong_likely: int = 0
    traced: int = 0
    with_source: int = 0
    flagged: list[str] | None = None

    @classmethod
    def new(cls) -> Tally:
        return cls(Counter(), Counter(), Counter(), Counter(), flagged=[])


def tally(tallied: Tally, case: Case, report) -> None:  # noqa: ANN001 - unspun.report.Report
    assessment = report.assessment
    tallied.labels[assessment.label] += 1
    tallied.verdicts[report.verdict] += 1
    spun = [e for e in assessment.evidence if e.points_to == "spun"]
    if sum(e.strength == "strong" for e in spun) >= 2:
        tallied.two_strong += 1
        tallied.two_strong_likely += assessment.label == "likely_spun"
    if assessment.label in ("likely_spun", "possibly_spun"):
        tallied.counted.update(f"{e.kind}/{e.strength}" for e in spun if e.strength != "weak")
        counted = [f"{e.strength}: {e.message}" for e in spun if e.strength != "weak"]
        traced = ""
        if report.sources:
            top = report.sources[0]
            traced = f" (first candidate {top.id}, score {top.score:.2f})"
        tallied.flagged.append(f"{case.id} {assessment.label}{traced} <- " + " | ".join(counted))
    tallied.claims.update(c.status for c in report.claims or [])
    if case.source_id is not None:
        tallied.with_source += 1
        tallied.traced += bool(report.sources) and report.sources[0].id == case.source_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--detector", default="default", help="registry name or trained directory")
    parser.add_argument("--limit", type=int, help="check at most N articles of each set")
    parser.add_argument("--index", help="a source index to check the human and spun rows against")
    parser.add_argument("--data", default=str(REPO.parent / "shared/data/detect"))
    parser.add_argument("--target-fpr", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--as-given", action="store_true", help="keep the data set's cut")
    parser.add_argument(
        "--sets", default=",".join(SETS), help=f"rows to run, comma-separated ({', '.join(SETS)})"
    )
    parser.add_argument(
        "--sample", type=int, default=80, help="articles of each indexed row (seeded selection)"
    )
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--index-stories", type=int, help="index at most N stories (default: all not checked)"
    )
    parser.add_argument("--examples", type=int, default=5, help="flagged human ids listed per row")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SETS]
    if unknown or not chosen:
        parser.error(f"--sets takes some of {', '.join(SETS)}; got {args.sets!r}")

    import torch

    from unspun.article import parse_text
    from unspun.pipeline import CheckConfig, Checker
    from unspun.stats import wilson_interval

    torch.set_num_threads(args.threads)
    data = Path(args.data)
    records = human_records(data)
    checked, others = split_human(records, seed=args.seed, sample=args.sample)
    indexed = others if args.index_stories is None else others[: args.index_stories]
    sources = indexed[: args.sample]
    sets: dict[str, tuple[str, list[Case]]] = {}
    if "human" in chosen:
        texts = human_news(data, as_given=args.as_given)
        ids = [r["id"] for r in records]
        cases = [Case(i, t) for i, t in zip(ids, texts, strict=True)]
        where = "the --index" if args.index else "no index"
        sets["human"] = (f"human news ({where})", cases)
    if "spun" in chosen:
        spun = [r for r in read_jsonl(data / "current-news.jsonl") if r["label"] == "machine"]
        cases = [Case(r["id"], t) for r, t in zip(spun, spun_articles(data), strict=True)]
        sets["spun"] = ("spun (current-news, template)", cases)
    if "human-index" in chosen:
        cases = [
            Case(r["id"], r["text"] if args.as_given else to_last_sentence(r["text"].strip()))
            for r in checked
        ]
        sets["human-index"] = ("human news, index of others", cases)
    if "invented" in chosen:
        sets["invented"] = (
            "invented claims vs source",
            invented_cases(sources, seed=args.seed, template=False),
        )
    if "invented-template" in chosen:
        sets["invented-template"] = (
            "invented claims, template",
            invented_cases(sources, seed=args.seed, template=True),
        )

    started = time.perf_counter()
    checker = Checker(
        CheckConfig(detector=args.detector, target_fpr=args.target_fpr, index=args.index)
    )
    workdir = tempfile.TemporaryDirectory(prefix="assessment-rates-")
    indexed_checker = None
    if INDEXED_SETS & set(sets):
        location = str(Path(workdir.name) / "index")
        added = build_index(location, indexed)
        indexed_checker = Checker(
            CheckConfig(detector=args.detector, target_fpr=args.target_fpr, index=location),
            detector=checker.detector,
        )
        print(
            f"built an index of {added} human news stories (seed {args.seed}; none of the "
            f"{len(checked)} checked human texts) in {time.perf_counter() - started:.0f} s"
        )
    print(
        f"detector {args.detector} ({checker.detector.name} {checker.detector.version}), "
        f"target FPR {args.target_fpr:g}, index {args.index or 'none'} for human/spun"
        + (", human texts as given" if args.as_given else ", human texts to their last sentence")
    )
    header = (
        f"{'set':<32}{'n':>4}  "
        + "  ".join(f"{label:<21}" for label in LABELS)
        + "  likely_spun if 2+ strong"
    )
    lines = [header]
    notes = []
    for key, (name, cases) in sets.items():
        cases = cases[: args.limit] if args.limit else cases
        use = indexed_checker if key in INDEXED_SETS else checker
        tallied = Tally.new()
        began = time.perf_counter()
        for begin in range(0, len(cases), args.batch_size):
            batch = cases[begin : begin + args.batch_size]
            articles = [parse_text(c.text, title=c.title) for c in batch]
            for case, report in zip(batch, use.check_many(articles), strict=True):
                tally(tallied, case, report)
        total = sum(tallied.labels.values())
        cells = "  ".join(
            f"{rate(tallied.labels[label], total, wilson_interval):<21}" for label in LABELS
        )
        strong = (
            f"{tallied.two_strong_likely}/{tallied.two_strong} "
            f"{rate(tallied.two_strong_likely, tallied.two_strong, wilson_interval)}"
            if tallied.two_strong
            else "0/0"
        )
        lines.append(f"{name:<32}{total:>4}  {cells}  {strong}")
        note = (
            f"{name}: detector verdicts "
            + ", ".join(f"{v} {tallied.verdicts[v]}" for v in ("machine", "uncertain", "human"))
            + "; evidence behind spun labels: "
            + (", ".join(f"{k} {n}" for k, n in tallied.counted.most_common()) or "none")
        )
        if key in INDEXED_SETS or args.index:
            note += "; claims " + (
                ", ".join(f"{k} {n}" for k, n in tallied.claims.most_common()) or "none"
            )
        if tallied.with_source:
            note += f"; traced to its source first {tallied.traced}/{tallied.with_source}"
        note += f"; {time.perf_counter() - began:.0f} s"
        if key in ("human", "human-index") and tallied.flagged:
            note += "".join(f"\n    {line}" for line in tallied.flagged[: args.examples])
        notes.append(note)
    workdir.cleanup()
    print("\n".join(lines))
    print(
        "(share of articles given each label, 95% Wilson interval; last column: of the articles "
        "with two or more strong pieces of evidence, how many are labelled likely_spun)"
    )
    print("\n".join(notes))
    print(f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

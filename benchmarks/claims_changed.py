"""Changed facts: how the claim check labels sentences that keep a source's meaning, change one
fact of it, or say what it never mentions; by kind of change, on written passages and on real
news.

    python benchmarks/claims_changed.py [--part written|news|both] [--per-kind 40] [--seed 7]
        [--judge default|rules|DIR] [--show N] [--threads 1]
    python benchmarks/claims_changed.py --speed [--runs 7] [--threads 2]

Cases are (claim, source) pairs of these kinds:

  faithful     the source's meaning in other words (truth: supported)
  number       one figure changed (truth: contradicted)
  date         one day, weekday, month or year changed
  duration     one length of time changed
  name         one person's name changed (an invented name, or another person of the source)
  place        one place changed
  negation     the statement negated or its direction reversed (rose/fell, won/lost, did/did not)
  speaker      a quotation given to another speaker
  quantity     one quantity word changed (most/few, all/some, many/none)
  unmentioned  something the source never mentions (truth: unsupported)

Two parts, reported apart and together:

* ``written``: benchmarks/data/claims_written.jsonl, 45 invented news passages with one case of
  every kind each (450 cases), written for this project by a current language model (see
  benchmarks/data/README.md). The faithful paraphrases were written to share few words with the
  source. Each claim is checked with its passage's date as both publication dates.
* ``news``: cases made by the rules below, at run time, from the human BBC texts of
  ../shared/data/detect that are held out of the claim judge's training (shared_data.is_heldout):
  a source sentence reworded by synonym rules (faithful), or with one fact changed by the rules of
  this file, or a sentence of another held-out text (unmentioned). Seeded (--seed); at most
  --per-kind cases of each kind, one per source text and kind. Nothing is written to the
  repository.

Each source is indexed in a temporary SourceIndex and each claim is checked against its source
alone with the ClaimChecker the product uses (--judge rules: the fact rules without the trained
judge). A claim the sentence splitter cuts in two counts as contradicted if any part is, else
unsupported if any part is, else supported if any part is.

Printed: for every part and kind, the share labelled supported / unsupported / contradicted /
not_checkable and the share caught (contradicted or unsupported); then precision and recall of
``contradicted`` (truth: every changed-fact case), of ``unsupported`` (truth: the unmentioned
cases), the share of faithful cases labelled supported and of unmentioned cases labelled
unsupported, next to the targets of issue 22.

--speed times the check of a 400-word article against its source: a current model's rewrite of a
held-out BBC text (../shared/data/detect/current-news.jsonl) followed by reworded sentences of
the text until it has 400 words, checked against the text; the median of --runs checks of each of
five articles after one warm-up, with the source prepared (its sentence vectors stored, as after a
first check) and, separately, the first check that embeds the source.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from shared_data import DATA, REPO, is_heldout, load_pairs, reword  # noqa: E402

WRITTEN = REPO / "benchmarks" / "data" / "claims_written.jsonl"
KINDS = (
    "faithful", "number", "date", "duration", "name", "place", "negation", "speaker", "quantity",
    "unmentioned",
)  # fmt: skip
CHANGED = frozenset(KINDS[1:-1])
PER_SOURCE = 3  # news cases of one kind made from one source text, at most
TRUTH = {"faithful": "supported", "unmentioned": "unsupported"} | dict.fromkeys(
    CHANGED, "contradicted"
)
STATUSES = ("supported", "unsupported", "contradicted", "not_checkable")
TARGETS = {
    "changed facts caught": 0.90,
    "each kind caught": 0.80,
    "contradicted precision": 0.90,
    "faithful supported": 0.90,
    "unmentioned unsupported": 0.90,
}


@dataclass
class Case:
    part: str
    kind: str
    source_id: str
    claim: str
    change: str = ""
    published: str | None = None
    source_sentence: str = ""
    results: list = field(default_factory=list)  # the checker's ClaimResults for this claim


# --- the written part -----------------------------------------------------------------------


def written_cases(path: Path = WRITTEN) -> tuple[dict[str, dict], list[Case]]:
    sources, cases = {}, []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        sources[record["id"]] = {
            "id": record["id"],
            "title": record["title"],
            "text": record["source"],
            "date": record["date"],
        }
        for case in record["cases"]:
            cases.append(
                Case(
                    "written",
                    case["kind"],
                    record["id"],
                    case["claim"],
                    case.get("change", ""),
                    record["date"],
                )
            )
    return sources, cases


# --- the rule-made part from real news --------------------------------------------------------

FIRST_NAMES = frozenset(
    """Adam Alan Alex Alice Amy Andrew Angela Ann Anna Anne Anthony Arthur Ben Bernard Beth Bill
    Bob Brian Carl Carol Caroline Catherine Charles Charlie Chris Christine Christopher Claire
    Colin Craig Daniel Darren David Dean Deborah Dennis Derek Diane Donald Douglas Edward Elizabeth
    Emily Emma Eric Fiona Frank Gareth Gary Gavin Geoffrey George Gordon Graham Grant Hannah Harry
    Heather Helen Henry Ian Jack Jacqueline James Jamie Jane Janet Jason Jean Jeff Jennifer Jeremy
    Jessica Jim Joan Joe John Jonathan Joseph Julie Justin Karen Kate Katherine Keith Kevin Kim
    Laura Lee Leo Linda Lisa Louise Lucy Malcolm Margaret Maria Mark Martin Mary Matthew Michael
    Michelle Mike Neil Nicholas Nick Nicola Nigel Oliver Patricia Patrick Paul Peter Philip Rachel
    Rebecca Richard Rob Robert Roger Ronald Rose Ross Ruth Ryan Sally Sam Samuel Sarah Scott Sean
    Sharon Simon Sophie Stephen Steve Steven Stuart Susan Theresa Thomas Tim Timothy Tom Tony
    Victoria William Wayne Boris Hillary Barack Vladimir Emmanuel Ahmed Ali Mohammed Muhammad
    Omar Hassan Fatima Aisha Raj Priya Sanjay Amir Leila Ivan Dmitry Olga Pierre Jean Marie Hans
    Jurgen Klaus Carlos Jose Juan Luis Maria Pablo Diego Marco Luca Giovanni Francesca Kofi Jose
    Wei Li Hiroshi Kenji Yuki Neil Ewan Euan Callum Angus Hamish Iain Dougal Rhys Dafydd Gwen Sian
    Aled Owain Cerys Niamh Siobhan Declan Liam Conor Ciaran Aidan Eamonn Keir Nadine Nadia Zoe
    Chloe Megan Holly Amber Jade Kirsty Gemma Stacey Lewis Kieran Jordan Tyler Luke Josh Joshua
    Nathan Aaron Adrian Alistair Barry Bruce Clive Dominic Duncan Eddie Frederick Gerald Glenn
    Howard Hugh Ken Kenneth Lawrence Leslie Mick Norman Phil Ray Raymond Roy Russell Terry Trevor
    Vincent Walter Alison Amanda Barbara Brenda Carolyn Dawn Denise Elaine Eileen Frances Gillian
    Hazel Irene Jill Joanne Judith Julia Kathleen Kay Lesley Lorraine Lynn Maureen Pamela Pauline
    Rosemary Sandra Sheila Shirley Stella Tracey Valerie Wendy Yvonne Alexander Benjamin Toby
    Harvey Stanley Mohamed Sadiq Jacob Theo Ed Ollie Jo""".split()
)
INVENTED_FIRST = ("Harriet", "Desmond", "Imogen", "Rupert", "Noreen", "Clement", "Ottilie", "Bram")
INVENTED_LAST = (
    "Ashworth", "Tremlett", "Quarrie", "Volkov", "Pendry", "Okwuosa", "Haldane", "Strachan",
    "Lindahl", "Marchetti", "Brierley", "Castell",
)  # fmt: skip
PLACES = {
    "country": """England Scotland Wales Ireland France Germany Spain Italy Portugal Belgium
        Netherlands Norway Sweden Denmark Finland Poland Greece Turkey Russia Ukraine China Japan
        India Pakistan Australia Canada Brazil Argentina Mexico Egypt Nigeria Kenya Iran Iraq
        Syria Israel Afghanistan Switzerland Austria Hungary""".split(),
    "city": """London Manchester Birmingham Liverpool Leeds Sheffield Bristol Newcastle Glasgow
        Edinburgh Cardiff Belfast Swansea Aberdeen Dundee Inverness Nottingham Leicester Coventry
        Oxford Cambridge Brighton Southampton Portsmouth Plymouth Exeter Norwich Ipswich York Hull
        Bradford Derby Stoke Wolverhampton Reading Luton Bath Chester Carlisle Lincoln Swindon
        Gloucester Worcester Hereford Shrewsbury Preston Blackpool Bolton Wigan Sunderland
        Middlesbrough Durham Paris Berlin Madrid Rome Moscow Washington Beijing Tokyo Sydney
        Dublin Brussels Amsterdam Lisbon Athens Istanbul Cairo Delhi Mumbai Toronto""".split(),
    "county": """Kent Essex Surrey Sussex Devon Cornwall Dorset Somerset Norfolk Suffolk Yorkshire
        Lancashire Cumbria Northumberland Cheshire Derbyshire Lincolnshire Hampshire Wiltshire
        Gloucestershire Oxfordshire Berkshire Hertfordshire Fife Lanarkshire Ayrshire Gwynedd
        Powys Pembrokeshire Carmarthenshire""".split(),
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve")  # fmt: skip
_UNIT = r"(?:hour|day|week|month|year|minute|decade)s?"
_DURATION = re.compile(
    r"\b(?P<n>\d+|" + "|".join(NUMBER_WORDS) + r"|a|an)(?P<sep>[ -])(?P<unit>" + _UNIT + r")\b"
    r"(?!-old| old| ago)",
    re.IGNORECASE,
)
_FIGURE = re.compile(
    r"(?<![\d.,:£$€])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\d:]|[.,]\d|st\b|nd\b|rd\b|th\b)"
)
_YEAR = re.compile(r"\b(?:in|since|by|during|until|from|of|before|after)\s(19[5-9]\d|20[0-3]\d)\b")
_QUOTED = re.compile(r"[\"“”][^\"“”]{12,}[\"“”]")
ANTONYMS = [
    ("rose", "fell"), ("risen", "fallen"), ("rising", "falling"), ("increased", "decreased"),
    ("increase", "decrease"), ("increases", "decreases"), ("higher", "lower"), ("won", "lost"),
    ("win", "lose"), ("wins", "loses"), ("winning", "losing"), ("approved", "rejected"),
    ("accepted", "rejected"), ("opened", "closed"), ("allowed", "banned"), ("admitted", "denied"),
    ("confirmed", "denied"), ("supported", "opposed"), ("success", "failure"),
    ("best", "worst"), ("biggest", "smallest"), ("largest", "smallest"), ("highest", "lowest"),
    ("strong", "weak"), ("gained", "lost"), ("before", "after"), ("above", "below"),
    ("more", "fewer"), ("earlier", "later"), ("guilty", "innocent"), ("boost", "cut"),
]  # fmt: skip
_AUX = re.compile(
    r"\b(?P<aux>is|was|are|were|has|have|had|will|would|can|could|should|must|did|does)"
    r"(?P<neg> not|n't)?\b(?=\s+(?P<next>[a-z]+))"
)
QUANTITY_SWAPS = [
    (r"\bmost of\b", "few of"), (r"\bMost of\b", "Few of"),
    (r"\bthe majority of\b", "a minority of"),
    (r"\ba majority of\b", "a minority of"), (r"\bmany of\b", "few of"), (r"\bMany of\b", "Few of"),
    (r"\ball of the\b", "none of the"), (r"\bAll of the\b", "None of the"),
    (r"\ball the\b", "none of the"), (r"\bsome of\b", "all of"), (r"\bSome of\b", "All of"),
    (r"\bseveral\b", "no"), (r"\ba few\b", "many"), (r"\bnone of\b", "all of"),
    (r"\bmany (?=[a-z]+s\b)", "few "), (r"\bMany (?=[a-z]+s\b)", "Few "),
    (r"\bhalf of\b", "all of"), (r"\bevery\b", "not a single"),
    (r"\b(?:almost|nearly) all\b", "hardly any"), (r"\bmost (?=[a-z]+[^ious]s\b)", "few "),
    (r"\bMost (?=[a-z]+[^ious]s\b)", "Few "), (r"\bno (?=[a-z]+s\b)", "some "),
    (r"\bmore than half\b", "less than a tenth"),
    (r"\bmany\b", "few"), (r"\ball (?=[a-z]+s\b)", "no "),
]  # fmt: skip


def _case_like(word: str, model: str) -> str:
    return word.capitalize() if model[:1].isupper() else word


def change_number(sentence: str, rng: random.Random) -> tuple[str, str] | None:
    durations = [m.span() for m in _DURATION.finditer(sentence)]
    numbers = [
        m
        for m in _FIGURE.finditer(sentence)
        if not re.fullmatch(r"(19|20)\d\d", m.group())
        and not any(s <= m.start() < e for s, e in durations)
        and not re.match(r"\s*(?:" + "|".join(MONTHS) + ")", sentence[m.end() :])
        and not re.search(r"(?:" + "|".join(MONTHS) + r")\s*$", sentence[: m.start()])
    ]
    if not numbers:
        return None
    target = rng.choice(numbers)
    written = target.group()
    value = float(written.replace(",", ""))
    new = value + rng.choice((2, 3, 5)) if value < 10 else round(value * rng.choice((0.6, 1.5)))
    text = f"{new:,.0f}" if "," in written else f"{new:g}"
    if text == written:
        return None
    return sentence[: target.start()] + text + sentence[target.end() :], f"{written} -> {text}"


def change_date(sentence: str, rng: random.Random) -> tuple[str, str] | None:
    options = []
    for match in re.finditer(r"\b(" + "|".join(WEEKDAYS) + r")\b", sentence):
        options.append((match, [d for d in WEEKDAYS if d != match.group()]))
    for match in re.finditer(
        r"(?<=\d )(" + "|".join(MONTHS) + r")\b|\b(?:in|of|since|until|"
        r"from|by|last|next) (" + "|".join(MONTHS) + r")\b",
        sentence,
    ):
        group = 1 if match.group(1) else 2
        options.append((match, [m for m in MONTHS if m != match.group(group)], group))
    for match in _YEAR.finditer(sentence):
        year = int(match.group(1))
        options.append((match, [str(year + d) for d in (-3, -2, -1, 1, 2)], 1))
    if not options:
        return None
    chosen = rng.choice(options)
    match, others = chosen[0], chosen[1]
    group = chosen[2] if len(chosen) > 2 else 0
    start, end = match.span(group)
    new = rng.choice(others)
    return sentence[:start] + new + sentence[end:], f"{match.group(group)} -> {new}"


def change_duration(sentence: str, rng: random.Random) -> tuple[str, str] | None:
    found = list(_DURATION.finditer(sentence))
    if not found:
        return None
    match = rng.choice(found)
    n = match.group("n").lower()
    value = 1 if n in {"a", "an"} else (int(n) if n.isdigit() else NUMBER_WORDS.index(n) + 1)
    if rng.random() < 0.5 or value > 12:
        other = value * 2 if value < 6 else max(1, value // 3)
        if other == value:
            other = value + 2
        if n.isdigit():
            number = str(other)
        else:
            number = NUMBER_WORDS[other - 1] if other <= 12 else str(other)
        number = _case_like(number, match.group("n"))
        new = f"{number}{match.group('sep')}{_plural(match.group('unit'), other)}"
    else:
        units = ["hour", "day", "week", "month", "year"]
        unit = match.group("unit").lower().rstrip("s")
        unit = "year" if unit == "decade" else unit
        choices = [u for u in units if u != unit and u != "minute"]
        new_unit = rng.choice(choices)
        new = f"{match.group('n')}{match.group('sep')}{_plural(new_unit, value)}"
        if match.group("sep") == "-":
            new = f"{match.group('n')}-{new_unit}"
    return sentence[: match.start()] + new + sentence[match.end() :], f"{match.group()} -> {new}"


def _plural(unit: str, value: int) -> str:
    unit = unit.lower().rstrip("s")
    return unit if value == 1 else unit + "s"


_PERSON = re.compile(r"\b([A-Z][a-z]+) ((?:Mc|Mac|O')?[A-Z][a-z]{2,}(?:-[A-Z][a-z]+)?)\b")


def people_in(text: str) -> list[str]:
    """'First Last' names of the text (first name from FIRST_NAMES)."""
    found = _PERSON.findall(text)
    return list(dict.fromkeys(f"{a} {b}" for a, b in found if a in FIRST_NAMES))


def change_name(
    sentence: str, rng: random.Random, article: str, *, speaker: bool = False
) -> tuple[str, str] | None:
    """Someone named in the sentence becomes someone else: another person of the article or an
    invented name. ``speaker``: only a name outside the quotation of a quoting sentence."""
    quoted = [m.span() for m in _QUOTED.finditer(sentence)]
    if speaker != bool(quoted):
        return None
    here = [
        m
        for m in _PERSON.finditer(sentence)
        if (
            m.group(1) in FIRST_NAMES
            or (m.group(1) in {"Mr", "Mrs", "Ms", "Dr", "Sir"} and m.group(2) not in FIRST_NAMES)
        )
        and not any(s <= m.start() < e for s, e in quoted)
    ]
    if not here:
        return None
    target = rng.choice(here)
    surname = target.group(2)
    others = [
        p for p in people_in(article) if p.split()[1] != surname and p.split()[1] not in sentence
    ]
    if target.group(1) in {"Mr", "Mrs", "Ms", "Dr", "Sir"}:
        others = [p for p in others if p.split()[1] not in sentence]
        new = f"{target.group(1)} {rng.choice([p.split()[1] for p in others] or INVENTED_LAST)}"
    elif others and rng.random() < 0.5:
        new = rng.choice(others)
    else:
        new = f"{rng.choice(INVENTED_FIRST)} {rng.choice(INVENTED_LAST)}"
    changed = sentence[: target.start()] + new + sentence[target.end() :]
    # Later mentions by surname alone ("Mr Smith") follow the change.
    changed = re.sub(rf"\b(Mr|Mrs|Ms|Dr) {surname}\b", rf"\1 {new.split()[1]}", changed)
    return changed, f"{target.group()} -> {new}"


def change_place(sentence: str, rng: random.Random) -> tuple[str, str] | None:
    options = []
    for kind, names in PLACES.items():
        for name in names:
            for match in re.finditer(rf"\b{name}\b", sentence):
                options.append((match, kind))
    if not options:
        return None
    match, kind = rng.choice(options)
    new = rng.choice([p for p in PLACES[kind] if p != match.group() and p not in sentence])
    return sentence[: match.start()] + new + sentence[match.end() :], f"{match.group()} -> {new}"


def change_negation(sentence: str, rng: random.Random) -> tuple[str, str] | None:
    outside = _QUOTED.sub(lambda m: " " * len(m.group()), sentence)
    for a, b in rng.sample(ANTONYMS, len(ANTONYMS)):
        for word, other in ((a, b), (b, a)):
            match = re.search(rf"\b{word}\b", outside, re.IGNORECASE)
            if match:
                new = _case_like(other, match.group())
                changed = sentence[: match.start()] + new + sentence[match.end() :]
                return changed, f"{match.group()} -> {new}"
    auxiliaries = [
        m
        for m in _AUX.finditer(outside)
        if m.group("next") not in {"not", "been", "to"} or m.group("neg")
    ]
    if not auxiliaries:
        return None
    match = rng.choice(auxiliaries)
    new = match.group("aux") if match.group("neg") else f"{match.group('aux')} not"
    changed = sentence[: match.start()] + new + sentence[match.end() :]
    return changed, f"{match.group()} -> {new}"


def change_quantity(sentence: str, rng: random.Random) -> tuple[str, str] | None:
    outside = _QUOTED.sub(lambda m: " " * len(m.group()), sentence)
    options = [(m, new) for pattern, new in QUANTITY_SWAPS for m in re.finditer(pattern, outside)]
    if not options:
        return None
    match, new = rng.choice(options)
    return sentence[: match.start()] + new + sentence[match.end() :], f"{match.group()} -> {new}"


def news_cases(per_kind: int, seed: int) -> tuple[dict[str, dict], list[Case]]:
    """The rule-made cases of the held-out human BBC texts (see the module docstring)."""
    from unspun.article.sentences import split_sentences

    originals, _ = load_pairs()
    texts = sorted(
        (r for r in originals.values() if r["domain"] == "news-bbc" and is_heldout(r["pair_id"])),
        key=lambda r: r["pair_id"],
    )
    sources = {}
    sentences: dict[str, list[str]] = {}
    for record in texts:
        text = _to_last_sentence(record["text"].strip())
        sources[record["pair_id"]] = {"id": record["pair_id"], "title": None, "text": text}
        sentences[record["pair_id"]] = [
            text[s:e].strip() for s, e in split_sentences(text) if len(text[s:e].split()) >= 8
        ]
    makers = {
        "number": change_number,
        "date": change_date,
        "duration": change_duration,
        "place": change_place,
        "negation": change_negation,
        "quantity": change_quantity,
    }
    made_by_kind: dict[str, list[Case]] = {}
    for kind in KINDS:
        rng = random.Random(f"{seed}/{kind}")
        order = list(sources)
        rng.shuffle(order)
        made: list[Case] = []
        # One case per source text first; second and third rounds only where a kind is rare.
        for _ in range(PER_SOURCE):
            for source_id in order:
                if len(made) >= per_kind:
                    break
                pool = [
                    s for s in sentences[source_id] if s not in {c.source_sentence for c in made}
                ]
                rng.shuffle(pool)
                case = _make_case(kind, source_id, pool, order, sentences, sources, makers, rng)
                if case is not None:
                    made.append(case)
        made_by_kind[kind] = made
    balanced = min(len(made) for made in made_by_kind.values())
    return sources, [case for kind in KINDS for case in made_by_kind[kind][:balanced]]


def _make_case(kind, source_id, pool, order, sentences, sources, makers, rng):  # noqa: ANN001, ANN202
    """The first sentence of ``pool`` that ``kind``'s rule can change, as a Case (or None)."""
    for sentence in pool:
        change = None
        if kind == "faithful":
            claim = reword(sentence)
            # (shared_data.reword writes the 5 of "2.5" as "five": such a sentence is skipped)
            # or a capitalised word, part of a name ("City Hall" as "Town Hall"): both skipped.
            broken = re.search(r"\d[.,][a-z]", claim) or set(
                re.findall(r"\b[A-Z]\w*", claim)
            ) != set(re.findall(r"\b[A-Z]\w*", sentence))
            change = (claim, "reworded by rules") if claim != sentence and not broken else None
        elif kind == "unmentioned":
            other = rng.choice([s for s in order if s != source_id])
            picks = [s for s in sentences[other] if re.search(r"[A-Z]\w+ [A-Z]|\d", s[1:])]
            change = (rng.choice(picks), f"a sentence of {other}") if picks else None
        elif kind in ("name", "speaker"):
            change = change_name(
                sentence, rng, sources[source_id]["text"], speaker=kind == "speaker"
            )
        else:
            change = makers[kind](sentence, rng)
        if change is not None and change[0] != sentence:
            case = Case("news", kind, source_id, change[0], change[1])
            case.source_sentence = sentence
            return case
    return None


def _to_last_sentence(text: str) -> str:
    ends = [m.end() for m in re.finditer(r"[.!?][\"'”’)]*(?=\s|$)", text)]
    return text[: ends[-1]] if ends else text


# --- the run ----------------------------------------------------------------------------------


def build_checker(judge: str, encoder):  # noqa: ANN001, ANN201
    """The product's checker (``default``: the packaged judge), the fact rules alone (``rules``),
    or a judge trained elsewhere (a directory written by ``unspun train --kind claims``)."""
    from unspun.provenance.claims import ClaimChecker

    if judge == "rules":
        return ClaimChecker(encoder, judge=None)
    if judge != "default":
        from unspun.provenance.judge import ClaimJudge

        return ClaimChecker(encoder, judge=ClaimJudge(Path(judge)))
    return ClaimChecker(encoder)


def check_cases(
    cases: list[Case],
    sources: dict[str, dict],
    checker,
    index,  # noqa: ANN001
) -> list[str]:
    """The label of every case (claims of one source are checked in one body, a paragraph each)."""
    from unspun.provenance.claims import prepare_source

    by_source: dict[str, list[int]] = defaultdict(list)
    for i, case in enumerate(cases):
        by_source[case.source_id].append(i)
    stored = {s.doc.id: s for s in index.store.fetch(index.store.keys_for_ids(list(by_source)))}
    labels = [""] * len(cases)
    for source_id, members in by_source.items():
        prepared = prepare_source(stored[source_id], index.store, index.encoder)
        body, spans = "", []
        for i in members:
            if body:
                body += "\n\n"
            spans.append((len(body), len(body) + len(cases[i].claim)))
            body += cases[i].claim
        results = checker.check(body, [prepared], published=cases[members[0]].published)
        for i, (start, end) in zip(members, spans, strict=True):
            found = {r.status for r in results if r.start < end and r.end > start}
            order = ("contradicted", "unsupported", "supported")
            labels[i] = next((s for s in order if s in found), "not_checkable")
            cases[i].results = [r for r in results if r.start < end and r.end > start]
    return labels


def share(count: int, total: int) -> str:
    return f"{count / total:6.1%}" if total else "     -"


def report(name: str, cases: list[Case], labels: list[str]) -> dict[str, float]:
    rows = defaultdict(Counter)
    for case, label in zip(cases, labels, strict=True):
        rows[case.kind][label] += 1
    print(f"\n{name}: {len(cases)} cases")
    header = f"{'kind':<12}{'n':>5}" + "".join(f"{s:>15}" for s in STATUSES) + f"{'caught':>10}"
    print(header)
    caught_by_kind = {}
    for kind in KINDS:
        counts = rows[kind]
        n = sum(counts.values())
        if not n:
            continue
        caught = counts["contradicted"] + counts["unsupported"]
        caught_by_kind[kind] = caught / n
        cells = "".join(f"{share(counts[s], n):>15}" for s in STATUSES)
        print(f"{kind:<12}{n:>5}{cells}{share(caught, n) if kind in CHANGED else '':>10}")
    truth = [TRUTH[c.kind] for c in cases]

    def precision_recall(label: str) -> tuple[float, float, int, int]:
        tp = sum(t == label and p == label for t, p in zip(truth, labels, strict=True))
        predicted = sum(p == label for p in labels)
        actual = sum(t == label for t in truth)
        return tp / max(predicted, 1), tp / max(actual, 1), predicted, actual

    figures = {}
    changed = [p for c, p in zip(cases, labels, strict=True) if c.kind in CHANGED]
    caught = sum(p in ("contradicted", "unsupported") for p in changed)
    figures["changed facts caught"] = caught / max(len(changed), 1)
    figures["each kind caught"] = min(
        (v for k, v in caught_by_kind.items() if k in CHANGED), default=0.0
    )
    p, r, n_pred, n_true = precision_recall("contradicted")
    figures["contradicted precision"] = p
    print(f"contradicted: precision {p:.3f} ({n_pred} labelled), recall {r:.3f} ({n_true} changed)")
    p, r, n_pred, n_true = precision_recall("unsupported")
    print(
        f"unsupported:  precision {p:.3f} ({n_pred} labelled), recall {r:.3f} "
        f"({n_true} unmentioned)"
    )
    faithful = [p for c, p in zip(cases, labels, strict=True) if c.kind == "faithful"]
    unmentioned = [p for c, p in zip(cases, labels, strict=True) if c.kind == "unmentioned"]
    figures["faithful supported"] = faithful.count("supported") / max(len(faithful), 1)
    figures["unmentioned unsupported"] = unmentioned.count("unsupported") / max(len(unmentioned), 1)
    print(
        f"changed facts caught (contradicted or unsupported) {figures['changed facts caught']:.3f}"
        f" (weakest kind {figures['each kind caught']:.3f}); faithful supported "
        f"{figures['faithful supported']:.3f}; unmentioned unsupported "
        f"{figures['unmentioned unsupported']:.3f}"
    )
    return figures


def show_misses(cases: list[Case], labels: list[str], limit: int) -> None:
    shown = Counter()
    for case, label in zip(cases, labels, strict=True):
        wrong = (
            label not in ("contradicted", "unsupported")
            if case.kind in CHANGED
            else label != TRUTH[case.kind]
        )
        if not wrong or shown[case.kind] >= limit:
            continue
        shown[case.kind] += 1
        reasons = "; ".join(f"[{r.status}] {r.reason}" for r in case.results)
        print(f"- {case.part}/{case.kind} {case.source_id} ({case.change}) -> {label}")
        print(f"    claim: {case.claim}")
        print(f"    why:   {reasons}")


def speed(args: argparse.Namespace) -> None:
    """Seconds to check a 400-word article against its source (see the module docstring)."""
    from unspun.article.sentences import split_sentences
    from unspun.models.encoder import load_sentence_encoder
    from unspun.provenance.claims import prepare_source
    from unspun.provenance.index import SourceIndex
    from unspun.provenance.store import SourceDoc

    originals, _ = load_pairs()
    current = [json.loads(line) for line in (DATA / "current-news.jsonl").open(encoding="utf-8")]
    current = [r for r in current if r["pair_id"] in originals and r.get("task") == "rewrite"]
    random.Random(args.seed).shuffle(current)
    articles = []
    for record in current[:5]:
        source = _to_last_sentence(originals[record["pair_id"]]["text"].strip())
        words = record["text"].split()
        extra = [reword(source[s:e]) for s, e in split_sentences(source)]
        body = " ".join(words)
        while len(body.split()) < 400 and extra:
            body += " " + extra.pop(0)
        body = " ".join(body.split()[:400])
        articles.append((record["pair_id"], source, body))
    encoder = load_sentence_encoder()
    checker = build_checker(args.judge, encoder)
    warm, cold = [], []
    with tempfile.TemporaryDirectory() as directory:
        index = SourceIndex(directory, create=True, encoder=encoder)
        index.add([SourceDoc(id=p, text=s) for p, s, _ in articles])
        stored = {s.doc.id: s for s in index.store.fetch(index.store.keys_for_ids(
            [p for p, _, _ in articles]))}  # fmt: skip
        for pair_id, _, body in articles:
            began = time.perf_counter()
            source = prepare_source(stored[pair_id], index.store, encoder)
            checker.check(body, [source])
            cold.append(time.perf_counter() - began)
            for _ in range(args.runs):
                began = time.perf_counter()
                source = prepare_source(stored[pair_id], index.store, encoder)
                results = checker.check(body, [source])
                warm.append(time.perf_counter() - began)
        claims = len(results)
    import torch

    flags = _cpu_flags()
    print(
        f"check of a 400-word article ({claims} claims in the last one) against its source, "
        f"{len(articles)} articles x {args.runs} runs, {torch.get_num_threads()} torch thread(s), "
        f"{os.cpu_count()} CPUs ({flags}), judge {args.judge}:"
    )
    print(
        f"  source prepared: median {statistics.median(warm):.3f} s, max {max(warm):.3f} s; "
        f"first check (embeds the source): median {statistics.median(cold):.3f} s"
    )


def _cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "flags unknown"
    model = re.search(r"model name\s*:\s*(.*)", text)
    flags = set(re.search(r"flags\s*:\s*(.*)", text).group(1).split()) if "flags" in text else set()
    wanted = [
        f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile") if f in flags
    ]
    return f"{model.group(1).strip() if model else 'CPU'}; {' '.join(wanted) or 'no AVX2'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["written", "news", "both"], default="both")
    parser.add_argument("--per-kind", type=int, default=40, help="news cases of each kind")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--judge",
        default="default",
        help="default (the packaged judge), rules (the fact rules alone) or a judge directory",
    )
    parser.add_argument("--show", type=int, default=0, help="misses listed per kind")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--speed", action="store_true", help="time a 400-word article instead")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if args.speed:
        speed(args)
        return 0
    from unspun.models.encoder import load_sentence_encoder
    from unspun.provenance.index import SourceIndex
    from unspun.provenance.store import SourceDoc

    sources: dict[str, dict] = {}
    cases: list[Case] = []
    if args.part in ("written", "both"):
        more_sources, more = written_cases()
        sources |= more_sources
        cases += more
    if args.part in ("news", "both"):
        more_sources, more = news_cases(args.per_kind, args.seed)
        sources |= more_sources
        cases += more
    started = time.perf_counter()
    encoder = load_sentence_encoder()
    checker = build_checker(args.judge, encoder)
    with tempfile.TemporaryDirectory() as directory:
        index = SourceIndex(directory, create=True, encoder=encoder)
        used = {c.source_id for c in cases}
        index.add(
            [
                SourceDoc(id=s["id"], text=s["text"], title=s.get("title"), date=s.get("date"))
                for s in sources.values()
                if s["id"] in used
            ]
        )
        labels = check_cases(cases, sources, checker, index)
        index.close()
    seconds = time.perf_counter() - started
    print(f"judge {args.judge}; {len(cases)} cases, {len(used)} sources; {seconds:.0f} s")
    parts = sorted({c.part for c in cases}, reverse=True)
    for part in parts:
        chosen = [i for i, c in enumerate(cases) if c.part == part]
        report(part, [cases[i] for i in chosen], [labels[i] for i in chosen])
    figures = report("overall", cases, labels) if len(parts) > 1 else None
    if figures is not None:
        met = ", ".join(
            f"{name} {figures[name]:.3f} ({'met' if figures[name] >= target else 'NOT met'}: "
            f">= {target})"
            for name, target in TARGETS.items()
        )
        print(f"\ntargets: {met}")
    if args.show:
        print()
        show_misses(cases, labels, args.show)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

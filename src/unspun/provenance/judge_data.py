"""Training pairs for the claim judge, FactCC-style: a claim, the source it is checked against and a
label (entailment, neutral, contradiction).

Three kinds of material, read from the files given to ``unspun train --kind claims``:

- human news (records with ``text``, ``label`` human, ``domain`` news-bbc, ``pair_id``): each
  sentence becomes a faithful claim (as written, or reworded by the rules below: synonyms, a
  dropped aside or attribution), a contradicted one (one fact changed by rule: a figure, a date, a
  length of time, a name swapped with another of the article, negation or reversed direction, a
  quantity word, a quotation given to another speaker of the article) and a neutral one (the
  sentence against its article with that sentence taken out: the same story, but the source no
  longer says it). Pairs held out by the shared split (``is_heldout``: sha1 of the pair id, 30 %)
  and pairs of current-news.jsonl (found beside the file) are never used: the benchmarks measure
  on them.
- a current model's rewrites of those texts (records with ``label`` machine and a ``task``, paired
  by ``pair_id``): a sentence aligned with its original (cosine >= 0.72 for a rewrite, >= 0.80 for
  a continuation, expansion or spin; every figure and name of it found in the original) is a
  faithful paraphrase, and with one fact changed by rule a contradiction; a sentence of a spin or
  expansion that matches nothing in the original (cosine < 0.35, a name or figure the original
  lacks) is neutral.
- passages written for the project (records with ``source``, ``cases`` and ``use`` "training",
  benchmarks/data/claims_train.jsonl): faithful paraphrases, changed facts and unmentioned
  sentences, plus rule changes of the faithful paraphrases. Records marked ``use`` "benchmark"
  are refused: the judge must never see the benchmark's cases.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from unspun.errors import ConfigError

HELDOUT_SHARE = 0.3
ALIGNED_REWRITE = 0.72
ALIGNED_OTHER = 0.80  # a sentence of a continuation, expansion or spin that restates the original
UNALIGNED_REWRITE = 0.35
LABEL_INDEX = {"entailment": 0, "neutral": 1, "contradiction": 2}
WRITTEN_LABELS = {"faithful": "entailment", "unmentioned": "neutral"}
MIN_WORDS = 7


def is_heldout(pair_id: str, share: float = HELDOUT_SHARE) -> bool:
    """The shared split of the pairs (the benchmarks' and the detectors' rule)."""
    return int(hashlib.sha1(pair_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


@dataclass
class Example:
    """A claim checked against ``sentences`` (the source, as sentences) with its true label."""

    claim: str
    sentences: list[str]
    label: str
    kind: str
    origin: str  # news | rewrite | written
    group: str  # the source story: validation is split by it
    published: str | None = None
    premise: str = field(default="", repr=False)


@dataclass
class Material:
    news: dict[str, str] = field(default_factory=dict)  # pair_id -> human text
    rewrites: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # pair_id -> (task, t)
    written: list[dict] = field(default_factory=list)
    held_out: int = 0


def read_material(paths: Iterable[Path]) -> Material:
    """Sort the records of the given files into human news, rewrites and written passages."""
    material = Material()
    excluded: set[str] = set()
    for path in paths:
        path = Path(path)
        sibling = path.parent / "current-news.jsonl"
        if sibling.is_file():
            excluded |= {r.get("pair_id") for r in _records(sibling)}
    for path in paths:
        for record in _records(Path(path)):
            if "cases" in record and "source" in record:
                if record.get("use") != "training":
                    raise ConfigError(
                        f'{path}: passage {record.get("id")!r} is not marked "use": "training" '
                        "(the benchmark's passages must never train the judge)"
                    )
                material.written.append(record)
                continue
            pair_id = record.get("pair_id")
            text = record.get("text")
            if not pair_id or not isinstance(text, str) or record.get("domain") != "news-bbc":
                continue
            if is_heldout(pair_id) or pair_id in excluded:
                material.held_out += 1
                continue
            if record.get("label") == "human":
                material.news.setdefault(pair_id, _to_last_sentence(text.strip()))
            elif record.get("label") == "machine" and record.get("task"):
                material.rewrites.setdefault(pair_id, []).append((record["task"], text))
    if not (material.news or material.written):
        raise ConfigError(
            "no training material: give human news records (text, label, domain news-bbc, "
            "pair_id) and/or written passages (benchmarks/data/claims_train.jsonl)"
        )
    return material


def _records(path: Path) -> Iterable[dict]:
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    raise ConfigError(f"{path}:{number}: invalid JSON") from None
                if isinstance(record, dict):
                    yield record
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _to_last_sentence(text: str) -> str:
    ends = [m.end() for m in re.finditer(r"[.!?][\"'”’)]*(?=\s|$)", text)]
    return text[: ends[-1]] if ends else text


def sentences_of(text: str) -> list[str]:
    from unspun.article.sentences import split_sentences

    return [text[s:e].strip() for s, e in split_sentences(text) if text[s:e].strip()]


# --- rule changes (one fact each) ----------------------------------------------------------------

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip
_SMALL = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
          "twelve")  # fmt: skip
_UNITS = ("minute", "hour", "day", "week", "month", "year")
_NUMBER = re.compile(r"(?<![\w.,:£$€])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w:]|[.,]\d)")
_YEARISH = re.compile(r"(?:1[89]|20)\d\d")
_SPAN = re.compile(
    r"\b(\d+|" + "|".join(_SMALL) + r")([ -])(" + "|".join(_UNITS) + r")s?\b(?![ -]old| ago)", re.I
)
_QUOTE = re.compile(r"[\"“][^\"“”]{10,}[\"”]")
_SPEECH = re.compile(r"\b(?:said|says|told|added|according to|warned|explained)\b")
_FLIPS = [
    ("rose", "fell"), ("rise", "fall"), ("risen", "fallen"), ("increased", "decreased"),
    ("increase", "cut"), ("grew", "shrank"), ("higher", "lower"), ("more", "fewer"),
    ("won", "lost"), ("win", "lose"), ("beat", "lost to"), ("approved", "rejected"),
    ("backed", "opposed"), ("accepted", "turned down"), ("agreed", "refused"),
    ("opened", "closed"), ("allowed", "banned"), ("admitted", "denied"),
    ("convicted", "acquitted"), ("guilty", "innocent"),
    ("welcomed", "criticised"), ("best", "worst"), ("largest", "smallest"), ("highest", "lowest"),
    ("ahead of", "behind"), ("before", "after"), ("success", "failure"), ("profit", "loss"),
    ("started", "ended"), ("joined", "left"), ("gained", "lost"), ("up", "down"),
    ("support", "oppose"), ("praised", "condemned"), ("strong", "weak"), ("early", "late"),
]  # fmt: skip
_AUX = re.compile(
    r"\b(is|was|are|were|has|have|had|will|would|can|could|should|did|does|must)( not|n't)?\b"
    r"(?= (?!not\b)[a-z])"
)
_QUANTIFIERS = [
    ("most", ["few", "hardly any"]), ("the majority", ["a small minority"]),
    ("all", ["some", "none"]),
    ("many", ["few", "hardly any"]), ("several", ["no"]), ("some", ["all", "none"]),
    ("few", ["most", "many"]), ("a few", ["most", "many"]), ("every", ["hardly any"]),
    ("nearly all", ["only a few"]), ("almost all", ["very few"]), ("half", ["all", "a tenth"]),
    ("none", ["all", "most"]), ("no", ["several", "many"]), ("nobody", ["several people"]),
]  # fmt: skip


def _cased(word: str, model: str) -> str:
    return word[:1].upper() + word[1:] if model[:1].isupper() else word


def change_figure(text: str, rng: random.Random) -> str | None:
    spans = [m.span() for m in _SPAN.finditer(text)]
    found = [
        m
        for m in _NUMBER.finditer(text)
        if not _YEARISH.fullmatch(m.group()) and not any(s <= m.start() < e for s, e in spans)
    ]
    if not found:
        return None
    match = rng.choice(found)
    value = float(match.group().replace(",", ""))
    new = value + rng.choice((1, 2, 4, 6)) if value < 12 else value * rng.choice((0.5, 0.7, 1.4, 2))
    written = f"{new:,.0f}" if "," in match.group() else (f"{new:g}" if new < 1e6 else f"{new:.0f}")
    if "." not in match.group() and "." in written:
        written = f"{round(new)}"
    return text[: match.start()] + written + text[match.end() :]


def change_date(text: str, rng: random.Random) -> str | None:
    options = []
    for names in (_WEEKDAYS, _MONTHS):
        for match in re.finditer(r"\b(" + "|".join(names) + r")\b", text):
            if match.group() == "May" and not re.search(r"\d\s*$|\bin\s*$", text[: match.start()]):
                continue  # the verb "May ..." at a sentence start
            options.append((match, [n for n in names if n != match.group()]))
    for match in re.finditer(r"\b(?:in|since|by|of|until|from) ((?:19|20)\d\d)\b", text):
        year = int(match.group(1))
        options.append((match, [match.group().replace(match.group(1), str(year + d))
                                for d in (-4, -2, -1, 1, 3)]))  # fmt: skip
    if not options:
        return None
    match, others = rng.choice(options)
    return text[: match.start()] + rng.choice(others) + text[match.end() :]


def change_span(text: str, rng: random.Random) -> str | None:
    found = list(_SPAN.finditer(text))
    if not found:
        return None
    match = rng.choice(found)
    count = match.group(1).lower()
    value = int(count) if count.isdigit() else _SMALL.index(count) + 1
    if rng.random() < 0.5:
        other = value + rng.choice((2, 3, 5)) if value < 10 else max(1, value // 2)
        written = str(other) if count.isdigit() or other > 12 else _SMALL[other - 1]
        unit = match.group(3).lower()
    else:
        written = match.group(1)
        unit = rng.choice([u for u in _UNITS if u != match.group(3).lower()])
    plural = "" if (written in {"1", "one"} or match.group(2) == "-") else "s"
    new = f"{_cased(written, match.group(1))}{match.group(2)}{unit}{plural}"
    return text[: match.start()] + new + text[match.end() :]


def swap_name(text: str, rng: random.Random, names: list[str]) -> str | None:
    """A name of the sentence becomes another name of the article (or of ``names``)."""
    from unspun.provenance.facts import extract_entities

    plain = _QUOTE.sub(lambda m: " " * len(m.group()), text)
    here = [e for e in extract_entities(plain) if _name_like(e) and e in text]
    others = [n for n in names if n not in text and not any(n in h or h in n for h in here)]
    if not here or not others:
        return None
    target = rng.choice(here)
    # The same number of words: a two-word name for a two-word name (a person for a person,
    # more often than not), a one-word place or body for another.
    alike = [n for n in others if len(n.split()) == len(target.split())]
    if not alike:
        return None
    new = rng.choice(alike)
    at = text.index(target)
    return text[:at] + new + text[at + len(target) :]


def _name_like(entity: str) -> bool:
    return len(entity) > 2 and "." not in entity and len(entity.split()) <= 3


def swap_speaker(text: str, rng: random.Random, names: list[str]) -> str | None:
    """A quotation's speaker (a name outside the quote in a quoting sentence) becomes another."""
    if not _QUOTE.search(text) or not _SPEECH.search(text):
        return None
    return swap_name(text, rng, names)


def negate(text: str, rng: random.Random) -> str | None:
    plain = _QUOTE.sub(lambda m: " " * len(m.group()), text)
    options: list[tuple[int, int, str]] = []
    for a, b in _FLIPS:
        for word, other in ((a, b), (b, a)):
            for match in re.finditer(rf"\b{word}\b", plain, re.IGNORECASE):
                options.append((match.start(), match.end(), _cased(other, match.group())))
    for match in _AUX.finditer(plain):
        new = match.group(1) if match.group(2) else f"{match.group(1)} not"
        options.append((match.start(), match.end(), new))
    for match in re.finditer(r"\b(?:never|no longer)\s+", plain):
        options.append((match.start(), match.end(), ""))
    # "She announced" -> "She never announced": a past-tense verb right after a name or pronoun.
    for match in re.finditer(r"\b(?:[A-Z][a-z]+|he|she|they|it|we) (?=[a-z]{3,}ed\b)", plain):
        options.append((match.end(), match.end(), "never "))
    if not options:
        return None
    start, end, new = rng.choice(options)
    return text[:start] + new + text[end:]


def change_quantity(text: str, rng: random.Random) -> str | None:
    plain = _QUOTE.sub(lambda m: " " * len(m.group()), text)
    options = []
    for word, others in _QUANTIFIERS:
        for match in re.finditer(rf"\b{word}\b(?= (?:of|[a-z]+s\b|the|its|their|people))", plain,
                                 re.IGNORECASE):  # fmt: skip
            options.append((match, others))
    if not options:
        return None
    match, others = rng.choice(options)
    return text[: match.start()] + _cased(rng.choice(others), match.group()) + text[match.end() :]


CHANGES = ("figure", "date", "span", "name", "speaker", "negation", "quantity")
# What the fact rules cannot settle alone, so the judge must learn it most.
SOFT_CHANGES = ("name", "speaker", "negation", "quantity")
# "was closed" = "was not open": a negation that keeps the meaning (the judge must not read every
# "not" as a contradiction).
_STATES = [
    ("open", "closed"), ("higher", "lower"), ("approved", "rejected"), ("allowed", "banned"),
    ("successful", "unsuccessful"), ("present", "absent"), ("alive", "dead"), ("true", "false"),
    ("guilty", "innocent"), ("full", "empty"), ("legal", "illegal"), ("safe", "unsafe"),
    ("above", "below"), ("up", "down"), ("better", "worse"), ("complete", "incomplete"),
]  # fmt: skip
# How often each rule is picked when several apply: the kinds that rules alone judge worst
# (negation, quantity words, speakers) and the rare ones are favoured.
WEIGHTS = {"figure": 1.0, "date": 1.0, "span": 2.0, "name": 1.5, "speaker": 2.5,
           "negation": 1.5, "quantity": 3.0}  # fmt: skip


def change_fact(
    text: str, rng: random.Random, names: list[str], kinds: Iterable[str] = CHANGES
) -> tuple[str, str] | None:
    """The text with one fact changed by one of the rules that apply (picked at random, weighted
    by WEIGHTS), and the rule's name; None when none applies."""
    made = {}
    for kind in kinds:
        if kind == "figure":
            changed = change_figure(text, rng)
        elif kind == "date":
            changed = change_date(text, rng)
        elif kind == "span":
            changed = change_span(text, rng)
        elif kind == "name":
            changed = swap_name(text, rng, names)
        elif kind == "speaker":
            changed = swap_speaker(text, rng, names)
        elif kind == "negation":
            changed = negate(text, rng)
        else:
            changed = change_quantity(text, rng)
        if changed and changed != text:
            made[kind] = changed
    if not made:
        return None
    kinds = sorted(made)
    kind = rng.choices(kinds, weights=[WEIGHTS[k] for k in kinds])[0]
    return made[kind], kind


_NEGATED_VERB = {
    "is": "is not", "was": "was not", "are": "are not", "were": "were not",
    "will be": "will not be", "would be": "would not be", "has been": "has not been",
    "have been": "have not been", "had been": "had not been",
}  # fmt: skip


def negated_opposite(text: str) -> str | None:
    """The sentence with a state said through its negated opposite ("was closed" -> "was not
    open"), meaning kept; None when it has no such state."""
    opposite = {a: b for a, b in _STATES} | {b: a for a, b in _STATES}
    verbs = "|".join(sorted(_NEGATED_VERB, key=len, reverse=True))
    pattern = rf"\b({verbs}) ({'|'.join(opposite)})\b"
    match = re.search(pattern, _QUOTE.sub(lambda m: " " * len(m.group()), text))
    if match is None:
        return None
    state = f"{_NEGATED_VERB[match.group(1)]} {opposite[match.group(2)]}"
    return text[: match.start()] + state + text[match.end() :]


# --- rewording (meaning kept) -------------------------------------------------------------------

_SYNONYMS = {
    "said": "stated", "told": "informed", "about": "roughly", "around": "about",
    "people": "residents", "started": "began", "began": "started", "buy": "purchase",
    "bought": "acquired", "big": "large", "large": "sizeable", "because": "as", "help": "aid",
    "also": "too", "however": "but", "important": "key", "found": "discovered",
    "children": "youngsters", "near": "close to", "later": "afterwards", "job": "post",
    "jobs": "posts", "company": "firm", "firms": "companies", "shut": "closed", "car": "vehicle",
    "cars": "vehicles", "police": "officers", "house": "home", "houses": "homes",
    "plans": "proposals", "plan": "proposal", "money": "funds", "show": "reveal",
    "shows": "reveals", "need": "require", "needed": "required", "quickly": "fast",
    "expected": "due", "received": "got", "reported": "said", "town": "community",
}  # fmt: skip


_UNITS_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                "seventeen", "eighteen", "nineteen")  # fmt: skip
_TENS_WORDS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_PERCENT_WORDS = {"50": "half", "25": "a quarter", "20": "a fifth", "10": "a tenth",
                  "75": "three quarters", "33": "a third"}  # fmt: skip


def _number_word(value: int) -> str:
    if value < 20:
        return _UNITS_WORDS[value]
    tens, units = divmod(value, 10)
    return _TENS_WORDS[tens] + (f"-{_UNITS_WORDS[units]}" if units else "")


def restate_numbers(text: str, rng: random.Random) -> str:
    """The same figures written another way: 23 as "twenty-three" and back, 25% as "a quarter"."""
    words = {_number_word(n): n for n in range(1, 100)}

    def to_words(match: re.Match[str]) -> str:
        value = int(match.group())
        return _cased(_number_word(value), "A" if match.start() == 0 else "a")

    def to_digits(match: re.Match[str]) -> str:
        return str(words[match.group().lower()])

    choice = rng.random()
    if choice < 0.4:
        return re.sub(
            r"(?<![\d.,:£$€])\b([1-9]\d?)\b(?![\d.,:%]|\s?(?:per\s?cent|percent))", to_words, text
        )
    if choice < 0.7:
        pattern = r"\b(?:" + "|".join(sorted(words, key=len, reverse=True)) + r")\b"
        return re.sub(pattern, to_digits, text, flags=re.IGNORECASE)
    return re.sub(
        r"\b(50|25|20|10|75|33)(?:%| per ?cent)",
        lambda m: _PERCENT_WORDS[m.group(1)],
        text,
    )


def reword(text: str, rng: random.Random) -> str:
    """The sentence with its meaning kept: some words swapped for synonyms, figures written another
    way ("23" / "twenty-three", "25%" / "a quarter"), sometimes an aside between commas or a
    closing attribution dropped."""

    def swap(match: re.Match[str]) -> str:
        word = match.group()
        new = _SYNONYMS.get(word.lower())
        if new is None or rng.random() < 0.3:
            return word
        return _cased(new, word)

    plain = _QUOTE.sub(lambda m: "\0" * len(m.group()), text)
    out = []
    for i, char in enumerate(plain):
        out.append(text[i] if char == "\0" else char)
    reworded = re.sub(r"[A-Za-z]+", swap, "".join(out)) if not _QUOTE.search(text) else text
    if rng.random() < 0.5:
        reworded = restate_numbers(reworded, rng)
    if rng.random() < 0.35:
        reworded = re.sub(r", (?:the [\w ]+|[A-Z][\w ]+) (?:said|says|added)\.$", ".", reworded)
    if rng.random() < 0.35:
        asides = list(re.finditer(r", (?:who|which|where)[^,]{5,80},", reworded))
        if asides:
            match = rng.choice(asides)
            reworded = reworded[: match.start()] + reworded[match.end() - 1 :]
    return reworded


# --- assembly -------------------------------------------------------------------------------------


def news_examples(material: Material, rng: random.Random) -> list[Example]:
    """Faithful, changed and neutral claims of the human news sentences (see the module doc)."""
    from unspun.provenance.facts import extract_entities

    examples: list[Example] = []
    stories = sorted(material.news)
    all_names = sorted(
        {e for p in stories for e in extract_entities(material.news[p]) if _name_like(e)}
    )
    for pair_id in stories:
        sentences = sentences_of(material.news[pair_id])
        names = [
            e for e in dict.fromkeys(extract_entities(material.news[pair_id])) if _name_like(e)
        ]
        for i, sentence in enumerate(sentences):
            if len(sentence.split()) < MIN_WORDS:
                continue
            faithful = sentence if rng.random() < 0.25 else reword(sentence, rng)
            examples.append(Example(faithful, sentences, "entailment", "faithful", "news", pair_id))
            restated = negated_opposite(faithful)
            if restated:
                examples.append(
                    Example(restated, sentences, "entailment", "negated-opposite", "news", pair_id)
                )
            others = names + rng.sample(all_names, min(3, len(all_names)))
            for kinds in (CHANGES, SOFT_CHANGES):
                changed = change_fact(
                    faithful if rng.random() < 0.5 else sentence, rng, others, kinds
                )
                if changed:
                    examples.append(
                        Example(changed[0], sentences, "contradiction", changed[1], "news", pair_id)
                    )
            if len(sentences) > 3 and rng.random() < 0.7:
                rest = sentences[:i] + sentences[i + 1 :]
                examples.append(Example(faithful, rest, "neutral", "removed", "news", pair_id))
    return examples


def written_examples(material: Material, rng: random.Random) -> list[Example]:
    from unspun.provenance.facts import extract_entities

    examples: list[Example] = []
    for record in material.written:
        sentences = sentences_of(record["source"])
        names = [e for e in dict.fromkeys(extract_entities(record["source"])) if _name_like(e)]
        group = f"written/{record['id']}"
        for case in record["cases"]:
            label = WRITTEN_LABELS.get(case["kind"], "contradiction")
            examples.append(
                Example(
                    case["claim"],
                    sentences,
                    label,
                    case["kind"],
                    "written",
                    group,
                    record.get("date"),
                )  # fmt: skip
            )
            if case["kind"] == "faithful":
                changed = change_fact(case["claim"], rng, names)
                if changed:
                    examples.append(
                        Example(
                            changed[0],
                            sentences,
                            "contradiction",
                            changed[1],
                            "written",
                            group,
                            record.get("date"),
                        )  # fmt: skip
                    )
    return examples


def rewrite_examples(material: Material, encoder, rng: random.Random) -> list[Example]:  # noqa: ANN001
    """Sentences of a current model's rewrites aligned with (or absent from) their originals."""
    import numpy as np

    from unspun.provenance.facts import extract_entities, extract_facts
    from unspun.provenance.fingerprint import encode

    examples: list[Example] = []
    for pair_id in sorted(material.rewrites):
        if pair_id not in material.news:
            continue
        original = material.news[pair_id]
        sentences = sentences_of(original)
        source_vectors = encode(encoder, sentences)
        names = [e for e in dict.fromkeys(extract_entities(original)) if _name_like(e)]
        source_values = {q.value for q in extract_facts(original).quantities}
        source_lower = original.lower()
        for task, text in material.rewrites[pair_id]:
            claims = [s for s in sentences_of(text) if len(s.split()) >= MIN_WORDS]
            if not claims:
                continue
            sims = encode(encoder, claims) @ source_vectors.T
            for claim, row in zip(claims, sims, strict=True):
                best = float(np.max(row))
                facts = extract_facts(claim)
                novel = [e for e in facts.entities if e.lower() not in source_lower] + [
                    q.text for q in facts.quantities if q.value not in source_values
                ]
                aligned = ALIGNED_REWRITE if task == "rewrite" else ALIGNED_OTHER
                if best >= aligned and not novel:
                    examples.append(
                        Example(claim, sentences, "entailment", "paraphrase", "rewrite", pair_id)
                    )
                    changed = change_fact(claim, rng, names)
                    if changed:
                        examples.append(
                            Example(
                                changed[0],
                                sentences,
                                "contradiction",
                                changed[1],
                                "rewrite",
                                pair_id,
                            )  # fmt: skip
                        )
                elif task in {"spin", "expand"} and best < UNALIGNED_REWRITE and novel:
                    examples.append(
                        Example(claim, sentences, "neutral", "invented", "rewrite", pair_id)
                    )
    return examples

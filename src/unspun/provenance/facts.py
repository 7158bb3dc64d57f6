"""Checkable facts in a piece of text: named entities, numbers, quotes, speakers and rare terms.

A rewrite keeps almost no word sequence of its source, but it keeps names, figures, dates and
quotations; these light, dependency-free extractors find them so that tracing and claim checking can
compare them. They are heuristics (capitalisation, patterns, word frequency), not a full NER model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

_MONTHS = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip
_MONTH_ABBR = {m[:3]: i + 1 for i, m in enumerate(_MONTHS)} | {"sept": 9}
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
# Capitalised words that name no one: calendar words, pronouns and sentence glue.
_NOT_ENTITY = frozenset(
    _MONTHS
    + _WEEKDAYS
    + list(_MONTH_ABBR)
    + [
        "i",
        "i'm",
        "i've",
        "it",
        "its",
        "he",
        "she",
        "they",
        "we",
        "you",
        "his",
        "her",
        "their",
        "our",
        "my",
        "this",
        "that",
        "these",
        "those",
        "the",
        "a",
        "an",
        "but",
        "and",
        "or",
        "if",
        "when",
        "while",
        "after",
        "before",
        "then",
        "there",
        "here",
        "what",
        "who",
        "why",
        "how",
        "mr",
        "mrs",
        "ms",
        "dr",
        "however",
        "meanwhile",
        "also",
        "yesterday",
        "today",
        "tomorrow",
        "last",
        "next",
    ]  # fmt: skip
)
_JOINERS = frozenset(
    ["of", "de", "la", "le", "von", "van", "der", "del", "da", "du", "the", "for", "and"]
)

_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*")
_CAP_RUN = re.compile(
    r"(?:[A-Z][\w'’\-]*\.?)(?:\s+(?:(?:of|de|la|le|von|van|der|del|da|du|the|for|and)\s+)?"
    r"[A-Z][\w'’\-]*\.?)*"
)
_QUOTE = re.compile(r"[\"“”«»]([^\"“”«»]{12,600}?)[\"“”«»]")
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100, "dozen": 12, "half": 0.5,
}  # fmt: skip
_SCALE = {
    "thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9,
    "b": 1e9, "trillion": 1e12, "tn": 1e12,
}  # fmt: skip
_NUMBER = re.compile(
    r"(?<![\w.])(?P<cur>[£$€¥])?\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<scale>thousand|million|billion|trillion|bn|mn|tn|m|k|b)\b)?"
    r"\s?(?P<pct>%|per\s?cent|percent)?",
    re.IGNORECASE,
)
_WORD_NUMBER = re.compile(
    r"\b(?:(?P<tens>twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[\s-])?"
    r"(?P<num>" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\b"
    r"(?:[\s-]+(?P<scale>thousand|million|billion|trillion))?",
    re.IGNORECASE,
)
_ATTRIBUTION = re.compile(
    r"\b(?:said|says|told|added|stated|announced|warned|claimed|insisted|explained|confirmed|"
    r"denied|wrote|according to)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Quantity:
    """A number as written and its value (scaled: '2.5 million' -> 2500000); ``unit`` is '%', a
    currency sign or the noun that follows it, when there is one."""

    text: str
    value: float
    unit: str
    start: int
    end: int


@dataclass
class Facts:
    """What a text asserts that can be compared with another text."""

    entities: list[str] = field(default_factory=list)
    quantities: list[Quantity] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)
    attributed: bool = False

    @property
    def entity_keys(self) -> set[str]:
        return {entity_key(e) for e in self.entities}

    @property
    def values(self) -> set[float]:
        return {q.value for q in self.quantities}

    @property
    def checkable(self) -> bool:
        return bool(self.entities or self.quantities or self.quotes or self.attributed)


@lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    """How common an English word is (0 = unknown, 7+ = 'the'); cached: wordfreq is slow."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def entity_key(entity: str) -> str:
    """Comparable form of a name: lower case, possessive and honorifics dropped."""
    key = entity.lower().replace("’", "'")
    key = re.sub(r"'s$", "", key)
    key = re.sub(r"^(?:mr|mrs|ms|dr|prof|sir|the)\.?\s+", "", key)
    return key.strip(" .")


def shared_entities(ours: set[str], theirs: set[str]) -> set[str]:
    """Our entity keys that the other side names too, in full or by last word ('ortiz' matches
    'mayor jane ortiz' and the reverse)."""
    their_last = {t.rsplit(" ", 1)[-1] for t in theirs}
    shared = set()
    for key in ours:
        last = key.rsplit(" ", 1)[-1]
        if key in theirs or (len(last) > 2 and last in their_last):
            shared.add(key)
    return shared


def extract_entities(text: str) -> list[str]:
    """Runs of capitalised words that are not just the first word of a sentence."""
    entities = []
    matches = []
    mid_sentence: set[str] = set()  # capitalised words seen where capitals mean a name
    for match in _CAP_RUN.finditer(text):
        start = match.start()
        initial = start == 0 or bool(
            re.search(r"[.!?:\"“”\n]\s*$", text[max(0, start - 3) : start])
        )
        matches.append((match, initial))
        if not initial:
            mid_sentence.add(match.group().split()[0])
    for match, sentence_initial in matches:
        words = match.group().split()
        # Strip leading capitalised function words and calendar words.
        while words and (
            words[0].lower().strip(".'’") in _NOT_ENTITY
            or words[0].lower() in _JOINERS
            or (
                sentence_initial
                and len(words) == 1
                and words[0] not in mid_sentence
                and zipf(words[0].lower()) >= 3.2
            )
        ):
            words = words[1:]
            sentence_initial = False
        while words and (words[-1].lower() in _JOINERS or words[-1].lower() in _NOT_ENTITY):
            words = words[:-1]
        if (
            sentence_initial
            and len(words) == 1
            and words[0] not in mid_sentence
            and zipf(words[0].lower()) >= 3.2
        ):
            continue  # "Since Saturday", "During March": a connective and a calendar word
        if not words:
            continue
        name = " ".join(words).rstrip(".")
        name = re.sub(r"['’]s$", "", name)
        if len(name) < 2 or name.isdigit():
            continue
        entities.append(name)
    return entities


def extract_quantities(text: str) -> list[Quantity]:
    """Numbers with their scale and unit; years (1900-2099 standing alone) are left to dates."""
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = []
    for match in _NUMBER.finditer(text):
        raw = match.group("num").replace(",", "")
        value = float(raw)
        scale = (match.group("scale") or "").lower()
        if scale:
            value *= _SCALE[scale]
        cur = match.group("cur") or ""
        pct = "%" if match.group("pct") else ""
        if not (cur or pct or scale) and _looks_like_year_or_day(text, match, value):
            continue
        end = match.end() if (scale or pct) else match.end("num")
        found.append(
            Quantity(
                text[match.start() : end].strip(),
                value,
                cur or pct or _unit_after(text, end),
                match.start(),
                end,
            )
        )
        taken.append((match.start(), end))
    for match in _WORD_NUMBER.finditer(text):
        if any(s <= match.start() < e for s, e in taken):
            continue
        word = match.group("num").lower()
        if word in {"one", "half"} and not (match.group("scale") or match.group("tens")):
            continue  # "one of the", "half of": too often not a figure
        value = float(_NUMBER_WORDS[word])
        if match.group("tens") and value < 10:
            value += _NUMBER_WORDS[match.group("tens").lower()]  # "twenty-three"
        if match.group("scale"):
            value *= _SCALE[match.group("scale").lower()]
        found.append(
            Quantity(
                match.group(), value, _unit_after(text, match.end()), match.start(), match.end()
            )
        )
    found.sort(key=lambda q: q.start)
    return found


def _looks_like_year_or_day(text: str, match: re.Match[str], value: float) -> bool:
    raw = match.group("num")
    if raw.isdigit() and len(raw) == 4 and 1800 <= value <= 2100:
        return True
    # "March 3", "3 March", "3rd": part of a date, compared as a date elsewhere.
    before = text[max(0, match.start() - 10) : match.start()].lower()
    after = text[match.end() : match.end() + 10].lower()
    month = r"(?:" + "|".join(_MONTH_ABBR) + r")[a-z]*\.?"
    return bool(
        value <= 31
        and (
            re.search(month + r"\s*$", before) or re.match(r"\s*(?:st|nd|rd|th)?\s*" + month, after)
        )
    )


def _unit_after(text: str, end: int) -> str:
    """The noun right after a number ('12 people' -> 'people'), skipping a few fillers."""
    words = _WORD.findall(text[end : end + 40])
    for word in words[:3]:
        low = word.lower()
        if low in {"of", "more", "than", "other", "new", "extra", "additional", "the", "per"}:
            continue
        return low.rstrip("s") if len(low) > 3 else low
    return ""


def extract_quotes(text: str) -> list[str]:
    """Quoted passages of at least three words, without the quotation marks."""
    quotes = []
    for match in _QUOTE.finditer(text):
        quote = match.group(1).strip(" ,.")
        if len(quote.split()) >= 3:
            quotes.append(quote)
    return quotes


def extract_facts(text: str) -> Facts:
    return Facts(
        entities=extract_entities(text),
        quantities=extract_quantities(text),
        quotes=extract_quotes(text),
        attributed=bool(_ATTRIBUTION.search(text)),
    )


def quote_key(quote: str) -> str:
    """Quotes compared by their words only, so punctuation and curly quotes do not matter."""
    return " ".join(re.findall(r"[a-z0-9]+", quote.lower()))


def rare_terms(text: str, limit: int = 40) -> list[str]:
    """The least common words of a text (by English word frequency), for a short BM25 query."""
    seen: dict[str, float] = {}
    for word in re.findall(r"[A-Za-z][A-Za-z0-9]+|\d{2,}", text):
        low = word.lower()
        if low in seen or len(low) < 3:
            continue
        seen[low] = zipf(low)
    ranked = sorted(seen.items(), key=lambda item: item[1])
    return [word for word, freq in ranked if freq < 5.5][:limit]


def content_words(text: str) -> set[str]:
    """Lower-cased words that carry meaning (not among the most common English words)."""
    return {w.lower() for w in _WORD.findall(text) if len(w) > 2 and zipf(w.lower()) < 5.8}

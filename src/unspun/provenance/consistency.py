"""Contradictions inside one article: one event given two dates, one person two roles, one quote two
speakers, an event that cannot fit the stated timeline (reported as done, dated after publication).

Needs no source. Each finding names the sentence it is about and the earlier one it conflicts with.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from unspun.provenance.dates import DateMention, find_dates, parse_date
from unspun.provenance.facts import (
    content_words,
    entity_key,
    extract_entities,
    extract_quotes,
    quote_key,
)

_ROLE_HEADS = (
    "minister|secretary|chair|chairman|chairwoman|chairperson|president|director|chief executive|"
    "spokesman|spokeswoman|spokesperson|mayor|governor|leader|head|commissioner|officer|manager|"
    "coach|captain|senator|judge|professor|ceo|founder|editor|ambassador|inspector|superintendent|"
    "chancellor|treasurer|general|admiral|analyst|economist|researcher|lawyer|prosecutor"
)
# "union secretary Ilse Varga", "Transport Minister Hanne Lode"
_ROLE_BEFORE = re.compile(
    r"\b(?P<role>(?:[A-Za-z]+\s){0,2}(?i:" + _ROLE_HEADS + r"))\s+"
    r"(?P<name>[A-Z][a-z’'\-]+(?:\s[A-Z][a-z’'\-]+){1,2})\b"
)
# "Ilse Varga, the union's secretary," / "Ilse Varga, a spokeswoman for"
_ROLE_AFTER = re.compile(
    r"\b(?P<name>[A-Z][a-z’'\-]+(?:\s[A-Z][a-z’'\-]+){1,2}),\s(?:the|a|an)\s"
    r"(?P<role>(?:[\w’']+\s){0,3}?(?i:" + _ROLE_HEADS + r"))\b"
)
_SPEECH = re.compile(
    r"\b(?:said|says|told|added|stated|insisted|warned|explained)\b", re.IGNORECASE
)
_PAST_EVENT = re.compile(
    r"\b(?:visited|met|arrived|held|announced|signed|opened|closed|attended|travelled|traveled|"
    r"walked|was|were|took place|happened|died|struck|won|lost|voted|said|told)\b",
    re.IGNORECASE,
)


@dataclass
class Finding:
    start: int
    end: int
    text: str
    reason: str


def _role_head(role: str) -> str:
    found = re.search(_ROLE_HEADS, role.lower())
    return found.group() if found else role.lower()


def find_inconsistencies(
    body: str, sentences: list[tuple[int, int]], published: str | None
) -> list[Finding]:
    """Findings in reading order; at most one per sentence."""
    article_date = parse_date(published)
    findings: dict[int, Finding] = {}

    def flag(i: int, reason: str) -> None:
        start, end = sentences[i]
        findings.setdefault(
            i, Finding(start, end, body[start:end], "inside the article: " + reason)
        )

    roles: dict[str, tuple[str, str, int]] = {}  # surname -> (role head, name, sentence)
    quotes: dict[str, tuple[str, int]] = {}  # quote key -> (speaker, sentence)
    events: list[tuple[int, set[str], set[str], list[DateMention]]] = []
    for i, (start, end) in enumerate(sentences):
        text = body[start:end]
        for match in [*_ROLE_BEFORE.finditer(text), *_ROLE_AFTER.finditer(text)]:
            name = match.group("name")
            surname = entity_key(name).split()[-1]
            head = _role_head(match.group("role"))
            if surname in roles and roles[surname][0] != head:
                before_head, before_name, j = roles[surname]
                flag(
                    i,
                    f"{name} is called {head} here but {before_head} earlier "
                    f"({_quoted(body, sentences[j])})",
                )
            roles.setdefault(surname, (head, name, i))
        speaker = _speaker(text)
        for quote in extract_quotes(text):
            key = quote_key(quote)
            if key in quotes and speaker and quotes[key][0] and quotes[key][0] != speaker:
                flag(
                    i, f"the same quote is given to {speaker} here and to {quotes[key][0]} earlier"
                )
            quotes.setdefault(key, (speaker, i))
        dates = find_dates(text, article_date)
        if dates:
            entities = {entity_key(e) for e in extract_entities(text)}
            words = content_words(re.sub(r"[A-Z][\w’'\-]*", " ", text))  # event words, not names
            words -= {w for d in dates for w in d.text.lower().split()}
            for j, other_entities, other_words, other_dates in events:
                if len(words & other_words) >= 2 and entities & other_entities:
                    conflict = _date_conflict(dates, other_dates)
                    if conflict:
                        flag(
                            i,
                            f"the same event is dated {conflict[0]} here but {conflict[1]} "
                            f"earlier ({_quoted(body, sentences[j])})",
                        )
            events.append((i, entities, words, dates))
            if article_date is not None and _PAST_EVENT.search(text):
                late = [d for d in dates if d.value is not None and _after(d, article_date)]
                resolved_from_text = [d for d in late if re.search(r"\d", d.text)]
                if resolved_from_text:
                    d = resolved_from_text[0]
                    flag(
                        i,
                        f"reported as having happened, but dated {d.text}, after the article's "
                        f"own date ({article_date.isoformat()})",
                    )
    return [findings[i] for i in sorted(findings)]


def _after(mention: DateMention, published: dt.date) -> bool:
    assert mention.value is not None
    if mention.granularity == "day":
        return mention.value > published
    if mention.granularity == "month":
        return (mention.value.year, mention.value.month) > (published.year, published.month)
    if mention.granularity == "year":
        return mention.value.year > published.year
    return False


def _date_conflict(ours: list[DateMention], theirs: list[DateMention]) -> tuple[str, str] | None:
    for a in ours:
        for b in theirs:
            if a.granularity != b.granularity:
                continue
            same = a.same_period(b)
            if same is False or (
                same is None and a.text.lower() != b.text.lower() and a.granularity == "day"
            ):
                return a.text, b.text
    return None


def _speaker(text: str) -> str | None:
    """Who speaks in a quoting sentence: the name nearest to 'said'/'told' outside the quote."""
    outside = re.sub(r"[\"“”«»][^\"“”«»]*[\"“”«»]", " ", text)
    if not _SPEECH.search(outside):
        return None
    names = extract_entities(outside)
    people = [n for n in names if len(n.split()) >= 2] or names
    return entity_key(people[-1]).split()[-1] if people else None


def _quoted(body: str, span: tuple[int, int]) -> str:
    return f"\u201c{_clip(body[span[0] : span[1]])}\u201d"


def _clip(text: str, width: int = 50) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "\u2026"

"""What differs between a claim and the source sentence it was aligned with: lengths of time,
negation, reversed direction (rose/fell, won/lost), quantity words (most/few), names and speakers.

Lengths of time are compared as values (rules are precise there: "72 hours" vs "three days" agree,
"indefinite" vs "72 hours" do not). The others are candidates: a paraphrase can say "has not risen"
for "stayed frozen" or "the majority" for "most", so the claim judge must read the pair as a
contradiction before a candidate counts. Every difference names both sides, so a contradicted claim
can say what the source says instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90, "hundred": 100,
    "several": 3, "a few": 3, "few": 3, "a couple of": 2, "couple of": 2,
}  # fmt: skip
_UNIT_DAYS = {
    "minute": 1 / 1440, "hour": 1 / 24, "day": 1, "night": 1, "week": 7, "fortnight": 14,
    "month": 30.44, "year": 365.25, "decade": 3652.5, "century": 36525,
}  # fmt: skip
_UNIT = r"(?:minute|hour|day|night|week|fortnight|month|year|decade|centur(?:y|ie))s?"
_COUNT = (
    r"(?:\d+(?:\.\d+)?|" + "|".join(sorted((w for w in _NUMBER_WORDS if " " not in w), key=len,
                                           reverse=True)) + r"|a couple of|a few)"
)  # fmt: skip
_HEDGE = re.compile(
    r"\b(?:about|around|roughly|nearly|almost|some|approximately|more than|over|up to|at least|"
    r"under|less than|just over|just under|close to|getting on for)\s*$",
    re.IGNORECASE,
)
# "18 months", "72-hour", "two and a half years", "half an hour", "a year and a half"
_DURATION = re.compile(
    r"\b(?P<count>" + _COUNT + r")(?P<half>\s+and\s+a\s+half)?[\s-]+(?P<unit>" + _UNIT + r")"
    r"(?P<half2>\s+and\s+a\s+half)?\b"
    r"|\bhalf[\s-]+(?:an?\s+)?(?P<half_unit>hour|day|year|century)\b",
    re.IGNORECASE,
)
# Not a length of time: an age, or a date ("two years ago", "three days earlier").
_NOT_DURATION_AFTER = re.compile(r"^(?:[\s-]*old\b|\s+ago\b|\s+earlier\b|\s+later\b)", re.I)
_DURATION_LEAD = re.compile(
    r"\b(?:for|over|within|after|lasting|lasted|last|lasts|took|take|takes|taking|spent|spend|"
    r"in|during|of|than|about|around|nearly|almost|some|up to|at least|more than|less than|just|"
    r"the|past|next|first|final|every)\s*$",
    re.IGNORECASE,
)
# "for weeks", "within months": several of the unit; "the past year", "the year to October": one.
_BARE_PLURAL = re.compile(
    r"\b(?:for|within|over|in|after|lasting|lasted|took)\s+(?P<unit>hours|days|weeks|months|years|"
    r"decades)\b",
    re.IGNORECASE,
)
_ONE_UNIT = re.compile(
    r"\bthe\s+(?:(?:past|last|next|coming|previous)\s+(?P<unit>year|month|week|decade|fortnight)"
    r"|(?P<unit2>year|month|week)\s+(?:to|ending))\b",
    re.IGNORECASE,
)
_OPEN_ENDED = re.compile(
    r"\b(?:indefinite(?:ly)?|open[- ]ended|until further notice|permanent(?:ly)?|for good|"
    r"with no end date|no end in sight)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Duration:
    """A length of time as written, in days (None: open-ended), and whether it was hedged."""

    text: str
    days: float | None
    approximate: bool

    def agrees(self, other: Duration) -> bool:
        if self.days is None or other.days is None:
            return self.days is None and other.days is None
        tolerance = 0.35 if (self.approximate or other.approximate) else 0.05
        high, low = max(self.days, other.days), min(self.days, other.days)
        return high - low <= tolerance * high


def find_durations(text: str) -> list[Duration]:
    """Lengths of time in ``text`` (not ages, dates or rates) and open-ended ones ("indefinite")."""
    found = []
    for match in _DURATION.finditer(text):
        before = text[max(0, match.start() - 30) : match.start()]
        after = text[match.end() : match.end() + 12]
        if _NOT_DURATION_AFTER.match(after):
            continue
        if match.group("half_unit"):
            days = 0.5 * _UNIT_DAYS[match.group("half_unit").lower().rstrip("s").replace("ie", "y")]
        else:
            count = match.group("count").lower()
            if count in {"a", "an"} and not _DURATION_LEAD.search(before):
                continue  # "£5 a day", "twice a year": a rate, not a length of time
            value = float(count) if count[0].isdigit() else float(_NUMBER_WORDS[count])
            if match.group("half") or match.group("half2"):
                value += 0.5
            unit = match.group("unit").lower()
            unit = "century" if unit.startswith("centur") else unit.rstrip("s")
            days = value * _UNIT_DAYS[unit]
        count_words = (match.group("count") or "").lower()
        hedged = bool(_HEDGE.search(before)) or count_words in {"several", "a few", "few"}
        found.append(Duration(match.group().strip(), days, hedged))
    for match in _BARE_PLURAL.finditer(text):
        days = 3 * _UNIT_DAYS[match.group("unit").lower().rstrip("s")]
        found.append(Duration(match.group().split()[-1], days, True))
    for match in _ONE_UNIT.finditer(text):
        unit = (match.group("unit") or match.group("unit2")).lower()
        found.append(Duration(match.group(), _UNIT_DAYS[unit], False))
    for match in _OPEN_ENDED.finditer(text):
        found.append(Duration(match.group(), None, False))
    return found


def duration_spans(text: str) -> list[tuple[int, int]]:
    """Where the lengths of time are, so figures inside them are not compared twice."""
    spans = []
    for match in _DURATION.finditer(text):
        if not _NOT_DURATION_AFTER.match(text[match.end() : match.end() + 12]):
            spans.append(match.span())
    return spans


def duration_conflict(claim: str, evidence: str) -> tuple[str, str] | None:
    """(source's, claim's) length of time when the claim states one that the aligned sentence
    contradicts: a length of the claim disagrees with every one in the sentence."""
    ours = find_durations(claim)
    theirs = find_durations(evidence)
    if not ours or not theirs:
        return None
    for mine in ours:
        if not any(mine.agrees(other) for other in theirs):
            # The closest length in the source is the one the claim restates.
            other = min(theirs, key=lambda t: _distance(mine, t))
            if any(t.agrees(o) for t in ours for o in theirs if t is not mine):
                continue  # another length of the claim matches: two events, one restated
            return other.text, mine.text
    return None


def _distance(a: Duration, b: Duration) -> float:
    if a.days is None or b.days is None:
        return 0.0 if a.days is b.days else 1.0
    return abs(a.days - b.days) / max(a.days, b.days)


# --- candidates the judge must confirm ---------------------------------------------------------

_NEGATION = re.compile(
    r"\b(?:not|never|no longer|no|none|nobody|nothing|neither|nor|without|cannot|refused to|"
    r"failed to|failing to|fails to|fail to|declined to)\b|n't\b",
    re.IGNORECASE,
)
# Pairs of word groups whose members reverse each other's meaning.
_OPPOSITES: list[tuple[frozenset[str], frozenset[str]]] = [
    (frozenset(a.split()), frozenset(b.split()))
    for a, b in (
        (
            "rose risen rise rises rising increase increased increases increasing grew grown "
            "grow grows growing climbed climb climbs soared jumped gained gain gains up higher "
            "boosted boost raised",
            "fell fallen fall falls falling decrease decreased decreases decreasing dropped drop "
            "drops shrank shrunk shrink declined decline declines slumped down lower cut cuts "
            "reduced reduce lost",
        ),
        ("won win wins winning beat beaten defeated victory", "lost lose loses losing"),
        (
            "approved approve approves backed passed accepted accept agreed allowed allow "
            "supported support welcomed granted",
            "rejected reject rejects refused refuse blocked opposed oppose banned ban "
            "criticised condemned denied",
        ),
        ("admitted admits admit confirmed", "denied denies deny"),
        ("guilty convicted", "innocent acquitted cleared"),
        ("opened open opens reopened reopen reopens", "closed close closes shut shuts"),
        ("more most", "fewer less least"),
        ("ahead above", "behind below"),
        ("best biggest largest highest strongest", "worst smallest lowest weakest"),
        ("profit surplus success", "loss deficit failure"),
        ("started began starts begin begins", "ended ends end stopped stops"),
        ("survived kept retained", "lost"),
        ("hired hiring created creating", "fired cut axed lose"),
        ("always", "never"),
        (
            "kept continued continues resumed running operating remains stayed",
            "cancelled suspended halted scrapped axed stopped",
        ),
        ("doubled double doubles doubling", "halved halve halves halving"),
        ("found detected identified spotted caught", "missed"),
        ("slow slower slowed slowing", "faster quicker speed sped"),
        ("longer lengthened lengthen", "shorter shortened shorten"),
        ("broke broken beat hit met reached", "missed"),
        ("welcomed praised", "criticised condemned attacked"),
    )
]
_QUANTITY_CLASSES = [
    # (scale position, pattern): 0 none .. 6 all; two steps apart is a difference ("most" and
    # "half", "many" and "few"), one is not ("nearly all" and "all", "some" and "several").
    (0, r"\b(?:no|none|nobody|no one|nothing|not a single|not any|hardly any|zero|never)\b"),
    (1, r"\b(?:few|a handful|a minority|little|a small (?:number|part|share|proportion)|"
        r"only a few|only some|a small minority|only one|just one|a single|once a|rarely|"
        r"seldom)\b"),
    (2, r"\b(?:some|several|a few|a number of|a third|a quarter|parts? of|sometimes)\b"),
    (3, r"\b(?:many|half|about half|numerous|lots of|often)\b"),
    (5, r"\b(?:most|mostly|majority|the bulk|mainly|largely|nearly all|almost all|the vast "
        r"majority|the great majority|nearly every|almost every|usually)\b"),
    (6, r"\b(?:all|every|everyone|everybody|each|entire|whole|everything|always)\b"),
]  # fmt: skip
_QUOTED = re.compile(r"[\"“”«»][^\"“”«»]*[\"“”«»]")
_WORD = re.compile(r"[A-Za-z][a-z'’]+")


@dataclass(frozen=True)
class Difference:
    """One way the claim departs from the source sentence: ``kind`` and both sides as written."""

    kind: str  # negation | direction | quantity | name | speaker
    theirs: str
    ours: str

    def describe(self) -> str:
        if self.kind == "negation":
            if self.ours:
                return f"the source says \u201c{self.theirs}\u201d, not \u201c{self.ours}\u201d"
            return f"the source says \u201c{self.theirs}\u201d"
        if self.kind == "speaker":
            return f"the source gives this to {self.theirs}, not {self.ours}"
        return f"the source says {self.theirs}, not {self.ours}"


def outside_quotes(text: str) -> str:
    """The text with quotations blanked (same length, so offsets still hold)."""
    return _QUOTED.sub(lambda m: " " * len(m.group()), text)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


_AUXILIARY = frozenset(
    "be been being is are was were am have has had do does did will would shall should can could "
    "may might must to yet also thought believed said expected likely able going even ever since "
    "for the a an of in on at by with from that this these those any more than only just its their "
    "his her our your it they he she we you there how what why when where who which whether much "
    "many very really quite".split()
)


def negation_difference(claim: str, evidence: str) -> Difference | None:
    """One side negates what the other states: a negation cue followed (within five words) by a
    word the other side uses with no negation cue before it ("were not ... stolen" / "had been
    stolen")."""
    for negated, plain, source_negates in ((evidence, claim, True), (claim, evidence, False)):
        for cue in _NEGATION.finditer(outside_quotes(negated)):
            following = _WORD.findall(negated[cue.end() :])[:5]
            # The first word the cue negates (lower case: "no confidence on Wednesday" does not
            # make "Wednesday" the negated word).
            verbs = [w for w in following if w.lower() not in _AUXILIARY and len(w) > 3][:2]
            verbs = [w for w in verbs if w[:1].islower()]
            for verb in verbs:
                match = re.search(rf"\b{re.escape(verb[:5])}\w*", outside_quotes(plain), re.I)
                if match is None:
                    continue  # the other side does not use this word: try the next one
                window = plain[max(0, match.start() - 40) : match.start()]
                if _NEGATION.search(" ".join(window.split()[-4:])):
                    break  # negated on both sides: the same statement
                theirs = _span_words(negated, cue.start(), match_word=verb)
                ours = _span_words(plain, match.start(), match_word=None)
                if source_negates:
                    return Difference("negation", theirs, ours)
                return Difference("negation", ours, theirs)
    return None


def _span_words(text: str, start: int, *, match_word: str | None) -> str:
    """The words from ``start`` up to ``match_word`` (or one word before and after ``start``)."""
    if match_word is None:
        return _phrase_at(text, start, before=1, after=0)
    end = text.find(match_word, start)
    end = end + len(match_word) if end >= 0 else start + 30
    head = text[:start].split()[-1:]
    return " ".join(head + text[start:end].split()).strip(' ,.;:"“”')


def _phrase_at(text: str, start: int, *, before: int = 1, after: int = 2) -> str:
    """A few words around ``start``: the negation cue with its verb, for a reason."""
    head = text[:start].split()[-before:] if before else []
    tail = text[start:].split()[: after + 1]
    return " ".join(head + tail).strip(' ,.;:"“”')


def direction_difference(claim: str, evidence: str) -> Difference | None:
    """The claim uses a word whose opposite the source uses in its place (rose/fell, won/lost)."""
    ours = set(_words(outside_quotes(claim)))
    theirs = set(_words(outside_quotes(evidence)))
    for group_a, group_b in _OPPOSITES:
        for mine, other in ((group_a, group_b), (group_b, group_a)):
            if ours & mine and theirs & other and not (ours & other) and not (theirs & mine):
                return Difference("direction", sorted(theirs & other)[0], sorted(ours & mine)[0])
    return None


def quantity_words(text: str) -> list[tuple[int, str]]:
    """(scale 0 none .. 5 all, the words) of each quantity word outside quotations."""
    found = []
    taken: list[tuple[int, int]] = []
    plain = outside_quotes(text)
    for scale, pattern in sorted(_QUANTITY_CLASSES, key=lambda c: -len(c[1])):
        for match in re.finditer(pattern, plain, re.IGNORECASE):
            if any(s < match.end() and match.start() < e for s, e in taken):
                continue
            taken.append(match.span())
            found.append((scale, match.group().lower()))
    return found


def quantity_difference(claim: str, evidence: str) -> Difference | None:
    """A quantity word of the claim that the source sentence does not use, where the sentence
    uses one two or more steps away that the claim does not ("few" against "most"; "all" against
    "some")."""
    ours = quantity_words(claim)
    theirs = quantity_words(evidence)
    our_scales = {scale for scale, _ in ours}
    their_scales = {scale for scale, _ in theirs}
    for scale, words in ours:
        if scale in their_scales:
            continue
        far = [(s, w) for s, w in theirs if s not in our_scales and abs(s - scale) >= 2]
        if far:
            other = min(far, key=lambda t: abs(t[0] - scale))[1]
            return Difference("quantity", other, words)
    return None


# "has not risen" says what "has stayed frozen" says: a negated change and a word for no change.
_NO_CHANGE = re.compile(
    r"\b(?:frozen|unchanged|flat|stagnant|static|stalled|steady|stable|the same|stood still|"
    r"standing still)\b",
    re.IGNORECASE,
)
_NEGATED_CHANGE = re.compile(
    r"\b(?P<aux>has|have|had|did|does|do)(?: not|n't) (?:risen|rise|increased|increase|gone up|"
    r"go up|grown|grow|changed|change|moved|move|budged|budge)\b",
    re.IGNORECASE,
)


def as_no_change(premise: str, claim: str) -> str:
    """The premise as the judge reads it: a negated change ("has not risen") said in the claim's
    word for no change ("has remained frozen") when the claim uses one and does not negate a
    change itself, so that a faithful "frozen" is not read as the opposite of "not risen"."""
    state = _NO_CHANGE.search(outside_quotes(claim))
    if state is None or _NEGATED_CHANGE.search(claim):
        return premise

    def restate(match: re.Match[str]) -> str:
        aux = match.group("aux").lower()
        verb = {"did": "remained", "does": "remains", "do": "remain"}.get(aux, f"{aux} remained")
        return f"{verb} {state.group().lower()}"

    return _NEGATED_CHANGE.sub(restate, premise)


def differences(claim: str, evidence: str) -> list[Difference]:
    """The candidate differences of the claim from an aligned source sentence, most specific
    first."""
    found = []
    if not _QUOTED.search(claim):
        # A claim that reports a quotation in its own words is compared with the words quoted.
        evidence = re.sub(r"[\"“”«»]", " ", evidence)
    for detect in (quantity_difference, direction_difference, negation_difference):
        difference = detect(claim, evidence)
        if difference is not None:
            found.append(difference)
    return found

"""Dates as written and as resolved against a publication date ("on Sunday", "last year").

A rewrite published two days after its source turns "on Sunday" into "on Friday" or into "on 3
March"; comparing resolved dates lets the claim checker tell a restated date from a changed one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_MONTHS = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip
_MONTH_RE = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

_PATTERNS = [
    # 2024-03-03
    ("iso", re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<mnum>\d\d)-(?P<day>\d\d)\b")),
    # March 3, 2024 / March 3rd
    (
        "mdy",
        re.compile(
            _MONTH_RE + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<year>(?:19|20)\d\d))?\b",
            re.I,
        ),
    ),
    # 3 March 2024 / 3rd of March
    (
        "dmy",
        re.compile(
            r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?"
            + _MONTH_RE.replace("(?P<month>", "(?P<month>")
            + r"(?:,?\s+(?P<year>(?:19|20)\d\d))?\b",
            re.I,
        ),
    ),
    # in March 2024 / March 2024
    ("my", re.compile(_MONTH_RE + r"\s+(?P<year>(?:19|20)\d\d)\b", re.I)),
    # (on|last|next|this) Sunday
    (
        "weekday",
        re.compile(
            r"\b(?P<rel>on|last|next|this|since|by|until|from)?\s*(?P<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
            re.I,
        ),
    ),
    ("relday", re.compile(r"\b(?P<relday>yesterday|today|tomorrow|tonight)\b", re.I)),
    ("relperiod", re.compile(r"\b(?P<rel>last|next|this)\s+(?P<period>year|month|week)\b", re.I)),
    (
        "ago",
        re.compile(
            r"\b(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?P<period>year|month|week|day)s?\s+ago\b",
            re.I,
        ),
    ),
    (
        "year",
        re.compile(
            r"\b(?:in|since|by|during|of|until|for|from|after|before|till|through)\s+"
            r"(?P<year>(?:1[5-9]|20)\d\d)\b",
            re.I,
        ),
    ),
    # A month named alone ("by the end of June", "in March"): capitalised, so not the verb "may",
    # and not after a capitalised word ("Theresa May").
    (
        "month",
        re.compile(
            r"\b(?P<month>January|February|March|April|May|June|July|August|September|October|"
            r"November|December)\b"
        ),
    ),
]
# Capitalised words that may stand before a month named alone (a sentence opening "In March").
_MONTH_LEADS = frozenset(
    "In By On Since Until From During Last Next This Early Late Mid Before After Of The Until "
    "Throughout Between And Or".split()
)
_SMALL = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10}  # fmt: skip


@dataclass(frozen=True)
class DateMention:
    """A date in a text: the words, the span, and what it resolves to.

    ``granularity`` is 'day', 'month', 'week' or 'year'; ``value`` is the first day of that period
    (None when it cannot be resolved, e.g. a weekday with no publication date).
    """

    text: str
    start: int
    end: int
    value: dt.date | None
    granularity: str

    def same_period(self, other: DateMention) -> bool | None:
        """True/False when both resolve; None when either does not (cannot compare)."""
        if self.value is None or other.value is None:
            return None
        coarse = _coarser(self.granularity, other.granularity)
        return _truncate(self.value, coarse) == _truncate(other.value, coarse)


_ORDER = ["day", "week", "month", "year"]


def _coarser(a: str, b: str) -> str:
    return a if _ORDER.index(a) >= _ORDER.index(b) else b


def _truncate(value: dt.date, granularity: str) -> tuple[int, ...]:
    if granularity == "day":
        return (value.year, value.month, value.day)
    if granularity == "week":
        iso = value.isocalendar()
        return (iso.year, iso.week)
    if granularity == "month":
        return (value.year, value.month)
    return (value.year,)


def parse_date(value: str | None) -> dt.date | None:
    """A publication date from metadata: ISO (with or without time) or one written date."""
    if not value:
        return None
    value = value.strip()
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        pass
    numeric = _numeric_date(value)
    if numeric is not None:
        return numeric
    mentions = find_dates(value, None)
    for mention in mentions:
        if mention.value is not None and mention.granularity == "day":
            return mention.value
    return None


_NUMERIC = re.compile(r"^(?P<a>\d{1,4})(?P<sep>[/.])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{2,4})\b")


def _numeric_date(value: str) -> dt.date | None:
    """2025/09/08, 08.09.2025 (day first, as everywhere dots are used) and 25/09/2025 or 09/25/2025
    (the part over 12 is the day); None for 08/09/2025, which is 8 September or August 9."""
    match = _NUMERIC.match(value)
    if not match:
        return None
    a, b, c = (int(match.group(g)) for g in "abc")
    try:
        if len(match.group("a")) == 4:
            return dt.date(a, b, c)
        if len(match.group("c")) != 4:
            return None
        if match.group("sep") == "." or a > 12 >= b:
            return dt.date(c, b, a)
        if b > 12 >= a:
            return dt.date(c, a, b)
    except ValueError:
        return None
    return None


def _month_number(token: str) -> int:
    return (
        _MONTHS.index(next(m for m in _MONTHS if m.startswith(token.lower().rstrip(".")[:3]))) + 1
    )


def find_dates(text: str, published: dt.date | None) -> list[DateMention]:
    """Every date mention in ``text``, resolved against ``published`` where it is relative."""
    mentions: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            if any(s < match.end() and match.start() < e for s, e in taken):
                continue
            mention = _resolve(kind, match, published)
            if mention is None:
                continue
            mentions.append(mention)
            taken.append((match.start(), match.end()))
    mentions.sort(key=lambda m: m.start)
    return mentions


def _resolve(kind: str, match: re.Match[str], published: dt.date | None) -> DateMention | None:
    text, start, end = match.group().strip(), match.start(), match.end()
    groups = match.groupdict()
    try:
        if kind == "iso":
            value = dt.date(int(groups["year"]), int(groups["mnum"]), int(groups["day"]))
            return DateMention(text, start, end, value, "day")
        if kind in {"mdy", "dmy"}:
            month, day = _month_number(groups["month"]), int(groups["day"])
            if groups.get("year"):
                return DateMention(
                    text, start, end, dt.date(int(groups["year"]), month, day), "day"
                )
            if published is None:
                return DateMention(text, start, end, None, "day")
            # A date without a year is the nearest such date to publication (usually just before).
            candidates = [dt.date(published.year + d, month, day) for d in (-1, 0, 1)]
            value = min(
                candidates, key=lambda c: abs((c - published).days) + (30 if c > published else 0)
            )
            return DateMention(text, start, end, value, "day")
        if kind == "my":
            value = dt.date(int(groups["year"]), _month_number(groups["month"]), 1)
            return DateMention(text, start, end, value, "month")
        if kind == "month":
            previous = match.string[: match.start()].split()[-1:]
            if previous and previous[0][:1].isupper() and previous[0] not in _MONTH_LEADS:
                return None  # "Theresa May", "Ordinary March"
            if published is None:
                return DateMention(text, start, end, None, "month")
            # The nearest such month to publication: "in March" written in February is next month.
            month = _month_number(groups["month"])
            options = [dt.date(published.year + d, month, 1) for d in (-1, 0, 1)]
            here = dt.date(published.year, published.month, 1)
            value = min(options, key=lambda c: _months_away(c, here))
            return DateMention(text, start, end, value, "month")
        if kind == "year":
            return DateMention(text, start, end, dt.date(int(groups["year"]), 1, 1), "year")
    except ValueError:
        return None
    if kind == "weekday":
        weekday = _WEEKDAYS.index(groups["weekday"].lower())
        rel = (groups.get("rel") or "").lower()
        if published is None:
            return DateMention(text, start, end, None, "day")
        delta = (published.weekday() - weekday) % 7
        if rel == "next":
            value = published + dt.timedelta(days=(weekday - published.weekday()) % 7 or 7)
        elif rel == "last":
            value = published - dt.timedelta(days=delta or 7)
        else:
            # News reports past events: a bare weekday is the most recent one (today included).
            value = published - dt.timedelta(days=delta)
        return DateMention(text, start, end, value, "day")
    if published is None:
        granularity = "day" if kind == "relday" else (groups.get("period") or "day").lower()
        return DateMention(text, start, end, None, granularity)
    if kind == "relday":
        shift = {"yesterday": -1, "today": 0, "tonight": 0, "tomorrow": 1}[groups["relday"].lower()]
        return DateMention(text, start, end, published + dt.timedelta(days=shift), "day")
    period = groups["period"].lower()
    if kind == "relperiod":
        step = {"last": -1, "this": 0, "next": 1}[groups["rel"].lower()]
        return DateMention(text, start, end, _shift(published, period, step), period)
    if kind == "ago":
        n = groups["n"].lower()
        count = int(n) if n.isdigit() else _SMALL[n]
        return DateMention(text, start, end, _shift(published, period, -count), period)
    return None


def _months_away(month: dt.date, here: dt.date) -> int:
    """How far a month is from the publication month, a month ahead counting as three behind: news
    mostly reports what happened ("in May", written in July, is this May)."""
    gap = (month.year - here.year) * 12 + month.month - here.month
    return -gap if gap <= 0 else gap + 3


def _shift(base: dt.date, period: str, step: int) -> dt.date:
    if period == "year":
        return dt.date(base.year + step, 1, 1)
    if period == "month":
        month_index = base.year * 12 + base.month - 1 + step
        return dt.date(month_index // 12, month_index % 12 + 1, 1)
    if period == "week":
        monday = base - dt.timedelta(days=base.weekday())
        return monday + dt.timedelta(weeks=step)
    return base + dt.timedelta(days=step)

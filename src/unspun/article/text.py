"""Plain-text dumps into an Article: metadata lines, title, repeated headline, sub-headline, body,
trailing site boilerplate; the HTML and record parsers reuse the same assembly."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from unspun.article.model import Article
from unspun.article.signals import ParseNotes, detect_signals, ends_sentence
from unspun.errors import EmptyInput

_LINE_BREAK = re.compile(r"\r\n|\r|\n|\u2028|\u2029|\x0b|\x0c|\x85")
# How far into the text a title, byline or date line may sit and still count as the header.
_HEADER_LINES = 40

# --- metadata lines --------------------------------------------------------------------------
_META_KEYS = {
    "author": "author",
    "authors": "author",
    "by": "author",
    "byline": "author",
    "written by": "author",
    "posted by": "author",
    "reporter": "author",
    "writer": "author",
    "published": "date",
    "published on": "date",
    "publication date": "date",
    "date": "date",
    "dateline": "date",
    "posted": "date",
    "posted on": "date",
    "updated": "updated",
    "last updated": "updated",
    "url": "url",
    "link": "url",
    "source url": "url",
    "canonical": "url",
    "site": "site",
    "website": "site",
    "publication": "site",
    "publisher": "site",
    "source": "site",
    "title": "title",
    "headline": "title",
    "subtitle": "subtitle",
    "sub-headline": "subtitle",
    "subheadline": "subtitle",
    "sub headline": "subtitle",
    "standfirst": "subtitle",
    "dek": "subtitle",
}
_META = re.compile(
    r"^[*_]*(?P<key>" + "|".join(sorted(map(re.escape, _META_KEYS), key=len, reverse=True)) + r")"
    r"[*_]*\s*[:：]\s*[*_]*(?P<value>\S.{0,300}?)[*_]*$",
    re.IGNORECASE,
)
_BY = re.compile(
    r"^(?:written\s+|posted\s+|story\s+|words\s+)?by\s*[:：]?\s+(?P<value>[A-Z\u00c0-\u024f].{0,150})$",
    re.IGNORECASE,
)
_POSTED_BY = re.compile(
    r"^(?:posted|published|updated)(?:\s+on)?\s*[:：]?\s*(?P<date>.{4,60}?)\s+by\s+(?P<author>\S.{0,80})$",
    re.IGNORECASE,
)
_VALUE_SEPARATOR = re.compile(r"\s*(?:\||•|·|—|–|\s-\s|,|;)\s*")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(
    r"^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
    r"(?:\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}"
    rf"|(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?{_MONTH}\s+(?:\d{{1,2}}(?:st|nd|rd|th)?,?\s+)?\d{{4}})"
    r"(?:\s*(?:,|at|-)?\s*\d{1,2}[:.]\d{2}\s*(?:am|pm|a\.m\.|p\.m\.)?(?:\s*[A-Z]{2,5})?)?$",
    re.IGNORECASE,
)
# A dateline: "Posted on September 8, 2025", "Published: 8 Sept 2025 10:42 BST", "Updated 3 hours
# ago", "Last updated on ...", each part of a line such as "Published 8 Sept 2025 | Updated 9 Sept".
_DATELINE_LEAD = re.compile(
    r"^(?:(?:first|originally|last)\s+)?(?:posted|published|updated|modified|dated?)"
    r"(?:\s+(?:on|at))?\s*[:：]?\s*",
    re.IGNORECASE,
)
_AGO = re.compile(
    r"^(?:about\s+|around\s+)?(?:\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten)"
    r"\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|h|days?|d|weeks?|months?|years?)\s+ago$",
    re.IGNORECASE,
)
# Words that only a lead makes a date ("Updated yesterday"); alone, "Today" may be a heading.
_RELATIVE_DAY = re.compile(
    r"^(?:just now|today|yesterday)"
    r"(?:\s*,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}\s*(?:am|pm|a\.m\.|p\.m\.)?(?:\s*[A-Z]{2,5})?)?$",
    re.IGNORECASE,
)
_READING_TIME = re.compile(r"^\d{1,3}\s*-?\s*min(?:ute)?s?\.?\s+read$", re.IGNORECASE)
_DATELINE_PARTS = re.compile(
    r"\s*(?:\||•|·|—|–|\s-\s|;|,(?=\s*(?:last\s+)?(?:updated|modified)\b))\s*", re.IGNORECASE
)

# --- boilerplate lines -----------------------------------------------------------------------
_SOCIAL = (
    r"(?:facebook|twitter|x|whatsapp|linkedin|pinterest|reddit|telegram|email|e-mail|print|"
    r"copy link|messenger|tumblr|flipboard|threads|bluesky|mastodon|sms)"
)
_FOOTER = re.compile(
    r"^(?:"
    r"leave a (?:comment|reply)(?: cancel reply)?|leave your comment|post a comment|add a comment"
    r"|join the (?:discussion|conversation)|comments? (?:are )?closed\.?|comments?"
    r"|(?:no|\d+) (?:comments?|responses?|replies)(?: yet)?"
    r"|you must be logged in to post a comment\.?"
    r"|share(?: this)?(?: article| story| post| page)?(?: on \w+)?[:!]?"
    r"|share via\b.*"
    rf"|(?:share on |tweet on )?{_SOCIAL}(?:\s*[|,/·•]?\s*{_SOCIAL})*"
    r"|tweet|pin it|email this|print this(?: article| page)?"
    r"|related(?: posts?| articles?| stories| news| content| reading| topics)?:?"
    r"|you (?:may|might) also (?:like|be interested in|enjoy):?"
    r"|more (?:from|stories|news|on this)\b.{0,60}|recommended(?: for you)?:?"
    r"|(?:read|see) (?:more|next|also)\b.{0,150}|also read\b.{0,150}"
    r"|trending(?: now| stories)?:?|popular (?:posts|stories|articles):?"
    r"|latest (?:news|posts|stories|articles):?|most (?:read|popular|viewed):?"
    r"|(?:subscribe|sign up|signup|register)\b.{0,40}\bnewsletter\b.{0,160}"
    r"|(?:get|receive) (?:the latest|our|daily|breaking)\b.{0,80}"
    r"\b(?:inbox|newsletter|email)\b.{0,80}"
    r"|enter your e-?mail\b.{0,120}|subscribe(?: now| today)?[.!]?"
    r"|(?:we|this (?:web)?site|our site) uses? cookies\b.{0,300}|.{0,80}\buses cookies to\b.{0,200}"
    r"|(?:accept|reject|manage)(?: all)? cookies|cookie (?:policy|settings|preferences|notice)"
    r"|by continuing to (?:use|browse)\b.{0,200}"
    r"|privacy policy|terms (?:of (?:use|service)|and conditions)|contact us|about us"
    r"|all rights reserved\.?|(?:©|copyright\b|\(c\)\s*\d{4}).{0,150}"
    r"|tags?\s*:.{0,200}|filed under:?.{0,200}|posted in:?.{0,200}|categor(?:y|ies)\s*:.{0,200}"
    r"|like this:?|loading\.*|advertisement|sponsored(?: content)?|follow us\b.{0,80}"
    r"|click here\b.{0,120}|(?:previous|next) (?:post|article|story)\b.{0,150}"
    r"|about the author|back to top|report an? (?:error|typo)|view comments|show comments"
    r")$",
    re.IGNORECASE,
)
# Lines after which everything short is a list of links or comments.
_SECTION_START = re.compile(
    r"^(?:leave a (?:comment|reply)|comments?|\d+ comments?|related(?: posts?| articles?| stories"
    r"| news| content)?|you (?:may|might) also like|more (?:from|stories)\b.{0,60}|recommended"
    r"(?: for you)?|trending(?: now)?|popular (?:posts|stories)|latest (?:news|posts)|most read"
    r"|read (?:more|next)|about the author):?$",
    re.IGNORECASE,
)
# Boilerplate that sites splice into the middle of a body.
_INLINE = re.compile(
    r"^(?:advertisement|story continues below(?: advertisement)?|continue reading(?: below)?"
    r"|scroll (?:down )?to continue(?: with content)?|sponsored"
    r"|(?:also read|read also|read more|see also|related|watch|listen)\s*[:|»>-]\s*\S.{0,200})$",
    re.IGNORECASE,
)
_LEADING = re.compile(
    r"^(?:skip to (?:main )?content|menu|search|home|toggle navigation|sign in|log in|subscribe"
    r"|home\s*(?:»|>|/|›)\s*.{0,150}|you are here:?.{0,150})$",
    re.IGNORECASE,
)

_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "by",
        "from",
        "as",
        "that",
        "which",
        "who",
        "is",
        "was",
        "were",
        "are",
        "be",
        "has",
        "have",
        "had",
        "his",
        "her",
        "its",
        "their",
        "our",
        "this",
        "these",
        "those",
        "than",
    ]
)


@dataclass
class _Line:
    text: str
    block: int


def parse_text(
    text: str,
    *,
    title: str | None = None,
    subtitle: str | None = None,
    author: str | None = None,
    date: str | None = None,
    url: str | None = None,
    site: str | None = None,
) -> Article:
    """Parse a plain-text article dump. Metadata given here wins over lines found in the text."""
    if not isinstance(text, str):
        raise TypeError("parse_text expects str; decode bytes with unspun.article.decode_bytes")
    if not text.strip():
        raise EmptyInput("the article text is empty or only whitespace")
    return build_article(
        split_blocks(text),
        title=title,
        subtitle=subtitle,
        author=author,
        date=date,
        url=url,
        site=site,
    )


def split_blocks(text: str) -> list[list[str]]:
    """Blocks of consecutive non-blank lines, each line stripped; any line-break style works."""
    text = text.removeprefix("\ufeff")
    blocks: list[list[str]] = [[]]
    for raw in _LINE_BREAK.split(text):
        line = raw.strip()
        if line:
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [block for block in blocks if block]


def build_article(
    blocks: list[list[str]],
    *,
    title: str | None = None,
    subtitle: str | None = None,
    author: str | None = None,
    date: str | None = None,
    url: str | None = None,
    site: str | None = None,
    line_paragraphs: bool = False,
) -> Article:
    """Assemble an Article from blocks of lines: header, body, boilerplate, then signals.

    ``line_paragraphs`` says every line is its own paragraph (text extracted from HTML);
    otherwise a block is one paragraph unless its lines look like separate paragraphs."""
    title, subtitle, author, date, url, site = (
        _clean(v) for v in (title, subtitle, author, date, url, site)
    )
    notes = ParseNotes()
    lines = [_Line(line, b) for b, block in enumerate(blocks) for line in block]
    header = _Header(title=title, subtitle=subtitle, author=author, date=date, url=url, site=site)
    position = header.consume(lines, notes)
    body_lines = lines[position:]

    removed_inline = [line.text for line in body_lines if _INLINE.match(_canonical(line.text))]
    body_lines = [line for line in body_lines if not _INLINE.match(_canonical(line.text))]
    removed_footer = _strip_footer(body_lines)
    notes.removed_boilerplate = header.removed + removed_inline + removed_footer

    paragraphs = _paragraphs(body_lines, line_paragraphs=line_paragraphs)
    if not paragraphs and header.headings_from_text:
        # A text that is only a short line or two (no full stop) is a body, not a bare headline.
        paragraphs = header.headings_from_text
        if header.title_from_text:
            header.title = None
        if header.subtitle_from_text:
            header.subtitle = None
        notes.duplicated_headline_count = 0
    if not paragraphs:
        raise EmptyInput(
            "no article text left after removing the title, byline and site boilerplate"
        )
    notes.full_page = header.title is not None
    article = Article(
        paragraphs=paragraphs,
        title=header.title,
        subtitle=header.subtitle,
        author=header.author,
        date=header.date,
        url=header.url,
        site=header.site,
    )
    article.signals = detect_signals(article, notes)
    return article


class _Header:
    """The lines above the body: metadata, the title, repeats of it, and one sub-headline."""

    def __init__(self, **given: str | None) -> None:
        self.title = given["title"]
        self.subtitle = given["subtitle"]
        self.author = given["author"]
        self.date = iso_date(given["date"]) if given["date"] else None
        self.url = given["url"]
        self.site = given["site"]
        self._title_given = self.title is not None
        self._subtitle_given = self.subtitle is not None
        self._given_title_seen = False
        self._given_subtitle_seen = False
        self.title_from_text = False
        self.subtitle_from_text = False
        self.headings_from_text: list[str] = []
        self.removed: list[str] = []

    def consume(self, lines: list[_Line], notes: ParseNotes) -> int:
        """Read header lines from the top; returns the index of the first body line."""
        i = 0
        while i < len(lines) and i < _HEADER_LINES:
            line = lines[i].text
            if _LEADING.match(_canonical(line)) or (
                _is_social(_canonical(line)) and _FOOTER.match(_canonical(line))
            ):
                self.removed.append(line)
                i += 1
                continue
            if self._metadata(line):
                i += 1
                continue
            if not _heading_like(lines, i):
                break
            if len(line.split()) <= 4 and (
                _FOOTER.match(_canonical(line)) or _SECTION_START.match(_canonical(line))
            ):
                self.removed.append(line)  # "Leave a Comment" is never a headline
                i += 1
                continue
            heading = _strip_marks(line)
            if self.title is None:
                self.title = heading
                self.title_from_text = True
                self.headings_from_text.append(line)
            elif same_headline(heading, self.title):
                if self._title_given and not self._given_title_seen:
                    self._given_title_seen = True  # the text starts with its own title: expected
                else:
                    notes.duplicated_headline_count += 1
                    notes.duplicated_headline = line
            elif self.subtitle is not None and same_headline(heading, self.subtitle):
                if not (self._subtitle_given and not self._given_subtitle_seen):
                    break  # a repeated sub-headline belongs to the body; stop here
                self._given_subtitle_seen = True
            elif self.subtitle is None:
                self.subtitle = heading
                self.subtitle_from_text = True
                self.headings_from_text.append(line)
            else:
                break
            i += 1
        return i

    def _metadata(self, line: str) -> bool:
        """Take a metadata line (``Author: X``, ``By X``, ``Published: DATE``, a bare date)."""
        if len(line) > 320:
            return False
        posted = _POSTED_BY.match(line)
        if posted and _DATE.match(posted.group("date").strip(" ,")):
            self._set("date", posted.group("date").strip(" ,"))
            self._set("author", _first_part(posted.group("author")))
            return True
        dated = dateline(line)
        if dated is not None:
            self._set("date", dated)
            return True
        meta = _META.match(line)
        if meta:
            field = _META_KEYS[meta.group("key").lower()]
            value = meta.group("value").strip()
            if field == "author":
                parts = _VALUE_SEPARATOR.split(value)
                self._set("author", parts[0])
                self._set("date", _byline_date(value))
            elif field == "updated":
                self._set("date", value)
            elif field == "date":
                self._set("date", _VALUE_SEPARATOR.split(value)[0] if "|" in value else value)
            else:
                self._set(field, value)
            return True
        by = _BY.match(line)
        if by and len(line.split()) <= 14 and not _ends_with_full_stop(line):
            parts = _VALUE_SEPARATOR.split(by.group("value").strip())
            name = parts[0].strip()
            if not name or len(name.split()) > 6 or not _looks_like_name(name):
                return False
            self._set("author", name)
            self._set("date", _byline_date(by.group("value")))
            return True
        if _DATE.match(line):
            self._set("date", line)
            return True
        return False

    def _set(self, field: str, value: str | None) -> None:
        value = _clean(value)
        if value and getattr(self, field) is None:
            setattr(self, field, iso_date(value) if field == "date" else value)


def dateline(line: str) -> str | None:
    """The date a dateline gives ("Posted on September 8, 2025" -> "September 8, 2025"), or None
    when the line is not one. A dateline is short and is a date with at most a lead word, a time
    and a reading time, so a body sentence that starts with "Published" or "Updated" is not one."""
    if len(line) > 120:
        return None
    found = None
    for part in _DATELINE_PARTS.split(_strip_marks(line)):
        part = part.strip(" ,")
        lead = _DATELINE_LEAD.match(part)
        value = part[lead.end() :].strip(" ,") if lead else part
        if _DATE.match(value) or _AGO.match(value) or (lead and _RELATIVE_DAY.match(value)):
            found = found or value
        elif not _READING_TIME.match(part):
            return None
    return found


def _byline_date(value: str) -> str | None:
    """The date in a byline's tail ("Dana | September 8, 2025", "Dana, March 3, 2026")."""
    parts = _DATELINE_PARTS.split(value.strip())
    for part in parts[1:]:
        dated = dateline(part)
        if dated:
            return dated
    parts = _VALUE_SEPARATOR.split(value.strip())
    for i in range(1, len(parts)):
        for j in range(len(parts), i, -1):  # "March 3, 2026" was split at its comma
            dated = dateline(", ".join(parts[i:j]))
            if dated:
                return dated
    return None


def iso_date(value: str) -> str:
    """``value`` as YYYY-MM-DD when it names one day unambiguously, else as written."""
    from unspun.provenance.dates import parse_date  # here: provenance imports unspun.article

    day = parse_date(value)
    return day.isoformat() if day else value


def _ends_with_full_stop(line: str) -> bool:
    """A sentence, not a byline: ends with '.' that is not an initial or 'Jr.'."""
    last = line.split()[-1]
    return last.endswith(".") and not re.fullmatch(r"[A-Z]\.|Jr\.|Sr\.", last)


def _first_part(value: str) -> str:
    return _VALUE_SEPARATOR.split(value.strip())[0]


def _looks_like_name(name: str) -> bool:
    words = name.split()
    if words[0].lower() in _FUNCTION_WORDS:
        return False
    return all(
        w[0].isupper()
        or w.lower()
        in {"de", "van", "von", "der", "la", "le", "da", "and", "bin", "al", "del", "di", "du"}
        for w in words
    )


@functools.lru_cache(maxsize=4096)
def _canonical(line: str) -> str:
    """The line with look-alike letters, invisible characters and odd spaces repaired, for matching
    boilerplate that was disguised with them; the article keeps the user's own characters."""
    from unspun.normalize import normalize  # here: normalize imports unspun.article

    return normalize(line).text


def _is_social(line: str) -> bool:
    return bool(re.match(r"^(?:share|tweet|facebook|twitter|whatsapp|email|print)\b", line, re.I))


def _heading_like(lines: list[_Line], i: int) -> bool:
    """A line that can be a title or sub-headline: short, unpunctuated, starts like a heading."""
    line = lines[i].text
    heading = _strip_marks(line)
    words = heading.split()
    if not words or len(words) > 30 or len(heading) > 250:
        return False
    if line.startswith("#"):
        return True
    if heading[0].islower() or heading[-1] in ".,;:-–—(" or heading.endswith("..."):
        return False
    if i + 1 < len(lines) and lines[i + 1].block == lines[i].block:
        # Inside a block a heading must be followed by a new line of its own, not a wrapped one.
        following = lines[i + 1].text
        if words[-1].lower() in _FUNCTION_WORDS or not (
            following[:1].isupper() or following[:1] in "\"'“‘#*0123456789"
        ):
            return False
    return True


def _strip_marks(line: str) -> str:
    """``# Title`` / ``**Title**`` -> ``Title``."""
    return line.lstrip("#").strip().strip("*_").strip()


def _fingerprint(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def same_headline(a: str, b: str) -> bool:
    """Equal up to case, punctuation and spacing, or one is the other plus a short site suffix."""
    fa, fb = _fingerprint(a), _fingerprint(b)
    if fa == fb:
        return bool(fa)
    short, long = sorted((fa, fb), key=len)
    return (
        len(short.split()) >= 4
        and long.startswith(short + " ")
        and len(long[len(short) :].split()) <= 4
    )


def _strip_footer(body: list[_Line]) -> list[str]:
    """Remove trailing boilerplate lines (and link lists under 'Related posts'); return them."""
    removed: list[str] = []
    changed = True
    while changed and body:
        changed = False
        while (
            body and len(body[-1].text.split()) <= 60 and _FOOTER.match(_canonical(body[-1].text))
        ):
            removed.insert(0, body.pop().text)
            changed = True
        # A section heading such as "Related posts" followed only by short lines (link titles,
        # comment stubs) near the end: drop it and everything after it.
        for k in range(len(body) - 1, max(-1, len(body) - 25), -1):
            if _SECTION_START.match(_canonical(body[k].text)) and k > 0:
                if all(len(line.text.split()) <= 25 for line in body[k + 1 :]):
                    removed[:0] = [line.text for line in body[k:]]
                    del body[k:]
                    changed = True
                break
    return removed


def _paragraphs(lines: list[_Line], *, line_paragraphs: bool) -> list[str]:
    blocks: list[list[str]] = []
    last_block = None
    for line in lines:
        if line.block != last_block:
            blocks.append([])
            last_block = line.block
        blocks[-1].append(line.text)
    paragraphs: list[str] = []
    for block in blocks:
        paragraphs.extend(block if line_paragraphs else _block_paragraphs(block))
    return paragraphs


def _block_paragraphs(lines: list[str]) -> list[str]:
    """One paragraph for hard-wrapped lines; one per line when the lines are whole paragraphs."""
    if len(lines) == 1:
        return lines
    firsts = lines[:-1]
    whole = sum(ends_sentence(line) or line.startswith(("#", "- ", "* ", "• ")) for line in firsts)
    if whole / len(firsts) >= 0.6 or max(len(line) for line in lines) > 150:
        return lines
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if line.startswith("#"):  # a Markdown heading is its own paragraph
            if current:
                paragraphs.append("\n".join(current))
                current = []
            paragraphs.append(line)
        else:
            current.append(line)
    if current:
        paragraphs.append("\n".join(current))
    return paragraphs


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(str(value).split())
    return value or None

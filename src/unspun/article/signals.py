"""Template signals: cheap, explainable tells of content-farm publishing, found while parsing."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from unspun.article.model import Article, Signal
from unspun.article.sentences import split_sentences

# Stable ids (the JSON report and the docs quote them); one line each on what they mean.
SIGNAL_IDS: dict[str, str] = {
    "duplicated_headline": "the headline is repeated right under the title",
    "boilerplate_removed": "site boilerplate (comment, share, related-post, cookie, newsletter "
    "lines) was removed before checking",
    "body_cut_off": "the body stops mid-sentence",
    "single_name_byline": "the byline is a single first name",
    "generic_byline": "the byline is a role such as 'admin' or 'editor', not a person",
    "missing_byline": "a full article page with no byline",
    "chatbot_leftover": "text a chatbot writes about itself ('As an AI language model', "
    "'I cannot fulfill this request', 'Here is a rewritten version')",
    "placeholder_text": "template placeholders left in "
    "('[Insert quote]', 'Lorem ipsum', '{{name}}')",
    "seo_leftover": "SEO fields pasted into the text ('Meta description:', 'Focus keyword:')",
    "markup_leftover": "raw Markdown or HTML left in plain text ('**bold**', '<p>', '&nbsp;')",
    "repeated_paragraph": "the same paragraph appears more than once",
    "repeated_sentence": "the same long sentence appears more than once",
    "mojibake": "characters garbled by a wrong encoding ('â€™', 'Ã©')",
    "encoding_guessed": "the file was not UTF-8; its encoding was guessed",
}

# Wire agencies and desks publish under one word without it being a template tell.
_AGENCY_BYLINES = frozenset(
    [
        "reuters",
        "ap",
        "afp",
        "upi",
        "dpa",
        "efe",
        "ansa",
        "xinhua",
        "pti",
        "ani",
        "ians",
        "bloomberg",
        "bbc",
        "cnn",
        "aap",
        "kyodo",
        "yonhap",
        "tass",
        "interfax",
        "bernama",
        "apa",
        "anadolu",
    ]
)
_GENERIC_BYLINES = frozenset(
    [
        "admin",
        "administrator",
        "editor",
        "editors",
        "editorial",
        "staff",
        "user",
        "guest",
        "webmaster",
        "author",
        "team",
        "newsdesk",
        "desk",
        "contributor",
        "writer",
        "moderator",
    ]
)


@dataclass
class ParseNotes:
    """What the parser saw and removed on the way to the body; detectors turn it into signals."""

    duplicated_headline: str | None = None
    duplicated_headline_count: int = 0
    removed_boilerplate: list[str] = field(default_factory=list)
    # A page with a title (a whole article, not a pasted excerpt): a missing byline means something.
    full_page: bool = False


def detect_signals(article: Article, notes: ParseNotes | None = None) -> list[Signal]:
    """Every template signal for ``article``, in a stable order (parse-time ones first)."""
    notes = notes or ParseNotes()
    body = article.body
    signals: list[Signal] = []
    signals += duplicated_headline(notes)
    signals += boilerplate_removed(notes.removed_boilerplate)
    signals += body_cut_off(article)
    signals += byline_signals(article.author, full_page=notes.full_page)
    signals += chatbot_leftovers(body)
    signals += placeholder_text(body)
    signals += seo_leftovers(body)
    signals += markup_leftovers(body)
    signals += repeated_paragraphs(article)
    signals += repeated_sentences(article)
    signals += mojibake(body)
    return signals


def duplicated_headline(notes: ParseNotes) -> list[Signal]:
    if not notes.duplicated_headline_count:
        return []
    times = (
        ""
        if notes.duplicated_headline_count == 1
        else f" ({notes.duplicated_headline_count} times)"
    )
    return [
        Signal(
            id="duplicated_headline",
            message=f"The headline is repeated right under the title{times}, "
            "a content-farm template habit",
            text=notes.duplicated_headline,
            count=notes.duplicated_headline_count,
        )
    ]


def boilerplate_removed(lines: list[str]) -> list[Signal]:
    if not lines:
        return []
    shown = "; ".join(f"“{_clip(line, 60)}”" for line in lines[:3])
    more = f" and {len(lines) - 3} more" if len(lines) > 3 else ""
    return [
        Signal(
            id="boilerplate_removed",
            message=f"Removed {len(lines)} line{'s' if len(lines) != 1 else ''} of site "
            f"boilerplate before checking: {shown}{more}",
            text="\n".join(lines),
            count=len(lines),
        )
    ]


# Sign-off lines that legitimately end a report without a full stop.
_SIGN_OFF = re.compile(
    r"""^\s*[(\[]?\s*(?:
        (?:additional\s+)?reporting\s+by | writing\s+by | editing\s+by | edited\s+by |
        compiled\s+by | produced\s+by | translated\s+by | photos?(?:\s+by)?\s*: | source\s*: |
        sources\s*: | image\s*: | via\s | [-—–]\s*\S | \#{3}\s*$ | ends?\s*$ | \(?end\)?\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_CLOSERS = "\"'”’)]»›"
_TERMINAL = ".!?…"
_QUOTES = "\"'“”‘’«»"


def ends_sentence(text: str) -> bool:
    """True when ``text`` ends like a finished sentence (full stop, ?, !, … before any closers)."""
    stripped = text.rstrip()
    while stripped and stripped[-1] in _CLOSERS:
        stripped = stripped[:-1].rstrip()
    return bool(stripped) and stripped[-1] in _TERMINAL


def body_cut_off(article: Article) -> list[Signal]:
    if article.word_count < 25:
        return []  # a one-liner that lacks a full stop is a snippet, not a truncated article
    paragraphs = article.paragraphs
    spans = article.paragraph_spans()
    index = len(paragraphs) - 1
    # Skip wire credits and sign-offs ("Reporting by ...", "— AP"): reports end there unpunctuated.
    while index > 0 and len(paragraphs[index].split()) <= 15 and _SIGN_OFF.match(paragraphs[index]):
        index -= 1
    if index < 0:
        return []
    paragraph = paragraphs[index]
    if ends_sentence(paragraph) or len(paragraph.split()) < 4 or paragraph.lstrip().startswith("#"):
        return []
    sentences = split_sentences(paragraph)
    if not sentences:
        return []
    start, end = sentences[-1]
    offset = spans[index][0]
    fragment = paragraph[start:end]
    return [
        Signal(
            id="body_cut_off",
            message=f"The article stops mid-sentence (“{_clip(fragment.strip(_QUOTES), 60)}”), "
            "as when a generator runs out of room or a scraper cuts the page",
            start=offset + start,
            end=offset + end,
            text=fragment,
        )
    ]


_NAME_TOKEN = re.compile(r"^[A-Z][\w'’.-]*$")


def byline_signals(author: str | None, *, full_page: bool) -> list[Signal]:
    if author is None or not author.strip():
        if not full_page:
            return []
        return [
            Signal(
                id="missing_byline",
                message="No byline was found; content farms often publish without one "
                "(a weak sign on its own)",
            )
        ]
    name = author.strip()
    words = name.split()
    key = re.sub(r"[^\w]", "", name.lower())
    if key in _GENERIC_BYLINES:
        return [
            Signal(
                id="generic_byline",
                message=f"The byline is “{name}”, a site role rather than a person",
                text=name,
            )
        ]
    if (
        len(words) == 1
        and key not in _AGENCY_BYLINES
        and not name.isupper()
        and _NAME_TOKEN.match(name)
        and not name.endswith(".")
    ):
        return [
            Signal(
                id="single_name_byline",
                message=f"The byline is a single first name (“{name}”), common on content-farm "
                "sites that publish under made-up personas",
                text=name,
            )
        ]
    return []


_APOS = "['’]"
# (cheap substring that must be present, pattern): the substring check skips the regex on
# ordinary text, which keeps parsing fast on large inputs.
_CHATBOT_PATTERNS = [
    ("model", r"\bas an ai(?: language)? model\b"),
    ("model", r"\bas a(?:n)? (?:large )?language model\b"),
    ("as an ai", r"\bas an ai (?:assistant|developed by|created by|trained by)\b"),
    (
        "request",
        rf"\bi(?: cannot| can{_APOS}t| can not| am unable to| {_APOS}?m unable to) "
        r"(?:fulfil+|complete|comply with|assist with|help with|provide)"
        r" (?:this|that|your|the) request\b",
    ),
    ("fulfil", r"\bi cannot fulfil+\b"),
    ("sorry", rf"\bi{_APOS}m sorry,? but i (?:cannot|can{_APOS}t|can not|am unable)\b"),
    ("knowledge", r"\bmy (?:last )?knowledge (?:cutoff|cut-off|update)\b"),
    (
        "as of my",
        r"\bas of my (?:last )?(?:knowledge|training)(?: (?:cutoff|cut-off|update|data))?\b",
    ),
    ("real", rf"\bi (?:do not|don{_APOS}t) have (?:access to )?real[- ]time\b"),
    ("regenerate", r"\bregenerate response\b"),
    ("here", rf"(?m)^(?:certainly|sure|absolutely|of course)[!,.]? here(?:{_APOS}s| is)\b"),
    (
        "here",
        rf"\bhere(?:{_APOS}s| is) (?:a |the |your )?(?:rewritten|paraphrased|revised|reworded|"
        r"rephrased|unique|plagiarism-free) (?:version|article|text|content)\b",
    ),
    (
        "version of",
        r"\b(?:rewritten|paraphrased|reworded|spun) version of the (?:article|text|news)\b",
    ),
    ("hope this helps", r"\bi hope this helps\b"),
]
_CHATBOT = [(key, re.compile(pattern, re.IGNORECASE)) for key, pattern in _CHATBOT_PATTERNS]


def chatbot_leftovers(body: str) -> list[Signal]:
    return [
        Signal(
            id="chatbot_leftover",
            message=f"Chatbot leftover in the text (“{m.group()}”): a sign it was generated "
            "and pasted without reading",
            start=m.start(),
            end=m.end(),
            text=m.group(),
        )
        for m in _chatbot_matches(body)
    ]


def _chatbot_matches(body: str) -> list[re.Match[str]]:
    matches: list[re.Match[str]] = []
    # Paragraph by paragraph, running only the patterns whose key word is present: most text never
    # meets a regex at all, which matters on multi-megabyte inputs.
    start = 0
    while start <= len(body) and len(matches) < 10:
        end = body.find("\n\n", start)
        end = len(body) if end < 0 else end
        lowered = body[start:end].lower()
        for key, pattern in _CHATBOT:
            if key in lowered:
                matches.extend(_first(pattern.finditer(body, start, end)))
        start = end + 2
    # Keep reading order and drop matches inside an earlier, longer one.
    matches.sort(key=lambda m: (m.start(), -m.end()))
    kept: list[re.Match[str]] = []
    for match in matches:
        if not kept or match.start() >= kept[-1].end():
            kept.append(match)
    return kept[:10]


_PLACEHOLDER = re.compile(
    r"\[\s*(?:insert|add|enter|your|company|name|city|date|link|source|quote|author|"
    r"location|number|product|brand|keyword|url)\b[^\]\n]{0,80}\]"
    r"|\(\s*insert\b[^)\n]{0,80}\)"
    r"|\blorem ipsum\b"
    r"|\{\{[^{}\n]{1,60}\}\}"
    r"|\[\[[^\[\]\n]{1,60}\]\]"
    r"|\bTODO\b[:]",
    re.IGNORECASE,
)


def placeholder_text(body: str) -> list[Signal]:
    return [
        Signal(
            id="placeholder_text",
            message=f"Template placeholder left in the text (“{_clip(m.group(), 60)}”)",
            start=m.start(),
            end=m.end(),
            text=m.group(),
        )
        for m in _first(_PLACEHOLDER.finditer(body))
    ]


_SEO = re.compile(
    r"(?im)^[ \t*#]*(?:meta[ -]?description|meta[ -]?title|seo[ -]?title|focus[ -]?keyword"
    r"|focus[ -]?keyphrase|keywords|slug|word count|permalink|alt text)\s*[:：].*$"
)


def seo_leftovers(body: str) -> list[Signal]:
    return [
        Signal(
            id="seo_leftover",
            message=f"SEO field pasted into the article (“{_clip(m.group().strip(), 60)}”)",
            start=m.start(),
            end=m.end(),
            text=m.group(),
        )
        for m in _first(_SEO.finditer(body))
    ]


_MARKUP = re.compile(
    r"\*\*[^*\n]{1,120}\*\*"
    r"|</?(?:p|div|span|br|strong|em|b|i|a|h[1-6]|ul|li)\b[^<>\n]{0,200}>"
    r"|&(?:nbsp|amp|quot|lt|gt|#\d{2,5}|#x[0-9a-fA-F]{2,4});",
    re.IGNORECASE,
)


def markup_leftovers(body: str) -> list[Signal]:
    matches = list(_MARKUP.finditer(body))
    if not matches:
        return []
    first = matches[0]
    return [
        Signal(
            id="markup_leftover",
            message=f"Raw Markdown or HTML left in the text (“{_clip(first.group(), 40)}”"
            f"{', ' + str(len(matches)) + ' places' if len(matches) > 1 else ''}), as when "
            "generator output is pasted without formatting",
            start=first.start(),
            end=first.end(),
            text=first.group(),
            count=len(matches),
        )
    ]


def _fingerprint(text: str) -> str:
    """Case and spacing do not make a repeat different; punctuation does (cheap on big inputs)."""
    return " ".join(text.casefold().split())


def repeated_paragraphs(article: Article) -> list[Signal]:
    seen: dict[str, int] = {}
    signals = []
    for index, ((start, end), paragraph) in enumerate(
        zip(article.paragraph_spans(), article.paragraphs, strict=True)
    ):
        key = _fingerprint(paragraph)
        if len(key.split()) < 8:
            continue
        if key in seen:
            signals.append(
                Signal(
                    id="repeated_paragraph",
                    message=f"Paragraph {index + 1} repeats paragraph {seen[key] + 1} word for "
                    "word, a sign of careless generation or template filling",
                    start=start,
                    end=end,
                    text=_clip(paragraph, 80),
                )
            )
        else:
            seen[key] = index
    return signals[:10]


def repeated_sentences(article: Article) -> list[Signal]:
    body = article.body
    repeated_paragraph_keys = set()
    seen_paragraphs: set[str] = set()
    for paragraph in article.paragraphs:
        key = _fingerprint(paragraph)
        if key in seen_paragraphs:
            repeated_paragraph_keys.add(key)
        seen_paragraphs.add(key)
    seen: set[str] = set()
    # First repeat of each sentence (where the report points) and how many repeats there are.
    repeats: dict[str, list[int]] = {}
    for p_start, paragraph in zip(
        (s for s, _ in article.paragraph_spans()), article.paragraphs, strict=True
    ):
        if _fingerprint(paragraph) in repeated_paragraph_keys:
            continue  # already reported as a whole paragraph
        for start, end in split_sentences(paragraph):
            key = _fingerprint(paragraph[start:end])
            if len(key.split()) < 10:
                continue
            if key not in seen:
                seen.add(key)
            elif key in repeats:
                repeats[key][2] += 1
            else:
                repeats[key] = [p_start + start, p_start + end, 1]
    signals = []
    for start, end, count in list(repeats.values())[:5]:
        times = "twice" if count == 1 else f"{count + 1} times"
        signals.append(
            Signal(
                id="repeated_sentence",
                message=f"A sentence appears {times} word for word",
                start=start,
                end=end,
                text=body[start:end],
                count=count,
            )
        )
    return signals


# UTF-8 read as cp1252/latin-1: "â€™" for ’, "Ã©" for é, "Â " before a no-break space.
_MOJIBAKE = re.compile(r"â€[™œ\x9d˜“”¦¢\-–—]|Ã[©¨ª«¡¢£¤¥§¯±²³´¶¼½¾¿¸¹º]|Â[ \xa0·»«°]")


def mojibake(body: str) -> list[Signal]:
    matches = list(_MOJIBAKE.finditer(body))
    if len(matches) < 2:
        return []
    first = matches[0]
    return [
        Signal(
            id="mojibake",
            message=f"Garbled characters such as “{first.group()}” ({len(matches)} places): the "
            "text went through a wrong encoding, common in scraped and re-posted copy",
            start=first.start(),
            end=first.end(),
            text=first.group(),
            count=len(matches),
        )
    ]


def encoding_guessed(encoding: str) -> Signal:
    return Signal(
        id="encoding_guessed",
        message=f"The file is not UTF-8; it was read as {encoding} (a best guess), so check "
        "accented letters in the report",
        text=encoding,
    )


def _first(matches: Iterable[re.Match[str]], limit: int = 10) -> list[re.Match[str]]:
    found = []
    for match in matches:
        found.append(match)
        if len(found) >= limit:
            break
    return found


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"

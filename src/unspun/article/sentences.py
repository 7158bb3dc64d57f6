"""Sentence and passage spans: the units that passages are scored and claims are checked in."""

from __future__ import annotations

import re

# A sentence ends at . ! ? … (optionally followed by closing quotes/brackets) before whitespace and
# an opening quote, bracket, digit or capital letter; common abbreviations do not end a sentence.
_BOUNDARY = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9])|\n{2,}""")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "gov",
        "sen",
        "rep",
        "rev",
        "inc",
        "ltd",
        "co",
        "corp",
        "vs",
        "etc",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "u.k",
        "u.n",
        "no",
        "fig",
        "al",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
    ]
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in ``text``, whitespace trimmed; paragraphs always split."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if match.group().startswith("."):
            # Only the word before the full stop matters; a short window keeps this linear.
            window = text[max(start, match.start() - 24) : match.start() + 1]
            word = re.search(r"([\w.]+)\.$", window)
            if word and word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
                continue
            if word and len(word.group(1)) == 1 and word.group(1).isupper():
                continue  # an initial such as "J. Smith"
        _append_trimmed(text, start, end, spans)
        start = end
    _append_trimmed(text, start, len(text), spans)
    return spans


def passage_windows(
    text: str, *, sentences_per_passage: int = 2, min_chars: int = 60
) -> list[tuple[int, int]]:
    """Group consecutive sentences into passages of about ``sentences_per_passage`` sentences,
    merging fragments shorter than ``min_chars`` into their neighbour."""
    sentences = split_sentences(text)
    passages: list[tuple[int, int]] = []
    group: list[tuple[int, int]] = []
    for span in sentences:
        group.append(span)
        if len(group) >= sentences_per_passage and span[1] - group[0][0] >= min_chars:
            passages.append((group[0][0], group[-1][1]))
            group = []
    if group:
        if passages and group[-1][1] - group[0][0] < min_chars:
            passages[-1] = (passages[-1][0], group[-1][1])
        else:
            passages.append((group[0][0], group[-1][1]))
    return passages


def _append_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))

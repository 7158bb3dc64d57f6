"""The Article and its template signals: what parsing produces and every later step reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from unspun.wording import count_words

PARAGRAPH_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Signal:
    """A tell-tale sign found in an article (template leftovers, evasion tricks).

    ``start``/``end`` index into ``Article.body`` when the signal refers to body text; they are
    ``None`` when it refers to something outside the body (a missing byline, a removed footer).
    ``text`` quotes what was found (e.g. the removed boilerplate); ``count`` says how many times.
    """

    id: str
    message: str
    start: int | None = None
    end: int | None = None
    text: str | None = None
    count: int = 1


@dataclass
class Article:
    """A news article split into its parts. ``body`` is the paragraphs joined by a blank line, in
    the characters the user gave (no normalisation), so report offsets point at the user's text."""

    paragraphs: list[str]
    title: str | None = None
    subtitle: str | None = None
    author: str | None = None
    date: str | None = None
    url: str | None = None
    site: str | None = None
    signals: list[Signal] = field(default_factory=list)

    @property
    def body(self) -> str:
        return PARAGRAPH_SEPARATOR.join(self.paragraphs)

    def paragraph_spans(self) -> list[tuple[int, int]]:
        """(start, end) of each paragraph inside ``body``."""
        spans, pos = [], 0
        for paragraph in self.paragraphs:
            spans.append((pos, pos + len(paragraph)))
            pos += len(paragraph) + len(PARAGRAPH_SEPARATOR)
        return spans

    @property
    def word_count(self) -> int:
        """The body's words, counted as everywhere else (unspun.wording.count_words)."""
        return count_words(self.body)

"""When not to give a verdict: too little text, or text unlike the English prose detectors know."""

from __future__ import annotations

import re

from unspun.wording import count_words, counted

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
# The most frequent English function words; ordinary English prose has 35-55 % of its words here.
_FUNCTION_WORDS = frozenset(
    """the of and to a in is that for it as was with be by on not he i this are or his from at
    which but have an they you were her she there been one all we their has would when if so no
    will more can who its said also than into them only after other some could these two may
    first then do any like my now over such our man me even most made about out up what""".split()
)
MIN_FUNCTION_SHARE = 0.18
MIN_LETTER_SHARE = 0.6


def abstain_reason(text: str, *, min_words: int) -> str | None:
    """A reason to answer ``uncertain`` whatever the score, or None when a verdict is meaningful."""
    words = _WORD.findall(text)
    length = count_words(text)  # the same count as the report's and the scan's
    if length < min_words:
        return (
            f"too short: {counted(length, 'word')}; a verdict needs at least "
            f"{counted(min_words, 'word')} "
            "of body text"
        )
    visible = [c for c in text if not c.isspace()]
    letters = sum(c.isalpha() for c in visible)
    if visible and letters / len(visible) < MIN_LETTER_SHARE:
        return "out of domain: the text is mostly digits, symbols or markup rather than prose"
    share = sum(w.lower() in _FUNCTION_WORDS for w in words) / len(words)
    if share < MIN_FUNCTION_SHARE:
        return (
            "out of domain: this does not read as English prose (the detector was trained on "
            "English news, encyclopedia, fiction and Q&A text)"
        )
    return None

"""Unicode canonicalisation before every detector, with evasion signals and an offset map back to
the user's text.

Cheap evasion tricks (a Cyrillic "а" inside an English word, zero-width characters between the
letters, odd spaces) change the tokens a detector sees while the reader sees the same text. Here
every such trick is undone, and counted, because its presence is evidence in itself. Four passes
over (character, original span) pairs keep an exact map from canonical characters back to the
text the user gave, so report offsets still point into the original body.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from unspun.article.model import Signal

# Stable ids of the evasion signals (the JSON report quotes them); one line each on what they mean.
SIGNAL_IDS: dict[str, str] = {
    "lookalike_characters": "letters or punctuation from other scripts (Cyrillic, Greek, "
    "fullwidth, mathematical) that look Latin were replaced by their Latin counterparts",
    "invisible_characters": "zero-width, bidi-control, tag or control characters were removed",
    "soft_hyphens": "soft hyphens (invisible hyphenation hints) were removed",
    "unusual_whitespace": "unusual space or line-break characters (em space, line separator...) "
    "were replaced by ordinary ones",
    "extra_whitespace": "runs of extra spaces inside sentences were collapsed (three or more runs)",
}


@dataclass
class Normalized:
    """``text`` is what detectors read; ``origin[i]`` is the offset in the original text of
    canonical character ``i`` (one extra entry at the end for the end-of-text offset);
    ``origin_end[i]`` is where the original characters that produced character ``i`` end."""

    text: str
    origin: list[int]
    signals: list[Signal] = field(default_factory=list)
    origin_end: list[int] | None = None

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a canonical span to the span of the original text it came from."""
        start = max(0, min(start, len(self.text)))
        end = max(start, min(end, len(self.text)))
        if end == start:
            return self.origin[start], self.origin[start]
        if self.origin_end is not None:
            return self.origin[start], self.origin_end[end - 1]
        return self.origin[start], self.origin[end - 1] + 1


# --------------------------------------------------------------------------------------------
# Character tables. Built for this project from the visual facts recorded in Unicode's
# confusables data (UTS #39): only letters that render like a Latin letter in common fonts.

_CYRILLIC = {
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k",
    "ӏ": "l", "м": "m", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "ѵ": "v", "ԝ": "w",
    "х": "x", "у": "y", "ү": "y", "г": "r", "ԍ": "G",
    "А": "A", "В": "B", "С": "C", "Ԁ": "D", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K",
    "Ӏ": "I", "М": "M", "О": "O", "Р": "P", "Ԛ": "Q", "Ѕ": "S", "Т": "T", "Ѵ": "V", "Ԝ": "W",
    "Х": "X", "У": "Y", "Ү": "Y",
}  # fmt: skip
_GREEK = {
    "α": "a", "γ": "y", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "υ": "u", "ϲ": "c",
    "ϳ": "j",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C", "Ϳ": "J",
}  # fmt: skip
_OTHER_SCRIPTS = {
    # Armenian
    "օ": "o", "ս": "u", "հ": "h", "ո": "n", "զ": "q", "ց": "g", "Օ": "O", "Տ": "S", "Ս": "U",
    "Լ": "L",
    # Cherokee capitals
    "Ꭺ": "A", "Ᏼ": "B", "Ꮯ": "C", "Ꭼ": "E", "Ꮋ": "H", "Ꭻ": "J", "Ꮶ": "K", "Ꮮ": "L",
    "Ꮇ": "M", "Ꮲ": "P", "Ꭱ": "R", "Ꮪ": "S", "Ꭲ": "T", "Ꮩ": "V", "Ꮃ": "W", "Ꮓ": "Z",
    # Lisu
    "ꓮ": "A", "ꓐ": "B", "ꓚ": "C", "ꓓ": "D", "ꓰ": "E", "ꓝ": "F", "ꓖ": "G", "ꓧ": "H",
    "ꓲ": "I", "ꓙ": "J", "ꓗ": "K", "ꓡ": "L", "ꓟ": "M", "ꓠ": "N", "ꓑ": "P", "ꓣ": "R",
    "ꓢ": "S", "ꓔ": "T", "ꓴ": "U", "ꓦ": "V", "ꓪ": "W", "ꓫ": "X", "ꓬ": "Y", "ꓜ": "Z",
    # Latin-script letters (IPA "ɡ" "ɑ", Turkish "ı") are left alone: they are real letters in
    # pronunciations and names, and a signal on them would be false evidence.
}  # fmt: skip

# Letters of other scripts that look Latin; mapped only inside words that are otherwise Latin.
LETTER_LOOKALIKES: dict[str, str] = {**_CYRILLIC, **_GREEK, **_OTHER_SCRIPTS}

# Punctuation that passes for ASCII punctuation but has no business in English text (counted).
PUNCT_LOOKALIKES: dict[str, str] = {
    "ꓸ": ".", "ꓹ": ",", "ꓼ": ";", "ꓽ": ":", "꞉": ":", "∶": ":", "˸": ":", "ǃ": "!", "ⵑ": "!",
    "∕": "/", "⧸": "/", "˗": "-", "ʺ": '"', "٭": "*",
}  # fmt: skip

# Ordinary typography, unified but not counted: curly quotes, dashes, minus, fraction slash.
TYPOGRAPHY: dict[str, str] = {
    "‘": "'", "’": "'", "‛": "'", "′": "'", "`": "'", "´": "'", "‹": "'", "›": "'",
    "“": '"', "”": '"', "‟": '"', "„": '"', "″": '"', "«": '"', "»": '"',
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "⸺": "-", "⸻": "-", "−": "-",
    "⁄": "/", "∗": "*", "…": "...",
}  # fmt: skip

# Invisible characters that are not in the format (Cf) category but render as nothing.
_EXTRA_INVISIBLE = {
    "\u034f",  # combining grapheme joiner
    "\u115f", "\u1160", "\u3164", "\uffa0",  # Hangul fillers
    "\u2800",  # braille pattern blank
    "\u17b4", "\u17b5",  # Khmer inherent vowels
    "\u180b", "\u180c", "\u180d", "\u180f",  # Mongolian variation selectors
}  # fmt: skip
# Format characters that are visible (prepended concatenation marks): never removed.
_VISIBLE_FORMAT = {"\u0600", "\u0601", "\u0602", "\u0603", "\u0604", "\u0605", "\u06dd",
                   "\u070f", "\u0890", "\u0891", "\u08e2", "\U000110bd", "\U000110cd"}  # fmt: skip

# C1 controls in text are almost always Windows-1252 bytes decoded as Latin-1 ("men\x92s"):
# encoding damage, not a trick, so they are repaired rather than counted (NEL stays a line break).
# 0x81, 0x8D, 0x8F, 0x90, 0x9D have no character in Windows-1252: those are removed.
_C1_REPAIR: dict[str, str] = {
    chr(byte): bytes([byte]).decode("cp1252")
    for byte in range(0x80, 0xA0)
    if byte not in (0x81, 0x85, 0x8D, 0x8F, 0x90, 0x9D)
}

_LINE_BREAKS = {"\n": 1, "\r": 1, "\v": 1, "\f": 1, "\x85": 1, "\u2028": 1, "\u2029": 2}
# NBSP, tab and the ASCII line breaks are everyday characters in crawled text; others are unusual.
_COMMON_SPACES = {" ", "\t", "\xa0", "\n", "\r", "\r\n", "\f"}
_SENTENCE_END = set(".!?:;\"')]")

_FULLWIDTH = (0xFF01, 0xFF5E)
_MATH_ALNUM = (0x1D400, 0x1D7FF)
_ENCLOSED = (0x1F130, 0x1F189)  # squared / negative-squared Latin capitals


def _is_variation_selector(ch: str) -> bool:
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def _is_tag(ch: str) -> bool:
    return 0xE0000 <= ord(ch) <= 0xE007F


def _is_invisible(ch: str) -> bool:
    if ch in _EXTRA_INVISIBLE or _is_variation_selector(ch):
        return True
    category = unicodedata.category(ch)
    if category == "Cf":
        return ch not in _VISIBLE_FORMAT
    if category == "Cc":
        return ch not in _LINE_BREAKS and ch != "\t"
    return category == "Cs"  # lone surrogates (e.g. from surrogateescape): not text


def _is_latin_letter(ch: str) -> bool:
    if ch.isascii():
        return ch.isalpha()
    if not ch.isalpha():
        return False
    return unicodedata.name(ch, "").startswith("LATIN")


def _is_word_char(ch: str) -> bool:
    return ch.isalpha() or unicodedata.category(ch).startswith("M")


def _is_emojiish(ch: str) -> bool:
    """Symbols that legitimately carry joiners, variation selectors and tag characters."""
    return unicodedata.category(ch) in {"So", "Sk", "Sm"} or ord(ch) >= 0x1F000 or ch in "\u20e3"


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


@dataclass
class _Finding:
    """Occurrences of one kind of fix: the count and the first original span."""

    count: int = 0
    start: int | None = None
    end: int | None = None
    kinds: Counter = field(default_factory=Counter)

    def add(self, start: int, end: int, kind: str = "", n: int = 1) -> None:
        if self.start is None or start < self.start:
            self.start, self.end = start, end
        self.count += n
        if kind:
            self.kinds[kind] += n


# A stream item: (canonical chars, original start, original end).
_Item = tuple[str, int, int]


# Plain ASCII text with single spaces and at most blank-line paragraph breaks is already canonical:
# most articles take this path, which skips the per-character passes.
_NEEDS_WORK = re.compile(r"[^\x20-\x7e\n]|`|  | \n|\n |\n\n\n|\A\s|\s\Z")


def normalize(text: str) -> Normalized:
    """Canonical text for detectors, evasion signals, and the map back to ``text``."""
    if not _NEEDS_WORK.search(text):
        n = len(text)
        return Normalized(text=text, origin=list(range(n + 1)), origin_end=list(range(1, n + 1)))
    return _normalize_full(text)


def _normalize_full(text: str) -> Normalized:
    invisible, soft_hyphens = _Finding(), _Finding()
    lookalikes, spaces, extra = _Finding(), _Finding(), _Finding()

    items = _remove_invisible(text, invisible, soft_hyphens)
    items = _compatibility(items)
    items = _lookalikes(items, text, lookalikes)
    items = _whitespace(items, text, spaces, extra)

    chars: list[str] = []
    origin: list[int] = []
    origin_end: list[int] = []
    for value, start, end in items:
        for ch in value:
            chars.append(ch)
            origin.append(start)
            origin_end.append(end)
    origin.append(len(text))
    canonical = "".join(chars)
    signals = _signals(text, invisible, soft_hyphens, lookalikes, spaces, extra)
    return Normalized(text=canonical, origin=origin, signals=signals, origin_end=origin_end)


def _remove_invisible(text: str, invisible: _Finding, soft_hyphens: _Finding) -> list[_Item]:
    """Drop zero-width, bidi, tag, control and selector characters; count the suspicious ones."""
    items: list[_Item] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if " " <= ch <= "~":  # printable ASCII, the bulk of any text
            items.append((ch, i, i + 1))
            i += 1
            continue
        if ch == "\r" and i + 1 < n and text[i + 1] == "\n":
            items.append(("\n", i, i + 2))  # one Windows line break
            i += 2
            continue
        if ch in _C1_REPAIR:
            items.append((_C1_REPAIR[ch], i, i + 1))
        elif ch == "\u00ad":
            soft_hyphens.add(i, i + 1)
        elif _is_invisible(ch):
            if _suspicious_invisible(text, i):
                invisible.add(i, i + 1, unicodedata.name(ch, f"U+{ord(ch):04X}"))
        else:
            items.append((ch, i, i + 1))
        i += 1
    return items


def _suspicious_invisible(text: str, i: int) -> bool:
    """False for the legitimate uses: a leading BOM, emoji sequences, joiners between letters of
    scripts that need them (Persian, Indic)."""
    ch = text[i]
    prev = _neighbour(text, i, -1)
    nxt = _neighbour(text, i, +1)
    if ch == "\ufeff" and i == 0:
        return False
    if _is_variation_selector(ch):
        return prev is None or prev.isascii() and prev.isalpha() or _is_latin_letter(prev)
    if _is_tag(ch):
        # Emoji tag sequences (subdivision flags) follow a black flag.
        j = i - 1
        while j >= 0 and _is_tag(text[j]):
            j -= 1
        return not (j >= 0 and text[j] == "\U0001f3f4")
    if ch in "\u200c\u200d":
        if (prev and _is_emojiish(prev)) or (nxt and _is_emojiish(nxt)):
            return False
        if prev and nxt and prev.isalpha() and nxt.isalpha():
            return _is_latin_letter(prev) or _is_latin_letter(nxt)
        return True
    return True


def _neighbour(text: str, i: int, step: int) -> str | None:
    """Nearest character in direction ``step`` that is not itself a variation selector."""
    j = i + step
    while 0 <= j < len(text) and _is_variation_selector(text[j]):
        j += step
    return text[j] if 0 <= j < len(text) else None


def _compatibility(items: list[_Item]) -> list[_Item]:
    """NFKC per grapheme-ish cluster (a base character and its combining marks), so each output
    character keeps the original span of its cluster; whitespace is left to the whitespace pass."""
    out: list[_Item] = []
    i, n = 0, len(items)
    while i < n:
        ch, start, end = items[i]
        if ch.isascii() and not (i + 1 < n and unicodedata.combining(items[i + 1][0])):
            out.append(items[i])
            i += 1
            continue
        j = i + 1
        if not ch.isspace():
            while j < n and unicodedata.combining(items[j][0]):
                j += 1
        cluster = "".join(item[0] for item in items[i:j])
        cluster_end = items[j - 1][2]
        out.append((_nfkc_safe(cluster), start, cluster_end))
        i = j
    return out


def _nfkc_safe(cluster: str) -> str:
    """NFKC where it only changes presentation; NFC where NFKC would add spaces or break words."""
    if cluster.isspace():
        return cluster
    if cluster[0] in LETTER_LOOKALIKES:
        # NFKC would turn the lunate sigma "ϲ" into "ς"; the look-alike pass maps it to "c".
        return unicodedata.normalize("NFC", cluster)
    folded = unicodedata.normalize("NFKC", cluster)
    if folded == cluster:
        return cluster
    # Spacing accents (´ ¨ ¯) decompose to space + combining mark; keep the character instead.
    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in folded):
        return unicodedata.normalize("NFC", cluster)
    return folded


def _lookalikes(items: list[_Item], text: str, finding: _Finding) -> list[_Item]:
    """Map look-alike letters inside Latin words, look-alike punctuation, and typography."""
    # Words: runs of items whose characters are letters or marks.
    chars = [item[0] for item in items]
    words: list[tuple[int, int]] = []
    i, n = 0, len(items)
    word_char = [bool(c) and (c.isalpha() or all(_is_word_char(x) for x in c)) for c in chars]
    while i < n:
        if word_char[i]:
            j = i + 1
            while j < n and word_char[j]:
                j += 1
            words.append((i, j))
            i = j
        else:
            i += 1

    # A word is Latin-with-intruders when all its letters are Latin or look-alikes. Words made only
    # of look-alikes are mapped too when most letters of the text are Latin (a fully disguised
    # "сор"); in a Russian or Greek text the same word is left alone.
    plan: list[tuple[int, int, bool]] = []  # (start, end, all_lookalike)
    latin_total, letters_total = 0, 0
    for start, end in words:
        word = "".join(chars[start:end])
        if word.isascii():
            letters_total += len(word)
            latin_total += len(word)
            continue
        latin = fake = other = 0
        for k in range(start, end):
            for c in chars[k]:
                if unicodedata.category(c).startswith("M"):
                    continue
                if c in LETTER_LOOKALIKES:
                    fake += 1
                elif _is_latin_letter(c):
                    latin += 1
                else:
                    other += 1
        letters_total += latin + fake + other
        if other == 0 and fake > 0:
            plan.append((start, end, latin == 0))
            if latin > 0:
                latin_total += latin + fake
        else:
            latin_total += latin
    mostly_latin = letters_total > 0 and latin_total * 2 > letters_total

    out = list(items)
    for start, end, all_fake in plan:
        if all_fake and not mostly_latin:
            continue
        # A lone Greek letter in English text is a symbol ("α-helix", "β = 0.3"), not a disguise.
        if (
            all_fake
            and end - start == 1
            and unicodedata.name(out[start][0][0], "").startswith("GREEK")
        ):
            continue
        for k in range(start, end):
            value, s, e = out[k]
            mapped = "".join(LETTER_LOOKALIKES.get(c, c) for c in value)
            if mapped != value:
                finding.add(s, e, _script_of(value))
                out[k] = (mapped, s, e)

    for k, (value, s, e) in enumerate(out):
        if value.isascii():
            if value != "`" and text[s:e] == value:
                continue  # untouched ASCII
            if mostly_latin and _compat_lookalike(text[s:e], value):
                finding.add(s, e, "fullwidth/mathematical")
            if "`" not in value:
                continue
        mapped = []
        for c in value:
            if c in TYPOGRAPHY:
                mapped.append(TYPOGRAPHY[c])
            elif c in PUNCT_LOOKALIKES:
                finding.add(s, e, "punctuation")
                mapped.append(PUNCT_LOOKALIKES[c])
            elif c == "\u201a":  # single low-9 quote: a comma look-alike before a space
                nxt = out[k + 1][0][:1] if k + 1 < len(out) else " "
                if nxt.isspace():
                    finding.add(s, e, "punctuation")
                mapped.append("," if nxt.isspace() else "'")
            else:
                mapped.append(c)
        out[k] = ("".join(mapped), s, e)
    return out


def _compat_lookalike(original: str, value: str) -> bool:
    """True when NFKC turned a fullwidth, mathematical or enclosed letter or digit into ASCII."""
    if not (original and value.isascii() and value.isalnum()):
        return False
    cp = ord(original[0])
    return any(lo <= cp <= hi for lo, hi in (_FULLWIDTH, _MATH_ALNUM, _ENCLOSED))


def _between_latin(items: list[_Item], k: int) -> bool:
    before = items[k - 1][0] if k > 0 else ""
    after = items[k + 1][0] if k + 1 < len(items) else ""
    return bool(before) and bool(after) and before[-1].isalpha() and after[0].isalpha()


def _script_of(value: str) -> str:
    for c in value:
        if c in LETTER_LOOKALIKES:
            return unicodedata.name(c, "other").split(" ", 1)[0].capitalize()
    return "other"


def _whitespace(items: list[_Item], text: str, spaces: _Finding, extra: _Finding) -> list[_Item]:
    """Collapse each whitespace run to one space, one line break or one blank line; trim ends."""
    out: list[_Item] = []
    i, n = 0, len(items)
    while i < n:
        value = items[i][0]
        if not (value and value.isspace()):
            out.append(items[i])
            i += 1
            continue
        j = i
        breaks = 0
        while j < n and items[j][0] and items[j][0].isspace():
            for c in items[j][0]:
                breaks += _LINE_BREAKS.get(c, 0)
            original = text[items[j][1] : items[j][2]]
            if original not in _COMMON_SPACES:
                spaces.add(items[j][1], items[j][2], unicodedata.name(original[0], "space"))
            j += 1
        start, end = items[i][1], items[j - 1][2]
        if i == 0 or j == n:
            i = j  # leading / trailing whitespace carries nothing for a detector
            continue
        if breaks == 0 and j - i >= 2 and (out[-1][0][-1:] not in _SENTENCE_END):
            extra.add(start, end, n=1)
        canonical = " " if breaks == 0 else "\n" if breaks == 1 else "\n\n"
        if text[start:end] == canonical:
            out.extend(items[i:j])  # already canonical: keep the exact per-character map
        else:
            out.append((canonical, start, end))
        i = j
    return out


def _signals(
    text: str,
    invisible: _Finding,
    soft_hyphens: _Finding,
    lookalikes: _Finding,
    spaces: _Finding,
    extra: _Finding,
) -> list[Signal]:
    signals: list[Signal] = []
    if lookalikes.count:
        special = {"punctuation", "fullwidth/mathematical"}
        scripts = sorted(k for k in lookalikes.kinds if k not in special)
        what = []
        if scripts:
            what.append("/".join(scripts) + " letters that look Latin")
        if lookalikes.kinds.get("fullwidth/mathematical"):
            what.append("fullwidth or mathematical letters")
        if lookalikes.kinds.get("punctuation"):
            what.append("punctuation look-alikes")
        signals.append(
            Signal(
                id="lookalike_characters",
                message=f"{_plural(lookalikes.count, 'look-alike character')} replaced "
                f"({', '.join(what)})",
                start=lookalikes.start,
                end=lookalikes.end,
                text=_word_at(text, lookalikes.start),
                count=lookalikes.count,
            )
        )
    if invisible.count:
        kinds = ", ".join(f"{name.lower()} ×{k}" for name, k in invisible.kinds.most_common(3))
        signals.append(
            Signal(
                id="invisible_characters",
                message=f"{_plural(invisible.count, 'invisible character')} removed ({kinds})",
                start=invisible.start,
                end=invisible.end,
                count=invisible.count,
            )
        )
    if soft_hyphens.count:
        signals.append(
            Signal(
                id="soft_hyphens",
                message=f"{_plural(soft_hyphens.count, 'soft hyphen')} removed (invisible "
                "hyphenation hints: common in some CMS output, also used to split words)",
                start=soft_hyphens.start,
                end=soft_hyphens.end,
                count=soft_hyphens.count,
            )
        )
    if spaces.count:
        kinds = ", ".join(f"{name.lower()} ×{k}" for name, k in spaces.kinds.most_common(3))
        signals.append(
            Signal(
                id="unusual_whitespace",
                message=f"{_plural(spaces.count, 'unusual space or line-break character')} "
                f"replaced ({kinds})",
                start=spaces.start,
                end=spaces.end,
                count=spaces.count,
            )
        )
    # A stray double space is a typing habit; many inside sentences is padding.
    if extra.count >= 3:
        signals.append(
            Signal(
                id="extra_whitespace",
                message=f"{_plural(extra.count, 'run')} of extra spaces inside sentences collapsed",
                start=extra.start,
                end=extra.end,
                count=extra.count,
            )
        )
    return signals


def _word_at(text: str, offset: int | None) -> str | None:
    """The whitespace-delimited word of the original text around ``offset``."""
    if offset is None:
        return None
    start = offset
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    end = offset
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[start:end][:80] or None

"""When not to give a verdict: too little text, or text unlike the English prose detectors know
(word salad, random characters, source code, tables of numbers, boilerplate, another language)."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from unspun.wording import count_words, counted

# The most frequent English function words; ordinary English prose has 35-55 % of its words here.
_FUNCTION_WORDS = frozenset(
    """the of and to a in is that for it as was with be by on not he i this are or his from at
    which but have an they you were her she there been one all we their has would when if so no
    will more can who its said also than into them only after other some could these two may
    first then do any like my now over such our man me even most made about out up what""".split()
)
MIN_FUNCTION_SHARE = 0.12
MIN_LETTER_SHARE = 0.6

# Every out-of-domain reason starts "out of domain (KIND): ", so programs can tell the kinds apart.
OUT_OF_DOMAIN = "out of domain"
KINDS: dict[str, str] = {
    "word-salad": "the words are English but they are not in sentences (word salad)",
    "random": "random characters or encoded data (such as base64 or hex), not words",
    "code": "this is source code or markup, not prose",
    "table": "this is mostly a table of numbers, not prose",
    "boilerplate": "only site furniture (menus, link lists, notices), no article text",
    "not-english": "not English{detail}; the detector reads English text only",
    "symbols": "the text is mostly digits, symbols or markup rather than prose",
    "not-prose": "this does not read as English prose (the detector was trained on English "
    "news, encyclopedia, fiction and Q&A text)",
}
_KIND = re.compile(r"^out of domain \(([a-z-]+)\):")

# Long texts are judged on windows spread over the whole text, so a 3 MB input costs no more
# than a long article and a page that turns into word salad after a normal opening is still seen.
WINDOW_CHARS = 3_000
MAX_WINDOWS = 8

# Thresholds, tuned on the "tune" half of the human texts in ../shared/data (as given and one
# sentence per line) against inputs made by benchmarks/out_of_domain.py; each kind needs two or
# more of them to agree, and none of those human texts comes close to all of them at once.
#
# Word salad: a little word followed by one that never follows it ("the of", "a its", "they
# the") or ending a sentence ("the."): about 1 in 1,000 chances in the human texts, 1 in 10 in
# shuffled words. The human rate below is set 4x more cautious than that, and the evidence is
# the log likelihood ratio of the two rates.
HUMAN_BAD_RATE = 0.006
SALAD_BAD_RATE = 0.08
MIN_SALAD_EVIDENCE = 5.5
MIN_BAD_TRANSITIONS = 3
MIN_STOPS = 8
MAX_LOWER_AFTER_STOP = 0.35  # shuffled full stops: the next word is in lower case as often as not
KEYWORDS_KNOWN_SHARE = 0.8  # English words without function words: keywords or random words
# Code: lines only code has (def, function, SELECT, a line ending in "{" or ";", a tag...) and
# symbols ({}[]()<>=;_#...): human prose stays under 1 in 40 characters, code is above 1 in 15.
MIN_CODE_LINE_SHARE = 0.4
MIN_CODE_SYMBOL_SHARE = 0.04
MIN_CODE_TOKEN_SHARE = 0.15  # operators such as == => && self. per token, code on one line
MIN_MINIFIED_SYMBOL_SHARE = 0.1
# Random characters: characters in tokens that are neither words nor numbers (human texts: at
# most 0.14), or too few vowels (random letters: about 6 in 26; European languages about 0.4).
MIN_GARBLED_SHARE = 0.4
MAX_VOWEL_SHARE = 0.27
# Tables: cells (between spaces, commas, bars) that are numbers, and lines that are mostly numbers.
MIN_NUMERIC_SHARE = 0.55
MIN_NUMERIC_LINE_SHARE = 0.5
# Boilerplate: many short lines, a third of them menu items, links or notices, and few sentences.
MIN_FURNITURE_LINES = 8
MIN_FURNITURE_LINE_SHARE = 0.3
MAX_SENTENCE_WORD_SHARE = 0.2
MAX_WORDS_PER_LINE = 7.0
# Other languages: the mean word frequency (zipf) under the best other language's word list must
# beat English by this much; human English texts trail the best other language by 0.6 or more.
ENGLISH_KNOWN_SHARE = 0.9  # of words in wordfreq's English list: plainly English, no comparison
MIN_LANGUAGE_MARGIN = 0.8
MIN_SCRIPT_LETTERS = 100
MIN_FOREIGN_SCRIPT_SHARE = 0.5  # of letters in another script (Cyrillic, Greek, Arabic, CJK...)
MIN_VISIBLE = 100  # characters (not spaces) a text needs before its shape is judged


def reason_for(kind: str, detail: str = "") -> str:
    """The reason text for an out-of-domain ``kind`` (a key of ``KINDS``)."""
    return f"{OUT_OF_DOMAIN} ({kind}): " + KINDS[kind].format(detail=detail)


def out_of_domain_kind(reason: str | None) -> str | None:
    """The kind named by an out-of-domain reason ("code", "word-salad", ...), else None."""
    match = _KIND.match(reason or "")
    return match.group(1) if match else None


def abstain_reason(text: str, *, min_words: int, boilerplate: str | None = None) -> str | None:
    """A reason to answer ``uncertain`` whatever the score, or None when a verdict is meaningful.

    ``boilerplate``: the site boilerplate the parser removed from the page, if any; a page that was
    mostly that is called out of domain rather than merely too short."""
    features = _Features.of(text)
    # Kinds that do not come in words (code, encoded data, tables, another script) are named
    # even when there are too few words: "too short" would send a user looking for more text.
    early = _shape_reason(features)
    if early is not None:
        return early
    if boilerplate and len(text) < 40 * min_words:
        mostly = _mostly_boilerplate(text, boilerplate, min_words)
        if mostly is not None:
            return mostly
    length = count_words(text)  # the same count as the report's and the scan's
    if length < min_words:
        return (
            f"too short: {counted(length, 'word')}; a verdict needs at least "
            f"{counted(min_words, 'word')} "
            "of body text"
        )
    return _wording_reason(features)


def out_of_domain(text: str) -> str | None:
    """Why ``text`` is unlike the English prose a detector can judge ("out of domain (KIND):
    ..."), or None when it reads as English prose. Long texts are judged on windows across them."""
    features = _Features.of(text)
    return _shape_reason(features) or _wording_reason(features)


def _shape_reason(f: _Features) -> str | None:
    """Out-of-domain kinds told by the shape of the text rather than by its words."""
    if f.visible < MIN_VISIBLE:
        return _boilerplate(f)
    for check in (_foreign_script, _code, _random, _table, _boilerplate):
        reason = check(f)
        if reason is not None:
            return reason
    return None


def _wording_reason(f: _Features) -> str | None:
    """Out-of-domain kinds told by the words: another language, word salad, no sentences."""
    if not f.tokens:
        return None
    for check in (_not_english, _word_salad):
        reason = check(f)
        if reason is not None:
            return reason
    if f.letters / f.visible < MIN_LETTER_SHARE:
        return reason_for("symbols")
    if f.words and f.function_share < MIN_FUNCTION_SHARE:
        return reason_for("not-prose")
    return None


# --- sampling -----------------------------------------------------------------------------------


def _windows(text: str) -> list[str]:
    """``text`` itself when short, else up to ``MAX_WINDOWS`` windows spread evenly over it, each
    starting at a line or word boundary."""
    if len(text) <= WINDOW_CHARS * MAX_WINDOWS:
        return [text]
    step = (len(text) - WINDOW_CHARS) / (MAX_WINDOWS - 1)
    windows = []
    for i in range(MAX_WINDOWS):
        start = int(i * step)
        if start:
            line = text.find("\n", start, start + WINDOW_CHARS // 4)
            space = text.find(" ", start, start + WINDOW_CHARS // 4)
            start = line + 1 if line >= 0 else space + 1 if space >= 0 else start
        end = start + WINDOW_CHARS
        cut = text.rfind("\n", end - WINDOW_CHARS // 4, end)
        if cut < 0:
            cut = text.rfind(" ", end - WINDOW_CHARS // 4, end)
        windows.append(text[start : cut if cut > start else end])
    return windows


# --- features -----------------------------------------------------------------------------------

_EDGE = "\"'“”‘’«»()[]{}<>.,;:!?*_—–-…/\\|`"
_NUMBER = re.compile(
    r"[-+±~≈<>]?[$€£¥#]?\d[\d.,:/x×%°'’-]*(?:[a-zA-Z]{1,3}|%)?|[$€£¥]?\d+(?:\.\d+)?[kmbKMB]n?"
)
_WORDLIKE = re.compile(r"[^\W\d_]+(?:['’.&-][^\W\d_]+)*\.?")
_HEX = re.compile(r"(?:0x)?(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{2,}")
_CASE_CHANGE = re.compile(r"[a-z][A-Z]")
_ADDRESS = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+\.[\w.]+$")  # links, e-mail
_VOWELS = frozenset("aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœ")
_SYMBOLS = frozenset("{}[]()<>=;_#*/\\|&$@^~+`")
# Lines that only source code (Python, JavaScript, C, Java, SQL, shell, HTML, CSS) has.
_CODE_LINE = re.compile(
    r"^(?:def|class|import|from\s+[\w.]+\s+import|return\b|elif\b|else\s*:|try\s*:|except\b|"
    r"raise\b|yield\b|async\s+def|lambda\b|function\b|const\s|let\s|var\s|export\s|"
    r"public\s|private\s|protected\s|static\s|void\s|int\s|char\s|float\s|double\s|bool\s|"
    r"#include|#define|#!|package\s|using\s|namespace\s|fn\s|func\s|SELECT\s|INSERT\s|UPDATE\s|"
    r"DELETE\s|CREATE\s|ALTER\s|DROP\s|WHERE\s|GROUP\s+BY|ORDER\s+BY|JOIN\s|<[/!]?[a-zA-Z][^>]*>|"
    r"@media|@import|[.#]?[\w-]+(?:\s*[,>]\s*[.#]?[\w-]+)*\s*\{|\}|\{|//|/\*|\*/|console\.|print\()"
    r"|(?:[{};:]|\)\s*\{|=>|->)$"
    r"|^\w[\w.\[\]]*\s*(?:[-+*/]?=|==)\s*\S"
    r"|^[\w-]+\s*:\s*[^:]+;$",
)
_CODE_TOKEN = re.compile(
    r"==|!=|=>|->|&&|\|\||::|\+=|\w\(\)|\)\s*[;{]|</\w|/>|\bself\.|\bthis\.|\w_\w|\w\.\w+\("
)
_CELL_SEPARATOR = re.compile(r"[\s,;|]+")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
# Words of site furniture: navigation, sections, accounts, sharing, legal notices.
_FURNITURE_WORDS = frozenset(
    """home news world uk us u.s. business politics sport sports tech technology science health
    entertainment arts culture lifestyle travel opinion opinions video videos audio podcast
    podcasts live weather menu search sign log in up out login logout register subscribe
    subscription subscriptions newsletter newsletters contact about careers jobs advertise
    advertising privacy cookie cookies policy terms conditions accessibility help faq faqs sitemap
    share tweet email e-mail print facebook twitter x instagram linkedin whatsapp youtube
    pinterest tiktok reddit telegram copyright rights reserved © next previous read more related
    trending most popular latest top stories back skip to content accept reject all settings
    preferences follow download app apps shop store events games puzzles crossword crosswords
    obituaries classifieds local national international economy markets money education
    environment climate style food books music film films tv media comments comment sections
    section account my our the a and of on us &""".split()
)
_NOTICE = re.compile(
    r"cookies?\b|all rights reserved|©|\bcopyright\b|privacy (?:policy|notice)|terms of (?:use|"
    r"service)|sign up for|subscribe to|newsletter|follow us",
    re.IGNORECASE,
)
# Little words and the words that never follow them in English prose (followers in lower case
# only: "the US" and "a May election" are fine). Shuffled words put one of these after them
# every few times; the human texts about once in 700 chances (questions such as "was he the
# one?" among them). The old "for he was" is why "for" has a short list.
_AFTER_ARTICLE = """the a an of and or but to in on at by for with from into is was were are been
    has had he she they we you his its their our my your them him us me not which who whom whose
    this these those than as if because although nor"""
_AFTER_POSSESSIVE = """the a an of and or but in on at by for with from into is was were are been
    has had he she they we you his its their our my your them him us me which who whom whose this
    these those than nor"""
_AFTER_PREPOSITION = "of but is was were are has had he she they we i nor than"
_AFTER_FOR = "of but is was were are has had nor than"
_AFTER_PRONOUN = "the a an of his their its my our your"
_AFTER_TO = "of is was were are has had he she they we i but nor than could would should can must"
_AFTER_MODAL = "of is was were are has had would could should to than"
_AFTER_CONJUNCTION = "and or but nor"
_NOT_NEXT: dict[str, frozenset[str]] = {
    **dict.fromkeys(("the", "a", "an"), frozenset(_AFTER_ARTICLE.split())),
    **dict.fromkeys(("their", "its", "our", "your", "my"), frozenset(_AFTER_POSSESSIVE.split())),
    **dict.fromkeys(
        ("of", "in", "at", "with", "from", "into", "by"), frozenset(_AFTER_PREPOSITION.split())
    ),
    "for": frozenset(_AFTER_FOR.split()),
    **dict.fromkeys(("he", "she", "they", "we", "i"), frozenset(_AFTER_PRONOUN.split())),
    "to": frozenset(_AFTER_TO.split()),
    **dict.fromkeys(("would", "could", "should"), frozenset(_AFTER_MODAL.split())),
    **dict.fromkeys(("and", "or", "but"), frozenset(_AFTER_CONJUNCTION.split())),
}
# ... and those that never end a clause (or, for the second set, a sentence).
_NOT_BEFORE_STOP = frozenset({"the", "a", "an", "of", "their", "its", "our", "your"})
_NOT_BEFORE_FULL_STOP = frozenset({"and", "or", "but", "nor", "although", "than", "whose", "into"})
_STOP_CHECKED = _NOT_BEFORE_STOP | _NOT_BEFORE_FULL_STOP
_TRANSITION_WORDS = frozenset(_NOT_NEXT) | _STOP_CHECKED
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr st vs etc jr sr inc ltd co corp gen col sgt lt capt rev prof fig no nos vol
    approx dept est govt jan feb mar apr jun jul aug sep sept oct nov dec""".split()
)


@dataclass
class _Features:
    """Counts over the windows of a text that the out-of-domain checks compare with thresholds."""

    tokens: int = 0  # runs of non-space characters
    visible: int = 0  # non-space characters
    letters: int = 0
    latin_letters: int = 0
    vowels: int = 0  # among the Latin letters
    scripts: Counter[str] = field(default_factory=Counter)  # letters of other scripts
    symbols: int = 0
    garbled_chars: int = 0  # characters in tokens that are neither words nor numbers
    words: list[str] = field(default_factory=list)  # lower case
    function_words: int = 0
    transitions: int = 0  # "the", "a", "an", "of"
    bad_transitions: int = 0  # ... followed by a word that never follows them, or a stop
    stops: int = 0  # full stops after a word (not an abbreviation)
    lower_after_stop: int = 0
    lines: int = 0  # lines with text
    line_words: int = 0
    code_lines: int = 0
    code_tokens: int = 0
    cells: int = 0  # runs between spaces, commas, semicolons and bars
    numeric_cells: int = 0
    numeric_lines: int = 0
    furniture_lines: int = 0
    sentence_words: int = 0  # words in lines that are sentences

    @classmethod
    def of(cls, text: str) -> _Features:
        features = cls()
        for window in _windows(text):
            features.add(window)
        return features

    def add(self, text: str) -> None:
        expected: frozenset[str] | None = None  # words that must not come next
        after_stop = False
        for line in text.splitlines():
            stripped = line.strip()
            if not stripped:
                continue
            raw = stripped.split()
            self.lines += 1
            self.line_words += len(raw)
            if _CODE_LINE.search(stripped):
                self.code_lines += 1
            self.code_tokens += len(_CODE_TOKEN.findall(stripped))
            cells = [c for c in _CELL_SEPARATOR.split(stripped) if c.strip(_EDGE)]
            numeric = sum(bool(_NUMBER.fullmatch(c.strip(_EDGE))) for c in cells)
            self.cells += len(cells)
            self.numeric_cells += numeric
            if numeric >= 2 and numeric * 2 >= len(cells):
                self.numeric_lines += 1
            furniture = 0
            for token in raw:
                self.tokens += 1
                self.visible += len(token)
                self._count_characters(token)
                core = token.strip(_EDGE)
                lower = core.lower()
                if lower in _FURNITURE_WORDS or not core:
                    furniture += 1
                if not core:
                    continue
                word_like = _WORDLIKE.fullmatch(core) and len(_CASE_CHANGE.findall(core)) < 2
                if not word_like:
                    expected, after_stop = None, False
                    if not _NUMBER.fullmatch(core) and _looks_garbled(core):
                        self.garbled_chars += len(token)
                    continue
                word = lower.replace("’", "'").rstrip(".")
                self.words.append(word)
                self.function_words += word in _FUNCTION_WORDS
                if after_stop:
                    self.lower_after_stop += core[0].islower()
                after_stop = (
                    token.endswith(".")
                    and not token.endswith("..")
                    and len(word) > 1
                    and word.isalpha()
                    and word not in _ABBREVIATIONS
                )
                self.stops += after_stop
                if expected is not None and core == word:
                    self.bad_transitions += word in expected
                expected = None
                if (
                    token[0].isalpha()
                    and word in _TRANSITION_WORDS
                    and (word != "a" or core == "a")
                ):
                    self.transitions += 1
                    if not token[-1].isalpha():
                        stops = ".,;:!?" if word in _NOT_BEFORE_STOP else ".;!?"
                        self.bad_transitions += word in _STOP_CHECKED and token[-1] in stops
                    else:
                        expected = _NOT_NEXT.get(word)
            if (len(raw) <= 5 and furniture * 2 >= len(raw)) or (
                len(raw) <= 40 and _NOTICE.search(stripped)
            ):
                self.furniture_lines += 1
            elif len(raw) >= 6 and _SENTENCE_END.search(stripped):
                self.sentence_words += len(raw)

    def _count_characters(self, token: str) -> None:
        for char in token:
            if char.isalpha():
                self.letters += 1
                script = "LATIN" if char < "\u0250" else unicodedata.name(char, "?").split()[0]
                if script == "LATIN":
                    self.latin_letters += 1
                    self.vowels += char.lower() in _VOWELS
                else:
                    self.scripts[script] += 1
            elif char in _SYMBOLS:
                self.symbols += 1

    @property
    def function_share(self) -> float:
        return self.function_words / len(self.words) if self.words else 0.0


def _salad_evidence(bad: int, transitions: int) -> float:
    """How much likelier ``bad`` words out of order in ``transitions`` chances are in word salad
    than in prose (natural log of the likelihood ratio of two binomial rates)."""
    good = transitions - bad
    return bad * math.log(SALAD_BAD_RATE / HUMAN_BAD_RATE) + good * math.log(
        (1 - SALAD_BAD_RATE) / (1 - HUMAN_BAD_RATE)
    )


def _looks_garbled(core: str) -> bool:
    """A token that is neither a word nor a number: encoded data, hashes, keyboard noise."""
    if _ADDRESS.match(core):
        return False
    if _HEX.fullmatch(core):
        return True
    has_letter = any(c.isalpha() for c in core)
    has_digit = any(c.isdigit() for c in core)
    if has_letter and has_digit:
        return True
    if any(c in _SYMBOLS for c in core):
        return True
    return len(_CASE_CHANGE.findall(core)) >= 2


# --- the kinds ----------------------------------------------------------------------------------


def _code(f: _Features) -> str | None:
    if (
        f.lines >= 3
        and f.code_lines / f.lines >= MIN_CODE_LINE_SHARE
        and f.symbols / f.visible >= MIN_CODE_SYMBOL_SHARE
    ):
        return reason_for("code")
    # Minified code, or code pasted without its line breaks.
    if (
        f.code_tokens / f.tokens >= MIN_CODE_TOKEN_SHARE
        and f.symbols / f.visible >= MIN_MINIFIED_SYMBOL_SHARE
    ):
        return reason_for("code")
    return None


def _random(f: _Features) -> str | None:
    if f.garbled_chars / f.visible >= MIN_GARBLED_SHARE:
        return reason_for("random")
    if f.latin_letters >= 200 and f.vowels / f.latin_letters < MAX_VOWEL_SHARE:
        return reason_for("random")
    return None


def _table(f: _Features) -> str | None:
    if (
        f.cells
        and f.numeric_cells / f.cells >= MIN_NUMERIC_SHARE
        and (f.lines <= 2 or f.numeric_lines / f.lines >= MIN_NUMERIC_LINE_SHARE)
    ):
        return reason_for("table")
    return None


def _boilerplate(f: _Features) -> str | None:
    if (
        f.lines >= MIN_FURNITURE_LINES
        and f.furniture_lines / f.lines >= MIN_FURNITURE_LINE_SHARE
        and f.line_words / f.lines <= MAX_WORDS_PER_LINE
        and f.sentence_words / f.line_words <= MAX_SENTENCE_WORD_SHARE
    ):
        return reason_for("boilerplate")
    return None


def _word_salad(f: _Features) -> str | None:
    bad, n = f.bad_transitions, f.transitions
    if bad >= MIN_BAD_TRANSITIONS and _salad_evidence(bad, n) >= MIN_SALAD_EVIDENCE:
        return reason_for("word-salad")
    # Fewer words out of order, but sentences that start in lower case: shuffled words that kept
    # their full stops.
    if (
        bad >= MIN_BAD_TRANSITIONS
        and bad / n >= SALAD_BAD_RATE / 2
        and f.stops >= MIN_STOPS
        and f.lower_after_stop / f.stops >= MAX_LOWER_AFTER_STOP
    ):
        return reason_for("word-salad")
    # English words without the little words that hold sentences together: a list of keywords
    # or words picked at random.
    if (
        len(f.words) >= 20
        and f.function_share < MIN_FUNCTION_SHARE
        and _known_share(f.words, "en") >= KEYWORDS_KNOWN_SHARE
    ):
        return reason_for("word-salad")
    return None


# --- languages ----------------------------------------------------------------------------------

# Languages wordfreq has word lists for, by script; the name a reason gives each.
_LATIN_LANGUAGES = {
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "sv": "Swedish",
    "da": "Danish",
    "nb": "Norwegian",
    "fi": "Finnish",
    "pl": "Polish",
    "cs": "Czech",
    "sk": "Slovak",
    "sl": "Slovenian",
    "hu": "Hungarian",
    "ro": "Romanian",
    "tr": "Turkish",
    "id": "Indonesian",
    "ms": "Malay",
    "ca": "Catalan",
    "lv": "Latvian",
    "lt": "Lithuanian",
    "sh": "Serbo-Croatian",
    "fil": "Filipino",
    "vi": "Vietnamese",
    "is": "Icelandic",
}
_SCRIPT_LANGUAGES = {
    "CYRILLIC": {"ru": "Russian", "uk": "Ukrainian", "bg": "Bulgarian", "mk": "Macedonian"},
    "ARABIC": {"ar": "Arabic", "fa": "Persian", "ur": "Urdu"},
    "GREEK": {"el": "Greek"},
    "HEBREW": {"he": "Hebrew"},
    "DEVANAGARI": {"hi": "Hindi"},
    "BENGALI": {"bn": "Bengali"},
    "TAMIL": {"ta": "Tamil"},
    "HANGUL": {"ko": "Korean"},
    "HIRAGANA": {"ja": "Japanese"},
    "KATAKANA": {"ja": "Japanese"},
    "CJK": {"zh": "Chinese"},
    "THAI": {"th": "Thai"},
}
_UNKNOWN_ZIPF = 2.0  # below the rarest word of wordfreq's "small" lists (zipf 3)


@functools.cache
def _zipf_table(language: str) -> dict[str, float]:
    """Word -> zipf frequency (log10 per billion words) from wordfreq's small list."""
    from wordfreq import get_frequency_dict

    return {
        word: math.log10(freq) + 9
        for word, freq in get_frequency_dict(language, "small").items()
        if freq > 0
    }


def _known_share(words: list[str], language: str) -> float:
    table = _zipf_table(language)
    return sum(w in table for w in words) / len(words) if words else 0.0


def _mean_zipf(words: list[str], language: str) -> float:
    table = _zipf_table(language)
    return sum(table.get(w, _UNKNOWN_ZIPF) for w in words) / len(words)


def _not_english(f: _Features) -> str | None:
    words = f.words[:2_000]
    if len(words) < 20 or _known_share(words, "en") >= ENGLISH_KNOWN_SHARE:
        return None
    english = _mean_zipf(words, "en")
    best, score = max(
        ((code, _mean_zipf(words, code)) for code in _LATIN_LANGUAGES),
        key=lambda pair: pair[1],
    )
    if score - english >= MIN_LANGUAGE_MARGIN:
        return reason_for("not-english", f" (looks like {_LATIN_LANGUAGES[best]})")
    return None


def _foreign_script(f: _Features) -> str | None:
    """Text mostly in a script other than Latin (Cyrillic, Arabic, Chinese...): not English."""
    known = {script: n for script, n in f.scripts.items() if script in _SCRIPT_LANGUAGES}
    foreign = sum(known.values())
    if f.letters < MIN_SCRIPT_LETTERS or foreign < MIN_FOREIGN_SCRIPT_SHARE * f.letters:
        return None
    script = max(known, key=known.__getitem__)
    if known.get("HIRAGANA", 0) + known.get("KATAKANA", 0) > 0.05 * foreign:
        script = "HIRAGANA"  # Japanese mixes kana with Chinese characters
    candidates = _SCRIPT_LANGUAGES[script]
    code = next(iter(candidates))
    if len(candidates) > 1 and f.words:
        words = f.words[:2_000]
        code = max(candidates, key=lambda c: _mean_zipf(words, c))
    return reason_for("not-english", f" (looks like {candidates[code]})")


def _mostly_boilerplate(text: str, boilerplate: str, min_words: int) -> str | None:
    """A page whose text was mostly site boilerplate the parser removed, leaving too few words."""
    left = count_words(text)
    removed = count_words(boilerplate)
    if left < min_words and removed >= left:
        return reason_for("boilerplate")
    return None

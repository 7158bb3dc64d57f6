"""Property-based tests of normalisation: offset invariants on arbitrary Unicode, idempotence, and
that cheap character-level attacks normalise back to the clean text."""

from __future__ import annotations

import random
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unspun.normalize import LETTER_LOOKALIKES, _normalize_full, normalize

# Characters that exercise every branch: look-alikes, invisibles, odd spaces, combining marks,
# compatibility forms, emoji with joiners and selectors, RTL and CJK letters.
SPECIAL = (
    list(LETTER_LOOKALIKES)
    + list("\u200b\u200c\u200d\u2060\ufeff\u00ad\u202e\u202c\u2066\u2069\u061c\ufe0f\ufe0e")
    + [chr(0xE0000 + c) for c in (0x01, 0x41, 0x7F)]
    + [chr(0xE0100)]
    + list("\u00a0\u2003\u2009\u202f\u3000\u2028\u2029\x85\t\n\r\v\f \x00\x1b\x7f")
    + list("\u0301\u0308\u0327\u20e3\u034f\u3164\u2800")
    + list("ﬁﬀ½²™…“”‘’«»—–−‐ꓸ‚´`¨¯˘ͅ")
    + list("ＡＢａｂ１２")
    + [chr(0x1D400), chr(0x1D41A), chr(0x1D7CE), chr(0x1F130)]
    + list("👨👩❤🏴\U0001f3fb")
    + list("אבגءبتمیخ한국어日本語Ωλ")
    + ["\ud800", "\udc80"]
)
text_strategy = st.text(
    alphabet=st.one_of(
        st.sampled_from(SPECIAL),
        st.characters(codec="utf-8"),
        st.sampled_from(list("abcdefghijklmnopqrstuvwxyz ABCXYZ.,;'\"-!?0123456789")),
    ),
    max_size=200,
)
FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(text_strategy, st.data())
def test_offsets_are_valid_monotone_and_inside_the_original(text, data):
    norm = normalize(text)
    n, m = len(norm.text), len(text)
    assert len(norm.origin) == n + 1
    assert norm.origin[-1] == m
    assert norm.origin_end is not None and len(norm.origin_end) == n
    for i in range(n):
        assert 0 <= norm.origin[i] < norm.origin_end[i] <= m
    assert norm.origin == sorted(norm.origin)
    assert norm.origin_end == sorted(norm.origin_end)
    start = data.draw(st.integers(-3, n + 3))
    end = data.draw(st.integers(-3, n + 3))
    a, b = norm.to_original(start, end)
    assert 0 <= a <= b <= m
    for sig in norm.signals:
        assert sig.count >= 1
        assert sig.message.split(" ", 1)[0] == str(sig.count)
        if sig.start is not None:
            assert 0 <= sig.start < sig.end <= m


@FAST
@given(text_strategy)
def test_normalisation_is_idempotent_and_canonical(text):
    norm = normalize(text)
    again = normalize(norm.text)
    assert again.text == norm.text
    canonical = norm.text
    assert canonical == canonical.strip()
    assert "  " not in canonical and "\n\n\n" not in canonical and "\r" not in canonical
    for ch in canonical:
        assert unicodedata.category(ch) not in {"Cc", "Cs"} or ch == "\n"
        assert ch not in "\u200b\u200d\u2060\ufeff\u00ad\u202e"
    canonical.encode("utf-8")  # every tokenizer does this


# ---- attacks: the clean text is English-like ASCII; attacks must normalise back to it.

word = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=10
)
sentence = st.lists(word, min_size=3, max_size=30).map(lambda words: " ".join(words) + ".")
document = st.lists(sentence, min_size=1, max_size=6).map(" ".join)

LATIN_TO_FAKE: dict[str, list[str]] = {}
for fake, latin in LETTER_LOOKALIKES.items():
    LATIN_TO_FAKE.setdefault(latin, []).append(fake)


def homoglyph(text: str, rng: random.Random, rate: float) -> str:
    out = []
    for token in text.split(" "):
        chars = list(token)
        # Keep one Latin letter per word: fully disguised words are covered by unit tests.
        keep = rng.randrange(len(chars))
        for i, c in enumerate(chars):
            if i != keep and c in LATIN_TO_FAKE and rng.random() < rate:
                chars[i] = rng.choice(LATIN_TO_FAKE[c])
        out.append("".join(chars))
    return " ".join(out)


def zero_width(text: str, rng: random.Random, rate: float) -> str:
    invisible = "\u200b\u200c\u200d\u2060\ufeff\u202c"
    return "".join(c + (rng.choice(invisible) if rng.random() < rate else "") for c in text)


def whitespace(text: str, rng: random.Random, rate: float) -> str:
    spaces = [" ", "  ", "\u00a0", "\u2003", "\u2009", "\t", " \u200a"]
    return "".join(
        (rng.choice(spaces) + " " if rng.random() < rate else " ") if c == " " else c for c in text
    )


@settings(max_examples=200, deadline=None)
@given(document, st.integers(0, 2**32), st.floats(0.05, 1.0))
def test_character_attacks_normalise_to_the_clean_text(text, seed, rate):
    clean = normalize(text).text
    assert clean == text
    for attack in (homoglyph, zero_width, whitespace):
        attacked = attack(text, random.Random(seed), rate)
        assert normalize(attacked).text == clean, attack.__name__
    combined = whitespace(
        zero_width(homoglyph(text, random.Random(seed), rate), random.Random(seed), rate),
        random.Random(seed),
        rate,
    )
    assert normalize(combined).text == clean


@settings(max_examples=100, deadline=None)
@given(document, st.integers(0, 2**32))
def test_attack_counts_match_what_was_inserted(text, seed):
    attacked = homoglyph(text, random.Random(seed), 0.5)
    replaced = sum(1 for c in attacked if c in LETTER_LOOKALIKES)
    found = {s.id: s.count for s in normalize(attacked).signals}
    assert found.get("lookalike_characters", 0) == replaced
    attacked = zero_width(text, random.Random(seed), 0.3)
    inserted = len(attacked) - len(text)
    assert found_count(attacked, "invisible_characters") == inserted


def found_count(text: str, signal_id: str) -> int:
    return next((s.count for s in normalize(text).signals if s.id == signal_id), 0)


@FAST
@given(
    st.lists(
        st.sampled_from(
            ["a", "b", " ", ".", ",", "'", "\n", "`", "\t", "  ", "\n\n", "\n\n\n", "é"]
        ),
        max_size=40,
    ).map("".join)
)
def test_the_ascii_fast_path_agrees_with_the_full_passes(text):
    fast, full = normalize(text), _normalize_full(text)
    assert (fast.text, fast.origin, fast.origin_end) == (full.text, full.origin, full.origin_end)
    assert fast.signals == full.signals

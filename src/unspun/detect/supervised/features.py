"""Cheap style features that transfer across generators: word rarity, burstiness, punctuation,
repetition. Computed on any span of text, so passages get them as well as whole documents."""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

import numpy as np

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?:\s+|$)")

FEATURE_NAMES = (
    "zipf_mean",  # mean word frequency (Zipf scale): machine text prefers common words
    "zipf_std",
    "rare_share",  # words with Zipf < 3
    "very_rare_share",  # Zipf < 2, including names and typos
    "unknown_share",  # not in the frequency list at all
    "word_length_mean",
    "sentence_length_mean",
    "sentence_length_cv",  # burstiness: humans vary sentence length more
    "type_token_ratio",  # moving-average TTR over 50-word windows (length-independent)
    "trigram_repeat_share",  # share of word 3-grams seen before in the text
    "comma_rate",
    "semicolon_colon_rate",
    "exclaim_question_rate",
    "quote_rate",
    "paren_rate",
    "dash_rate",
    "digit_rate",
    "capitalised_share",
    "first_person_share",
)
_FIRST_PERSON = frozenset("i me my mine we us our ours".split())


@lru_cache(maxsize=200_000)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def style_features(text: str) -> np.ndarray:
    """A fixed-length float32 vector (see FEATURE_NAMES) for any text, empty text included."""
    words = _WORD.findall(text)
    n_words = max(1, len(words))
    lower = [w.lower() for w in words]
    zipf = np.array([_zipf(w) for w in lower], dtype=np.float64) if lower else np.zeros(1)
    known = zipf[zipf > 0]
    sentence_lengths = _sentence_lengths(text)
    chars = max(1, len(text))

    def rate(pattern: str) -> float:
        return sum(text.count(c) for c in pattern) / n_words

    features = [
        float(known.mean()) if known.size else 0.0,
        float(known.std()) if known.size else 0.0,
        float((zipf < 3).mean()),
        float((zipf < 2).mean()),
        float((zipf == 0).mean()),
        float(np.mean([len(w) for w in words])) if words else 0.0,
        float(np.mean(sentence_lengths)),
        float(np.std(sentence_lengths) / max(1e-6, np.mean(sentence_lengths))),
        _moving_ttr(lower),
        _repeat_share(lower),
        rate(","),
        rate(";:"),
        rate("!?"),
        rate('"“”'),
        rate("()"),
        rate("—–") + text.count(" - ") / n_words,
        sum(map(str.isdigit, text)) / chars,
        sum(w[0].isupper() for w in words) / n_words,
        sum(w in _FIRST_PERSON for w in lower) / n_words,
    ]
    return np.asarray(features, dtype=np.float32)


def _sentence_lengths(text: str) -> list[int]:
    pieces = [p for p in _SENTENCE_END.split(text) if p.strip()]
    lengths = [len(_WORD.findall(p)) for p in pieces]
    return [n for n in lengths if n > 0] or [0]


def _moving_ttr(words: list[str], window: int = 50) -> float:
    if not words:
        return 0.0
    if len(words) <= window:
        return len(set(words)) / len(words)
    counts = Counter(words[:window])
    total = len(counts)
    for i in range(window, len(words)):
        counts[words[i]] += 1
        old = words[i - window]
        counts[old] -= 1
        if counts[old] == 0:
            del counts[old]
        total += len(counts)
    return total / ((len(words) - window + 1) * window)


def _repeat_share(words: list[str]) -> float:
    if len(words) < 4:
        return 0.0
    seen: set[tuple[str, str, str]] = set()
    repeats = 0
    for i in range(len(words) - 2):
        gram = (words[i], words[i + 1], words[i + 2])
        repeats += gram in seen
        seen.add(gram)
    return repeats / (len(words) - 2)


def log_length(text: str) -> float:
    return math.log1p(len(_WORD.findall(text)))

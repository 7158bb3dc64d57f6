"""Claims: split an article into check-worthy sentences, align each with its best evidence in the
source(s) and label it supported, unsupported, contradicted or not_checkable, with a reason.

The default judge works offline: sentence embeddings (MiniLM) find the evidence, then names,
figures, dates (as written and resolved against both publication dates) and quotes are compared.
An NLI cross-encoder can be plugged in (``nli.NLIJudge``) to decide supported vs unsupported where
the facts agree.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from unspun.article.sentences import split_sentences
from unspun.provenance.dates import DateMention, find_dates, parse_date
from unspun.provenance.facts import (
    Facts,
    Quantity,
    entity_key,
    extract_facts,
    quote_key,
    shared_entities,
)
from unspun.provenance.fingerprint import encode
from unspun.provenance.store import StoredDoc

# Cosine thresholds of MiniLM sentence embeddings, set on benchmarks/claims_eval.py.
ALIGNED = 0.60  # evidence that says (about) the same thing
RELATED = 0.45  # evidence about the same event; facts decide
MAX_CLAIM_CHARS = 600
QUOTE_SAME = 0.8  # share of words two quotes have in common to count as the same quote
QUOTE_ALTERED = 0.4  # ... to count as the same quote reworded


@dataclass
class EvidenceSentence:
    source: StoredDoc
    start: int
    end: int
    text: str
    facts: Facts
    dates: list[DateMention]


@dataclass
class ClaimResult:
    start: int
    end: int
    text: str
    status: str
    reason: str
    evidence: EvidenceSentence | None = None

    def as_dict(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "status": self.status,
            "evidence": None
            if self.evidence is None
            else {"source_id": self.evidence.source.doc.id, "text": self.evidence.text},
            "reason": self.reason,
        }


@dataclass
class SourceText:
    """One source prepared for alignment: its sentences, their vectors and all its facts."""

    stored: StoredDoc
    sentences: list[EvidenceSentence]
    vectors: np.ndarray
    entity_keys: set[str]
    values: set[float]
    quotes: list[str]
    lower: str


def prepare_source(stored: StoredDoc, store, encoder) -> SourceText:  # noqa: ANN001
    """Split a source into sentences and get their embeddings (cached in the index)."""
    text = stored.doc.text
    published = parse_date(stored.doc.date)
    spans = split_sentences(text)
    sentences = []
    for s, e in spans:
        chunk = text[s:e]
        sentences.append(
            EvidenceSentence(
                stored, s, e, chunk, extract_facts(chunk), find_dates(chunk, published)
            )
        )
    vectors = store.sentence_vectors(stored.key)
    if vectors is not None and vectors.size == len(spans) * 384:
        vectors = vectors.reshape(len(spans), 384)
    else:
        vectors = encode(encoder, [s.text for s in sentences])
        store.put_sentence_vectors(stored.key, vectors)
    facts = extract_facts(text)
    return SourceText(
        stored=stored,
        sentences=sentences,
        vectors=vectors,
        entity_keys={entity_key(e) for e in facts.entities},
        values={q.value for q in facts.quantities},
        quotes=[quote_key(q) for q in facts.quotes],
        lower=" ".join(re.findall(r"[a-z0-9]+", text.lower())),
    )


def claim_spans(body: str) -> list[tuple[int, int]]:
    """Sentences of the body (long ones cut at semicolons) as claim candidates."""
    spans = []
    for s, e in split_sentences(body):
        if e - s > MAX_CLAIM_CHARS and ";" in body[s:e]:
            pos = s
            for part in re.finditer(r";\s+", body[s:e]):
                spans.append((pos, s + part.start()))
                pos = s + part.end()
            spans.append((pos, e))
        else:
            spans.append((s, e))
    return spans


class ClaimChecker:
    """Labels the claims of an article against prepared sources."""

    def __init__(self, encoder, nli=None) -> None:  # noqa: ANN001
        self.encoder = encoder
        self.nli = nli

    def check(
        self, body: str, sources: list[SourceText], *, published: str | None = None
    ) -> list[ClaimResult]:
        spans = claim_spans(body)
        if not spans:
            return []
        article_date = parse_date(published)
        evidence = [s for src in sources for s in src.sentences]
        matrix = (
            np.vstack([src.vectors for src in sources if len(src.vectors)])
            if any(len(src.vectors) for src in sources)
            else np.zeros((0, 384), dtype=np.float32)
        )
        claim_texts = [body[s:e] for s, e in spans]
        vectors = encode(self.encoder, claim_texts)
        sims = vectors @ matrix.T if len(evidence) else np.zeros((len(spans), 0))
        results = []
        for i, (start, end) in enumerate(spans):
            results.append(
                self._label(start, end, claim_texts[i], sims[i], evidence, sources, article_date)
            )
        return results

    def _label(
        self,
        start: int,
        end: int,
        text: str,
        sims: np.ndarray,
        evidence: list[EvidenceSentence],
        sources: list[SourceText],
        published: dt.date | None,
    ) -> ClaimResult:
        facts = extract_facts(text)
        dates = find_dates(text, published)

        def result(status: str, reason: str, ev: EvidenceSentence | None = None) -> ClaimResult:
            return ClaimResult(start, end, text, status, reason, ev)

        if not (facts.checkable or dates):
            return result(
                "not_checkable", "no names, figures, dates, quotes or attributions to check"
            )
        if not evidence:
            return result("unsupported", "no source was found for this article")
        order = np.argsort(-sims)
        best = evidence[int(order[0])]
        best_sim = float(sims[order[0]])

        # Quotes: a quotation must appear in the source, and be given to the same speaker.
        for quote in facts.quotes:
            found, overlap = _find_quote(quote, evidence)
            if found is None or overlap < QUOTE_ALTERED:
                near = best if best_sim >= RELATED else None
                return result(
                    "unsupported",
                    f"the quote \u201c{_clip(quote)}\u201d appears nowhere in the source",
                    near,
                )
            speaker_conflict = _speaker_conflict(text, quote, found, evidence)
            if overlap < QUOTE_SAME:
                why = "the source words this quote differently"
                if speaker_conflict:
                    return result("contradicted", f"{why}, and {speaker_conflict}", found)
                return result("unsupported", why, found)
            if speaker_conflict:
                return result("contradicted", speaker_conflict, found)

        # The evidence: the most similar sentence, preferring close ones that share facts.
        candidates = [evidence[int(j)] for j in order[:5] if sims[int(j)] >= RELATED]
        if candidates:
            best = max(
                candidates,
                key=lambda ev: (
                    float(sims[evidence.index(ev)]) + 0.05 * _fact_overlap(facts, dates, ev)
                ),
            )
            best_sim = float(sims[evidence.index(best)])

        conflict = (
            _fact_conflict(facts, dates, best, aligned=best_sim >= ALIGNED)
            if best_sim >= RELATED
            else None
        )
        if conflict:
            return result("contradicted", conflict, best)

        missing = _missing_facts(facts, sources)
        if best_sim < RELATED:
            why = f"nothing in the source says this (closest sentence: similarity {best_sim:.2f})"
            if missing:
                why = f"{missing}; nothing in the source says this"
            return result("unsupported", why)
        if missing:
            return result("unsupported", missing, best)
        date_gap = _date_not_in_source(dates, best, sources)
        if date_gap:
            return result("unsupported", date_gap, best)
        if self.nli is not None:
            label = self.nli.judge(best.text, text)
            if label == "contradiction":
                return result(
                    "contradicted", "the NLI model reads the source as saying otherwise", best
                )
            if label == "entailment":
                return result(
                    "supported", f"the source says this (NLI; similarity {best_sim:.2f})", best
                )
            if best_sim < ALIGNED:
                return result(
                    "unsupported", "the closest source sentence does not imply this (NLI)", best
                )
        if best_sim >= ALIGNED or _fact_overlap(facts, dates, best) >= 2:
            return result("supported", f"the source says this (similarity {best_sim:.2f})", best)
        return result(
            "unsupported",
            f"the source only touches on this (similarity {best_sim:.2f}); "
            "its details are not in it",
            best,
        )


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "\u2026"


def _find_quote(
    quote: str, evidence: list[EvidenceSentence]
) -> tuple[EvidenceSentence | None, float]:
    """The source sentence whose quote is closest to this one, and the share of words they have in
    common (1.0 = verbatim)."""
    key = quote_key(quote)
    words = key.split()
    best: EvidenceSentence | None = None
    best_overlap = 0.0
    for ev in evidence:
        for theirs in ev.facts.quotes:
            their_key = quote_key(theirs)
            if key == their_key or (len(key) > 20 and (key in their_key or their_key in key)):
                return ev, 1.0
            overlap = _word_overlap(words, their_key.split())
            if overlap > best_overlap:
                best, best_overlap = ev, overlap
    return best, best_overlap


def _word_overlap(a: list[str], b: list[str]) -> float:
    if not a or not b:
        return 0.0
    sb = set(b)
    return sum(w in sb for w in a) / max(len(a), len(b))


def _outside_quotes(text: str) -> str:
    return re.sub(r"[\"“”«»][^\"“”«»]*[\"“”«»]", " ", text)


def _speaker_conflict(
    text: str, quote: str, found: EvidenceSentence, evidence: list[EvidenceSentence]
) -> str | None:
    """The claim gives the quote to someone the source does not (the source's speaker is named in
    the quoting sentence or the one before it)."""
    ours = {entity_key(e) for e in extract_facts(_outside_quotes(text)).entities}
    if not ours:
        return None
    at = evidence.index(found)
    context = _outside_quotes(found.text)
    theirs = {entity_key(e) for e in extract_facts(context).entities}
    if not theirs and at > 0 and evidence[at - 1].source is found.source:
        theirs = {
            entity_key(e) for e in extract_facts(_outside_quotes(evidence[at - 1].text)).entities
        }
    if not theirs or shared_entities(ours, theirs):
        return None
    speaker = sorted(theirs, key=len)[-1]
    return (
        f"the source gives this quote to {_title(speaker)}, not {_title(sorted(ours, key=len)[-1])}"
    )


def _title(key: str) -> str:
    return " ".join(w.capitalize() for w in key.split())


def _fact_overlap(facts: Facts, dates: list[DateMention], ev: EvidenceSentence) -> int:
    shared = len(shared_entities(facts.entity_keys, ev.facts.entity_keys))
    shared += len(facts.values & ev.facts.values)
    shared += sum(any(d.same_period(e) for e in ev.dates) for d in dates)
    return shared


def _same_kind(a: Quantity, b: Quantity) -> bool:
    if a.unit and b.unit:
        return a.unit == b.unit or a.unit.rstrip("s") == b.unit.rstrip("s")
    return False


def _fact_conflict(
    facts: Facts, dates: list[DateMention], ev: EvidenceSentence, *, aligned: bool = False
) -> str | None:
    """A figure or date in the claim that the aligned source sentence states differently."""
    for ours in facts.quantities:
        if ours.value in ev.facts.values:
            continue
        for theirs in ev.facts.quantities:
            if _same_kind(ours, theirs) and theirs.value != ours.value:
                unit = f" ({theirs.unit})" if theirs.unit not in {"", "%"} else ""
                return f"the source says {theirs.text}, not {ours.text}{unit}"
    if aligned:
        # The same sentence with one figure swapped for another, whatever its unit.
        ours_only = [q for q in facts.quantities if q.value not in ev.facts.values]
        theirs_only = [q for q in ev.facts.quantities if q.value not in facts.values]
        if len(ours_only) == 1 and len(theirs_only) == 1:
            return f"the source says {theirs_only[0].text}, not {ours_only[0].text}"
    resolved = [d for d in dates if d.value is not None]
    their_dates = [d for d in ev.dates if d.value is not None]
    if resolved and their_dates:
        for ours_date in resolved:
            comparable = [d for d in their_dates if d.granularity == ours_date.granularity]
            if comparable and not any(ours_date.same_period(d) for d in comparable):
                return f"the source dates this {_when(comparable[0])}, not {_when(ours_date)}"
    elif dates and ev.dates:
        # Unresolvable (no publication date): compare as written, weekday against weekday.
        ours_days = {d.text.lower().split()[-1] for d in dates}
        their_days = {d.text.lower().split()[-1] for d in ev.dates}
        weekdays = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
        if ours_days & weekdays and their_days & weekdays and not ours_days & their_days:
            theirs_day = sorted(their_days & weekdays)[0].capitalize()
            return (
                f"the source says {theirs_day}, not {sorted(ours_days & weekdays)[0].capitalize()}"
            )
    return None


def _when(mention: DateMention) -> str:
    """A date as written, plus its resolved day if useful: 'on Sunday (2026-03-08)'."""
    if mention.value is None or mention.granularity != "day" or re.search(r"\d{4}", mention.text):
        return mention.text
    return f"{mention.text} ({mention.value.isoformat()})"


def _missing_facts(facts: Facts, sources: list[SourceText]) -> str | None:
    """Names and figures of the claim that no source mentions anywhere."""
    all_keys: set[str] = set().union(*(s.entity_keys for s in sources))
    all_values: set[float] = set().union(*(s.values for s in sources))
    all_text = " ".join(s.lower for s in sources)
    missing_names = []
    for entity in facts.entities:
        key = entity_key(entity)
        if shared_entities({key}, all_keys):
            continue
        if " ".join(re.findall(r"[a-z0-9]+", key)) in all_text:
            continue
        missing_names.append(entity)
    # Small numbers written as words ("two sides") are too often not figures to call them missing.
    missing_values = [
        q.text
        for q in facts.quantities
        if q.value not in all_values
        and (q.text[:1].isdigit() or q.text[:1] in "£$€¥" or q.value > 10)
    ]
    parts = []
    if missing_names:
        parts.append("the source never mentions " + ", ".join(dict.fromkeys(missing_names)))
    if missing_values:
        parts.append(
            "the figure " + ", ".join(dict.fromkeys(missing_values)) + " is not in the source"
        )
    return "; ".join(parts) or None


def _date_not_in_source(
    dates: list[DateMention], best: EvidenceSentence, sources: list[SourceText]
) -> str | None:
    """A year the claim states that the source never gives (invented history: 'founded in 1842')."""
    for mention in dates:
        if mention.granularity != "year" or mention.value is None:
            continue
        year = str(mention.value.year)
        if not any(year in s.lower for s in sources):
            return f"the source never mentions {year}"
    return None

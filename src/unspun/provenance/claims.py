"""Claims: split an article into check-worthy sentences, align each with its best evidence in the
source(s) and label it supported, unsupported, contradicted or not_checkable, with a reason.

Offline, in two stages. Sentence embeddings (MiniLM) find the evidence; rules then settle what they
are precise about: a quotation missing from the source or given to another speaker, a figure, a
date (as written and resolved against both publication dates) or a length of time stated
differently, a name, figure or year the source never mentions. What is left goes to the trained
claim judge (``judge.ClaimJudge``, a MiniLM cross-encoder) in one batch: it reads the evidence and
the claim together and says whether the source supports, contradicts or does not say it; a
contradiction counts only when a difference of negation, direction (rose/fell), quantity word,
name or speaker can be named on both sides (``differences``). A claim whose closest source
sentence is not about the same thing shows no evidence ("the source does not mention this").
An NLI cross-encoder can take the judge's place (``nli.NLIJudge``).
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from dataclasses import dataclass

import numpy as np

from unspun.article.sentences import split_sentences
from unspun.provenance.dates import DateMention, find_dates, parse_date
from unspun.provenance.differences import (
    Difference,
    as_no_change,
    differences,
    duration_conflict,
    duration_spans,
    find_durations,
    outside_quotes,
)
from unspun.provenance.facts import (
    Facts,
    Quantity,
    content_words,
    entity_key,
    extract_facts,
    quote_key,
    shared_entities,
    zipf,
)
from unspun.provenance.fingerprint import encode
from unspun.provenance.store import StoredDoc

# Cosine thresholds of MiniLM sentence embeddings, set on benchmarks/claims_eval.py.
ALIGNED = 0.60  # evidence that says (about) the same thing
RELATED = 0.45  # evidence about the same event; facts decide
MAX_CLAIM_CHARS = 600
QUOTE_SAME = 0.8  # share of words two quotes have in common to count as the same quote
QUOTE_ALTERED = 0.4  # ... to count as the same quote reworded
# The judge also reads the second most similar sentence when it is this close (a merged claim).
SECOND_AT = 0.45
SECOND_MARGIN = 0.10


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
    spans = split_sentences(stored.doc.text)
    vectors = store.sentence_vectors(stored.key)
    if vectors is not None and vectors.size == len(spans) * 384:
        return source_text(stored, spans, vectors.reshape(len(spans), 384))
    prepared = source_text(stored, spans, None)
    prepared.vectors = encode(encoder, [s.text for s in prepared.sentences])
    store.put_sentence_vectors(stored.key, prepared.vectors)
    return prepared


def source_text(
    stored: StoredDoc, spans: list[tuple[int, int]], vectors: np.ndarray | None
) -> SourceText:
    """A source with its sentences (``spans`` of its text), their vectors and all its facts."""
    text = stored.doc.text
    published = parse_date(stored.doc.date)
    sentences = []
    for s, e in spans:
        chunk = text[s:e]
        sentences.append(
            EvidenceSentence(
                stored, s, e, chunk, extract_facts(chunk), find_dates(chunk, published)
            )
        )
    facts = extract_facts(text)
    return SourceText(
        stored=stored,
        sentences=sentences,
        vectors=vectors if vectors is not None else np.zeros((0, 384), dtype=np.float32),
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


# The judge's default thresholds, used when its file gives none (they are set on held-out training
# pairs): a claim is supported when the judge finds entailment likelier than "not said" and the
# chance of a contradiction below SUPPORTED_AT; a named difference is a contradiction from
# CONTRADICTED_AT.
SUPPORTED_AT = 0.5
CONTRADICTED_AT = 0.5
# An unsupported claim shows its closest source sentence only when that sentence is about the same
# thing: this close in meaning, or sharing two or more names, figures or dates with the claim.
SHOWN = 0.60
# A claim that names nothing is still judged when it shares a word this rare (word frequency, see
# facts.zipf) with the source.
RARE_WORD = 4.5
_PACKAGED = object()


@dataclass
class _Pending:
    """A claim the rules could not settle: the judge reads (premise, claim)."""

    index: int
    best: EvidenceSentence
    best_sim: float
    window: list[EvidenceSentence]
    candidates: list[Difference]
    claim: str

    @property
    def premise(self) -> str:
        """The evidence the judge reads (a negated change in the claim's words for no change)."""
        return as_no_change(" ".join(ev.text.strip() for ev in self.window), self.claim)


class ClaimChecker:
    """Labels the claims of an article against prepared sources.

    ``judge``: the trained claim judge (the packaged one by default; None: the fact rules alone,
    as before the judge existed). ``nli``: an optional NLI cross-encoder (``--nli-model``) that
    takes the judge's place.
    """

    def __init__(self, encoder, nli=None, judge=_PACKAGED) -> None:  # noqa: ANN001
        self.encoder = encoder
        self.nli = nli
        self._judge = judge

    @property
    def judge(self):  # noqa: ANN201
        if self._judge is _PACKAGED:
            self._judge = _load_packaged_judge()
        return self._judge

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
        results: list[ClaimResult | _Pending] = []
        for i, (start, end) in enumerate(spans):
            results.append(
                self._label(i, start, end, claim_texts[i], sims[i], evidence, sources, article_date)
            )
        pending = [r for r in results if isinstance(r, _Pending)]
        verdicts = self._judge_all(pending, claim_texts)
        for item, verdict in zip(pending, verdicts, strict=True):
            start, end = spans[item.index]
            results[item.index] = self._settle(item, start, end, claim_texts[item.index], verdict)
        return results  # type: ignore[return-value]

    def _judge_all(self, pending: list[_Pending], claims: list[str]) -> list[np.ndarray | None]:
        """P(entailment, neutral, contradiction) of every pending pair, in one batch."""
        pairs = [(item.premise, claims[item.index]) for item in pending]
        if self.nli is not None and pairs:
            labels = self.nli.judge_many(pairs)
            order = ("entailment", "neutral", "contradiction")
            return [np.eye(3, dtype=np.float32)[order.index(label)] for label in labels]
        if self.judge is None or not pairs:
            return [None] * len(pending)
        return list(self.judge.probabilities(pairs))

    def _label(
        self,
        index: int,
        start: int,
        end: int,
        text: str,
        sims: np.ndarray,
        evidence: list[EvidenceSentence],
        sources: list[SourceText],
        published: dt.date | None,
    ) -> ClaimResult | _Pending:
        facts = extract_facts(text)
        dates = find_dates(text, published)

        def result(status: str, reason: str, ev: EvidenceSentence | None = None) -> ClaimResult:
            return ClaimResult(start, end, text, status, reason, ev)

        if not evidence:
            if not (facts.checkable or dates):
                return result(
                    "not_checkable", "no names, figures, dates, quotes or attributions to check"
                )
            return result("unsupported", "no source was found for this article")
        best_index, window = select_evidence(facts, dates, sims, evidence)
        best = evidence[best_index]
        best_sim = float(sims[best_index])
        related = best_sim >= RELATED
        if not (facts.checkable or dates or related or _shares_rare_words(text, sources)):
            # Nothing to compare and nothing in the source about it: "all eyes are on the talks".
            return result(
                "not_checkable", "no names, figures, dates, quotes or attributions to check"
            )
        shown = best if (best_sim >= SHOWN or _fact_overlap(facts, dates, best) >= 2) else None

        # Quotes: a quotation must appear in the source, and be given to the same speaker.
        for quote in facts.quotes:
            found, overlap = _find_quote(quote, evidence)
            if found is None or overlap < QUOTE_ALTERED:
                return result(
                    "unsupported",
                    f"the source does not mention this: the quote \u201c{_clip(quote)}\u201d "
                    "appears nowhere in the source",
                )
            speaker_conflict = _speaker_conflict(text, quote, found, evidence)
            if overlap < QUOTE_SAME:
                why = "the source words this quote differently"
                if speaker_conflict:
                    return result("contradicted", f"{why}, and {speaker_conflict}", found)
                return result("unsupported", why, found)
            if speaker_conflict:
                return result("contradicted", speaker_conflict, found)

        conflict = None
        if related:
            values: set[float] = set().union(*(s.values for s in sources))
            conflict = _fact_conflict(
                text, facts, dates, best, aligned=best_sim >= ALIGNED, source_values=values
            )
            # A claim that merges two sentences may take its date from the second one.
            for j in window:
                if conflict is None and evidence[j] is not best:
                    conflict = _fact_conflict(text, facts, dates, evidence[j], dates_only=True)
                    best = evidence[j] if conflict else best
        if conflict:
            return result("contradicted", conflict, best)

        missing = _missing_facts(facts, sources, text)
        if missing:
            if shown is None:
                return result("unsupported", f"the source does not mention this: {missing}")
            return result("unsupported", missing, shown)
        date_gap = _date_not_in_source(dates, best, sources)
        if date_gap:
            if shown is None:
                return result("unsupported", f"the source does not mention this: {date_gap}")
            return result("unsupported", date_gap, shown)
        if not related:
            return result(
                "unsupported",
                f"the source does not mention this (its closest sentence: similarity "
                f"{best_sim:.2f})",
            )
        if self.judge is None and self.nli is None:
            return self._rules_only(start, end, text, facts, dates, best, best_sim, shown)
        sentences = [evidence[j] for j in window]
        premise = " ".join(ev.text.strip() for ev in sentences)
        candidates = differences(text, as_no_change(premise, text)) + _name_differences(
            text, facts, premise, sources
        )
        return _Pending(index, best, best_sim, sentences, candidates, text)

    def _rules_only(
        self,
        start: int,
        end: int,
        text: str,
        facts: Facts,
        dates: list[DateMention],
        best: EvidenceSentence,
        best_sim: float,
        shown: EvidenceSentence | None,
    ) -> ClaimResult:
        """The decision without a judge: close enough in meaning, or sharing two facts."""
        if best_sim >= ALIGNED or _fact_overlap(facts, dates, best) >= 2:
            return ClaimResult(
                start,
                end,
                text,
                "supported",
                f"the source says this (similarity {best_sim:.2f})",
                best,
            )
        return ClaimResult(
            start,
            end,
            text,
            "unsupported",
            f"the source only touches on this (similarity {best_sim:.2f}); "
            "its details are not in it",
            shown,
        )

    def _settle(
        self, item: _Pending, start: int, end: int, text: str, verdict: np.ndarray | None
    ) -> ClaimResult:
        """The label of a pending claim from the judge's reading and the candidate differences."""
        best, best_sim = item.best, item.best_sim
        if verdict is None:
            return ClaimResult(
                start, end, text, "unsupported", "the claim could not be judged", best
            )
        p_entail, _, p_contra = (float(x) for x in verdict)
        thresholds = getattr(self.judge, "thresholds", {}) if self.nli is None else {}
        supported_at = thresholds.get("supported", SUPPORTED_AT)
        contradicted_at = thresholds.get("contradicted", CONTRADICTED_AT)
        judged = "NLI" if self.nli is not None else "judge"
        if item.candidates and p_contra >= contradicted_at:
            return ClaimResult(
                start,
                end,
                text,
                "contradicted",
                item.candidates[0].describe(),
                _evidence_holding(item, best),
            )
        if item.candidates:
            # A difference the rules can name, which the judge does not read as a contradiction:
            # the source may say the same in other words, but this is not called supported.
            return ClaimResult(
                start,
                end,
                text,
                "unsupported",
                f"{item.candidates[0].describe()}; the {judged} does not read this as a "
                f"contradiction ({judged} {p_contra:.2f}), so check it by hand",
                _evidence_holding(item, best),
            )
        p_neutral = float(verdict[1])
        if p_entail >= p_neutral and p_contra < supported_at:
            return ClaimResult(
                start,
                end,
                text,
                "supported",
                f"the source says this ({judged} {p_entail:.2f}; similarity {best_sim:.2f})",
                best,
            )
        if p_contra >= contradicted_at:
            return ClaimResult(
                start,
                end,
                text,
                "unsupported",
                f"the source does not say this: its closest sentence reads otherwise ({judged} "
                f"{p_contra:.2f} against it; similarity {best_sim:.2f})",
                best,
            )
        shown = best if best_sim >= SHOWN else None
        if shown is None:
            return ClaimResult(
                start,
                end,
                text,
                "unsupported",
                f"the source does not mention this (its closest sentence: similarity "
                f"{best_sim:.2f})",
            )
        return ClaimResult(
            start,
            end,
            text,
            "unsupported",
            f"the source does not say this: its closest sentence is about the same thing but does "
            f"not state it ({judged} {p_entail:.2f}; similarity {best_sim:.2f})",
            shown,
        )


def _shares_rare_words(text: str, sources: list[SourceText]) -> bool:
    """The claim uses an uncommon word of the source (by its first five letters: "flood" and
    "flooded"): it is about the source's story even when it names nothing, so it is worth
    judging ("the landslip was caused by a burst main")."""
    ours = {w[:5] for w in content_words(text) if len(w) >= 4 and zipf(w) < RARE_WORD}
    if not ours:
        return False
    return any(
        {w[:5] for w in content_words(s.stored.doc.text) if len(w) >= 4 and zipf(w) < RARE_WORD}
        & ours
        for s in sources
    )


def _load_packaged_judge():  # noqa: ANN202
    """The packaged claim judge, or None (the fact rules alone) when it cannot be loaded."""
    from unspun.errors import ModelUnavailable
    from unspun.provenance.judge import packaged_judge

    try:
        return packaged_judge()
    except ModelUnavailable as exc:
        warnings.warn(f"{exc}; claims are judged by the fact rules alone", stacklevel=3)
        return None


def _evidence_holding(item: _Pending, best: EvidenceSentence) -> EvidenceSentence:
    """The evidence sentence that holds the source's side of the first difference."""
    theirs = item.candidates[0].theirs.lower()
    return next((ev for ev in item.window if theirs in ev.text.lower()), best)


def select_evidence(
    facts: Facts, dates: list[DateMention], sims: np.ndarray, evidence: list[EvidenceSentence]
) -> tuple[int, list[int]]:
    """The evidence for a claim: the most similar sentence, preferring close ones that share its
    facts, and the window the judge reads (that sentence, plus the next most similar sentence of
    the same source when it is nearly as close: a rewrite often merges two sentences), in source
    order."""
    order = np.argsort(-sims)
    best = int(order[0])
    close = [int(j) for j in order[:5] if sims[int(j)] >= RELATED]
    if close:
        best = max(
            close, key=lambda j: float(sims[j]) + 0.05 * _fact_overlap(facts, dates, evidence[j])
        )
    window = [best]
    for j in (int(k) for k in order[:3]):
        if (
            j != best
            and evidence[j].source is evidence[best].source
            and sims[j] >= max(SECOND_AT, float(sims[best]) - SECOND_MARGIN)
        ):
            window.append(j)
            break
    return best, sorted(window, key=lambda j: evidence[j].start)


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


_SPEECH = re.compile(
    r"\b(?:said|says|told|tells|added|adds|stated|warned|explained|insisted|claimed|described|"
    r"called|informed|wrote|according to)\b",
    re.IGNORECASE,
)
_PRONOUNS = frozenset("he she they it we i you his her their".split())
# Speakers that name no one: "officials said" can be the authority's officials, "a spokesperson"
# anyone's, so they cannot differ from a named speaker.
_UNNAMED_SPEAKERS = _PRONOUNS | frozenset(
    "official officials spokesperson spokesman spokeswoman spokespeople representative "
    "representatives source sources insider insiders statement aide aides staff someone".split()
)
_SPEAKER_STOP = frozenset(
    "the a an of for from to and at in on by with who which that this its their his her said "
    "says told added stated warned explained insisted claimed described called informed wrote "
    "according".split()
)


def speaker_phrase(text: str) -> str | None:
    """Who says something in a sentence: the words next to its speech verb ("said" ...), outside
    any quotation: before the verb ("Judge Alan Whitcombe said she ...") when there are any, else
    after it ('"...," said port authority chair Tomas Reyl, speaking ...'). None when the sentence
    has no speech verb."""
    plain = outside_quotes(text)
    match = _SPEECH.search(plain)
    if match is None:
        return None
    before = re.split(r"[,;:.!?\"“”()\[\]]|\s{2,}", plain[: match.start()])[-1].split()[-6:]
    if before:
        return " ".join(before)
    after = re.split(r"[,;:.!?\"“”()\[\]]|\s{2,}", plain[match.end() :])[0].split()[:6]
    return " ".join(after) or None


def _content(phrase: str) -> set[str]:
    words = {w.lower().strip("'’") for w in re.findall(r"[A-Za-z][\w'’-]*", phrase)}
    return {re.sub(r"'s$", "", w) for w in words if w not in _SPEAKER_STOP and len(w) > 1}


def speaker_difference(ours: str | None, theirs: str | None) -> bool:
    """Both sentences name who is speaking, and not a word of one speaker is in the other (a
    pronoun or an unnamed speaker, "officials", on either side cannot be compared)."""
    if not ours or not theirs:
        return False
    mine, other = _content(ours), _content(theirs)
    if not mine or not other or mine <= _UNNAMED_SPEAKERS or other <= _UNNAMED_SPEAKERS:
        return False
    return not (mine & other)


def _speaker_conflict(
    text: str, quote: str, found: EvidenceSentence, evidence: list[EvidenceSentence]
) -> str | None:
    """The claim gives the quote to someone the source does not (the source's speaker is named in
    the quoting sentence, or the one before it when the quoting sentence says only "she said")."""
    ours = speaker_phrase(text)
    if ours is None:
        entities = extract_facts(outside_quotes(text)).entities
        ours = max(entities, key=len) if entities else None
    if ours is not None and _content(ours) & _content(outside_quotes(found.text)):
        return None  # the quoting sentence names the claim's speaker too ("told BBC Radio Jersey")
    at = evidence.index(found)
    theirs = speaker_phrase(found.text)
    if (theirs is None or _content(theirs) <= _PRONOUNS) and at > 0:
        previous = evidence[at - 1]
        if previous.source is found.source:
            names = [e for e in extract_facts(outside_quotes(previous.text)).entities if " " in e]
            theirs = speaker_phrase(previous.text) or (names[-1] if names else None)
    if not speaker_difference(ours, theirs):
        return None
    return f"the source gives this quote to {_clip(theirs or '', 50)}, not {_clip(ours or '', 50)}"


def _name_differences(
    text: str, facts: Facts, premise: str, sources: list[SourceText]
) -> list[Difference]:
    """Candidates: who speaks differs ("Harrow Capital said ..." where the source has "Dr Tariq Aziz
    said ..."), or a name of the source stands where the source sentence has another name."""
    found = []
    if not facts.quotes and speaker_difference(speaker_phrase(text), speaker_phrase(premise)):
        found.append(
            Difference("speaker", speaker_phrase(premise) or "", speaker_phrase(text) or "")
        )
    premise_keys = {entity_key(e) for e in extract_facts(outside_quotes(premise)).entities}
    all_keys: set[str] = set().union(*(s.entity_keys for s in sources)) if sources else set()
    ours = [
        e
        for e in extract_facts(outside_quotes(text)).entities
        if shared_entities({entity_key(e)}, all_keys)
        and not shared_entities({entity_key(e)}, premise_keys)
    ]
    our_keys = {entity_key(e) for e in facts.entities}
    theirs = [
        e
        for e in extract_facts(outside_quotes(premise)).entities
        if not shared_entities({entity_key(e)}, our_keys) and entity_key(e) not in text.lower()
    ]
    ours = [e for e in ours if _person_like(e)]
    theirs = [e for e in theirs if _person_like(e)]
    if ours and theirs:
        found.append(Difference("name", theirs[0], ours[0]))
    return found


def _person_like(name: str) -> bool:
    """Two or three capitalised words, none of them 'The' or a possessive: what a person's name
    looks like (a swapped name is only a candidate: the judge has to confirm it)."""
    words = name.split()
    return (
        2 <= len(words) <= 3
        and all(w[:1].isupper() for w in words)
        and words[0] != "The"
        and not any(w.endswith(("'s", "’s")) for w in words)
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
    text: str,
    facts: Facts,
    dates: list[DateMention],
    ev: EvidenceSentence,
    *,
    aligned: bool = False,
    source_values: set[float] | None = None,
    dates_only: bool = False,
) -> str | None:
    """Every length of time, figure and date of the claim that the aligned source sentence states
    differently ("the source dates this in 2019, not in 2017; the source says nine days, not
    nearly two weeks"), or None (``dates_only``: lengths of time and dates only)."""
    found = [_date_conflict(dates, ev)]
    if not dates_only:
        found.append(_figure_conflict(text, facts, ev, aligned=aligned, elsewhere=source_values))
    durations = duration_conflict(text, ev.text)
    if durations:
        found.append(f"the source says {durations[0]}, not {durations[1]}")
    return "; ".join(f for f in found if f) or None


def _figure_conflict(
    text: str,
    facts: Facts,
    ev: EvidenceSentence,
    *,
    aligned: bool,
    elsewhere: set[float] | None,
) -> str | None:
    """A figure of the claim that the aligned source sentence gives differently."""
    # Figures inside lengths of time are compared as lengths ("72 hours" = "three days").
    ours_spans, theirs_spans = duration_spans(text), duration_spans(ev.text)
    ours_all = [q for q in facts.quantities if not _inside(q, ours_spans)]
    theirs_all = [q for q in ev.facts.quantities if not _inside(q, theirs_spans)]
    their_values = {q.value for q in theirs_all}
    our_values = {q.value for q in ours_all}
    for ours in ours_all:
        if ours.value in their_values:
            continue
        for theirs in theirs_all:
            if _same_kind(ours, theirs) and theirs.value != ours.value:
                unit = f" ({theirs.unit})" if theirs.unit not in {"", "%"} else ""
                return f"the source says {theirs.text}, not {ours.text}{unit}"
    if aligned:
        # The same sentence with one figure swapped for another, whatever its unit; not a figure
        # the source gives elsewhere (a claim that merges two sentences), nor money for a count.
        elsewhere = elsewhere or set()
        ours_only = [
            q for q in ours_all if q.value not in their_values and q.value not in elsewhere
        ]
        theirs_only = [q for q in theirs_all if q.value not in our_values]
        if (
            len(ours_only) == 1
            and len(theirs_only) == 1
            and _money(ours_only[0]) == _money(theirs_only[0])
        ):
            return f"the source says {theirs_only[0].text}, not {ours_only[0].text}"
    return None


def _money(quantity: Quantity) -> bool:
    return quantity.unit in {"£", "$", "€", "¥"}


def _date_conflict(dates: list[DateMention], ev: EvidenceSentence) -> str | None:
    """A date of the claim that the sentence gives differently (compared at the claim's grain,
    when the sentence's date is as fine or finer: "in June" against "on 3 March")."""
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
        ours_months = {d.text for d in dates if d.granularity == "month" and d.text.isalpha()}
        their_months = {d.text for d in ev.dates if d.granularity == "month" and d.text.isalpha()}
        if ours_months and their_months and not ours_months & their_months:
            return f"the source says {sorted(their_months)[0]}, not {sorted(ours_months)[0]}"
        # "22 May" against "22 August", with no publication date to resolve them against.
        ours_days = {_day_month(d.text): d.text for d in dates if _day_month(d.text)}
        their_days = {_day_month(d.text): d.text for d in ev.dates if _day_month(d.text)}
        if ours_days and their_days and not set(ours_days) & set(their_days):
            return (
                f"the source says {next(iter(their_days.values()))}, "
                f"not {next(iter(ours_days.values()))}"
            )
    return None


def _inside(quantity: Quantity, spans: list[tuple[int, int]]) -> bool:
    return any(s <= quantity.start < e for s, e in spans)


def _day_month(text: str) -> tuple[int, int] | None:
    """(month, day) of a date written with a month name and a day ("22 May", "May 22nd")."""
    day = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\b", text)
    month = re.search(r"[A-Za-z]{3,}", text)
    if not day or not month:
        return None
    names = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    prefix = month.group().lower()[:3]
    return (names.index(prefix) + 1, int(day.group(1))) if prefix in names else None


def _when(mention: DateMention) -> str:
    """A date as written, plus its resolved day if useful: 'on Sunday (2026-03-08)'."""
    if mention.value is None or mention.granularity != "day" or re.search(r"\d{4}", mention.text):
        return mention.text
    return f"{mention.text} ({mention.value.isoformat()})"


# Places and their people, and other names a rewrite swaps for each other.
_ALIASES = {
    "britain": "uk", "british": "uk", "united kingdom": "uk", "england": "english",
    "america": "us", "american": "us", "united states": "us", "usa": "us", "france": "french",
    "wales": "welsh", "netherlands": "dutch", "holland": "dutch", "spain": "spanish",
    "switzerland": "swiss", "scotland": "scottish", "ireland": "irish", "germany": "german",
    "china": "chinese", "greece": "greek", "turkey": "turkish", "denmark": "danish",
    "sweden": "swedish", "norway": "norwegian", "finland": "finnish", "poland": "polish",
    "portugal": "portuguese", "japan": "japanese", "lebanon": "lebanese", "peru": "peruvian",
    "thailand": "thai", "iraq": "iraqi", "israel": "israeli", "pakistan": "pakistani",
}  # fmt: skip
# Fractions written out stand for these percentages ("a quarter" = 25%).
_FRACTIONS = {
    50.0: "half", 25.0: "quarter", 75.0: "three quarters", 20.0: "fifth", 10.0: "tenth",
    33.0: "third", 33.3: "third", 66.0: "two thirds", 67.0: "two thirds", 40.0: "two fifths",
}  # fmt: skip


# The last word of a name that names no one in particular: "Whitmore District Council" is not
# found in a source that only has "Alderton District Council".
_GENERIC_HEADS = frozenset(
    "council court police university college school hospital trust union party club street road "
    "lane avenue square river bay park house hall centre center station airport port bridge "
    "group company association society agency committee service services department office "
    "ministry board church museum gallery theatre library market county district city town "
    "village island forest woods wood valley mountain lake".split()
)
# First words that make a place another place ("Lower Tarrow" is not "Upper Tarrow").
_QUALIFIERS = frozenset(
    "upper lower north south east west northern southern eastern western new old great little "
    "greater central".split()
)


def _named_in(entity: str, all_keys: set[str], all_text: str) -> bool:
    """The source names this: in full, by last word (a person's surname), by an alias
    ("British" / "UK"), as the same word stem ("Kenya" / "Kenyan"), or part by part ("Grace
    Wanjiru of Kenya", "Westhaven and Sandleigh")."""
    key = entity_key(entity)
    parts = [p for p in re.split(r"\s+(?:of|for|and|the|de|in)\s+", key) if p]
    if len(parts) > 1:
        return all(_named_in(part, all_keys, all_text) for part in parts)
    words = " ".join(re.findall(r"[a-z0-9]+", key))
    if not words or re.search(rf"\b{re.escape(words)}s?\b", all_text):
        return True
    split = words.split()
    if len(split) > 1 and split[0] in _QUALIFIERS:
        return False  # "Lower Tarrow" was not found, and "Tarrow" alone is another place
    if len(split) > 1 and split[-1] in _GENERIC_HEADS:
        # "Alderton Council": its own words must be there ("Alderton District Council" will do).
        own = [w for w in split if w not in _GENERIC_HEADS]
        return bool(own) and all(re.search(rf"\b{re.escape(w)}\b", all_text) for w in own)
    if shared_entities({key}, all_keys):
        return True
    alias = _ALIASES.get(words) or next((k for k, v in _ALIASES.items() if v == words), None)
    if alias and re.search(rf"\b{alias}\b", all_text):
        return True
    if " " not in words and len(words) >= 5:
        stem = words[: max(4, len(words) - 3)]
        return bool(re.search(rf"\b{re.escape(stem)}[a-z]{{0,4}}\b", all_text))
    return False


def _missing_facts(facts: Facts, sources: list[SourceText], text: str = "") -> str | None:
    """Names and figures of the claim that no source mentions anywhere."""
    all_keys: set[str] = set().union(*(s.entity_keys for s in sources))
    all_values: set[float] = set().union(*(s.values for s in sources))
    all_text = " ".join(s.lower for s in sources)
    missing_names = [e for e in facts.entities if not _named_in(e, all_keys, all_text)]
    # Lengths of time are compared as lengths ("twelve months" is "a year").
    spans = duration_spans(text)
    source_durations = [d for s in sources for d in find_durations(s.stored.doc.text)]
    lengths_known = any(d.agrees(other) for d in find_durations(text) for other in source_durations)

    def known(q: Quantity) -> bool:
        if q.value in all_values:
            return True
        if q.unit == "%" and _FRACTIONS.get(round(q.value, 1), "\0") in all_text:
            return True
        return lengths_known and _inside(q, spans)

    # Small numbers written as words ("two sides") are too often not figures to call them missing.
    missing_values = [
        q.text
        for q in facts.quantities
        if not known(q) and (q.text[:1].isdigit() or q.text[:1] in "£$€¥" or q.value > 12)
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

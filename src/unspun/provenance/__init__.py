"""Provenance: an index of trusted articles, tracing an article to its sources, and claim checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from unspun.provenance.claims import ClaimChecker, ClaimResult, claim_spans, prepare_source
from unspun.provenance.consistency import find_inconsistencies
from unspun.provenance.index import AddResult, SourceIndex
from unspun.provenance.store import SourceDoc
from unspun.provenance.trace import Candidate, Tracer

if TYPE_CHECKING:
    from unspun.article.model import Article
    from unspun.report import Report

__all__ = [
    "AddResult",
    "Candidate",
    "ClaimResult",
    "Provenance",
    "SourceDoc",
    "SourceIndex",
    "Tracer",
]

# A candidate is used as evidence for claims when its hybrid score is at least this, and within
# SOURCE_MARGIN of the best one (a rewrite usually has one source, sometimes two).
MIN_SOURCE_SCORE = 0.3
SOURCE_MARGIN = 0.15
CLAIM_SOURCES = 2


class Provenance:
    """Traces articles in one index and checks their claims; models and index are opened once."""

    def __init__(self, location: str, *, nli_model: str | None = None, encoder=None) -> None:  # noqa: ANN001
        self.index = SourceIndex(location, encoder=encoder)
        self.tracer = Tracer(self.index)
        nli = None
        if nli_model:
            from unspun.provenance.nli import NLIJudge

            nli = NLIJudge(nli_model)
        self._nli = nli
        self._checker: ClaimChecker | None = None

    @property
    def checker(self) -> ClaimChecker:
        if self._checker is None:
            self._checker = ClaimChecker(self.index.encoder, self._nli)
        return self._checker

    def trace(
        self,
        title: str | None,
        text: str,
        *,
        top: int = 5,
        date: str | None = None,
        subtitle: str | None = None,
    ) -> list[Candidate]:
        return self.tracer.trace(title, text, top=top, date=date, subtitle=subtitle)

    def evidence_sources(self, candidates: list[Candidate]) -> list[Candidate]:
        if not candidates or candidates[0].score < MIN_SOURCE_SCORE:
            return []
        best = candidates[0].score
        return [c for c in candidates if c.score >= max(MIN_SOURCE_SCORE, best - SOURCE_MARGIN)][
            :CLAIM_SOURCES
        ]

    def claims(
        self, body: str, candidates: list[Candidate], *, published: str | None = None
    ) -> list[ClaimResult]:
        """Claims of ``body`` labelled against the best candidates, plus inner contradictions."""
        chosen = self.evidence_sources(candidates)
        if chosen:
            sources = [
                prepare_source(c.stored, self.index.store, self.index.encoder) for c in chosen
            ]
            results = self.checker.check(body, sources, published=published)
        else:
            results = [
                ClaimResult(
                    s, e, body[s:e], "not_checkable", "no source in the index matches this article"
                )
                for s, e in claim_spans(body)
            ]
        return merge_inconsistencies(body, results, published)

    def annotate(self, article: Article, report: Report, top: int = 5) -> None:
        """Fill ``report.sources`` and ``report.claims`` (offsets index into ``article.body``)."""
        from unspun.report import ClaimInfo, SourceInfo

        body = article.body
        candidates = self.trace(
            article.title, body, top=top, date=article.date, subtitle=article.subtitle
        )
        report.sources = [SourceInfo(**c.as_dict()) for c in candidates]
        report.claims = [
            ClaimInfo(**r.as_dict()) for r in self.claims(body, candidates, published=article.date)
        ]

    def close(self) -> None:
        self.index.close()


def merge_inconsistencies(
    body: str, results: list[ClaimResult], published: str | None
) -> list[ClaimResult]:
    """Contradictions inside the article become ``contradicted`` claims with no evidence; a sentence
    the sources already contradict keeps that label and gains the extra reason."""
    spans = [(r.start, r.end) for r in results]
    by_span = {(r.start, r.end): r for r in results}
    for finding in find_inconsistencies(body, spans, published):
        claim = by_span.get((finding.start, finding.end))
        if claim is None:
            continue
        if claim.status == "contradicted":
            claim.reason = f"{claim.reason}; {finding.reason}"
        else:
            claim.status, claim.reason, claim.evidence = "contradicted", finding.reason, None
    return results

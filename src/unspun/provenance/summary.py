"""The claims of a report at a glance: "N contradicted, M unsupported, K supported by SOURCE"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from unspun.report import ClaimInfo, SourceInfo

TITLE_CHARS = 60
# The traced source is taken for the article's own source, so that the claims it contradicts or
# does not support count against the article, when it supports at least SUPPORTED_FOR_SOURCE of the
# article's claims or was traced with a score of at least SOURCE_SCORE. A human article traced to
# another story on the same topic meets neither (docs/assessment.md).
SOURCE_SCORE = 0.9
SUPPORTED_FOR_SOURCE = 2


def claim_sources(claims: Sequence[ClaimInfo], sources: Sequence[SourceInfo]) -> list[SourceInfo]:
    """The traced sources the claims were checked against, best first: those quoted as evidence,
    or the top candidate when claims were judged against it without a quote."""
    quoted = {c.evidence.source_id for c in claims if c.evidence is not None}
    used = [source for source in sources if source.id in quoted]
    # "unsupported" with no quote still means a source was read; "not_checkable" and internal
    # contradictions (no evidence) do not.
    judged = any(c.status in ("supported", "unsupported") for c in claims)
    if not used and judged and sources:
        used = [sources[0]]
    return used


def traced_to_own_source(
    claims: Sequence[ClaimInfo] | None, sources: Sequence[SourceInfo] | None
) -> bool:
    """Whether the source the claims were checked against is the article's own source (see
    SOURCE_SCORE): only then do its contradicted and unsupported claims say something about the
    article rather than about a neighbouring story."""
    if not claims or not sources:
        return False
    used = claim_sources(claims, sources)
    if not used:
        return False
    supported = sum(c.status == "supported" for c in claims)
    return supported >= SUPPORTED_FOR_SOURCE or max(s.score for s in used) >= SOURCE_SCORE


def not_own_source_note(claims: Sequence[ClaimInfo], sources: Sequence[SourceInfo]) -> str:
    """Why the claims were not counted: the traced source may be another story."""
    used = claim_sources(claims, sources)
    supported = sum(c.status == "supported" for c in claims)
    score = max((s.score for s in used), default=0.0)
    return (
        f"the traced source may be another story on the same topic (it supports "
        f"{supported} of the claims, score {score:.2f}; counted from {SUPPORTED_FOR_SOURCE} "
        f"supported or a score of {SOURCE_SCORE:g})"
    )


def source_name(source: SourceInfo) -> str:
    if not source.title:
        return source.id
    title = " ".join(source.title.split())
    if len(title) > TITLE_CHARS:
        title = title[: TITLE_CHARS - 1].rstrip() + "…"
    return f"“{title}” ({source.id})"


def sources_phrase(sources: Sequence[SourceInfo]) -> str:
    return " and ".join(source_name(source) for source in sources)


def claims_summary(
    claims: Sequence[ClaimInfo] | None, sources: Sequence[SourceInfo] | None
) -> str | None:
    """One line on the claims; None when claims were not checked (no index)."""
    if claims is None:
        return None
    if not claims:
        return "no check-worthy claims found"
    used = claim_sources(claims, sources or [])
    # A contradiction without a quoted source sentence was found inside the article itself.
    internal = sum(c.status == "contradicted" and c.evidence is None for c in claims)
    counts = Counter(c.status for c in claims)
    parts = []
    if used:
        parts.append(
            f"{counts['contradicted'] - internal} contradicted, {counts['unsupported']} "
            f"unsupported, {counts['supported']} supported by {sources_phrase(used)}"
        )
    else:
        parts.append("no source in the index matches this article")
    if used and not traced_to_own_source(claims, sources):
        parts.append(not_own_source_note(claims, sources or []))
    if internal:
        parts.append(f"{internal} contradicted within the article itself")
    if counts["not_checkable"]:
        parts.append(f"{counts['not_checkable']} not checkable")
    return "; ".join(parts)

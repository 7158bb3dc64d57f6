"""The claims of a report at a glance: "N contradicted, M unsupported, K supported by SOURCE"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from unspun.report import ClaimInfo, SourceInfo

TITLE_CHARS = 60


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
    if internal:
        parts.append(f"{internal} contradicted within the article itself")
    if counts["not_checkable"]:
        parts.append(f"{counts['not_checkable']} not checkable")
    return "; ".join(parts)

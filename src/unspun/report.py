"""The Report: one typed object per checked article; its JSON form is the public contract
``unspun.report/2`` (add fields, never rename them within a version; ``to_v1_dict`` gives the
previous version's shape for old clients)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field, field_serializer

SCHEMA = "unspun.report/2"
SCHEMA_V1 = "unspun.report/1"


class DetectorInfo(BaseModel):
    name: str
    version: str
    # Language-model detectors: the model that read the text and the dtype it computed in
    # (bfloat16 on CPUs and GPUs that have it, else float32; the verdict does not depend on it).
    model: str | None = None
    dtype: str | None = None
    # Tokens read and tokens left unread (a detector that reads only the beginning says so).
    tokens_scored: int | None = None
    tokens_not_scored: int | None = None
    # A very long text is scored on its beginning only (a bounded part, so that time grows
    # linearly with the input at most): characters of the normalised text left out, if any.
    chars_scored: int | None = None
    chars_not_scored: int | None = None


class ArticleInfo(BaseModel):
    title: str | None = None
    subtitle: str | None = None
    author: str | None = None
    date: str | None = None
    url: str | None = None
    site: str | None = None
    body: str


class SignalInfo(BaseModel):
    id: str = Field(description="stable identifier, e.g. 'duplicated_headline'")
    message: str = Field(description="what was found, in plain English")
    start: int | None = Field(None, description="offset into article.body, null if not in the body")
    end: int | None = None
    text: str | None = Field(None, description="the text the signal is about, when useful")
    count: int = 1


class PassageInfo(BaseModel):
    start: int
    end: int
    text: str
    score: float = Field(
        description="machine-likeness of this passage, higher = more machine: with a calibrated "
        "detector its human percentile (the share of the human reference texts, whole "
        "documents, that score lower than this passage does), else the detector's raw score"
    )


class TokenInfo(BaseModel):
    start: int
    end: int
    text: str
    logprob: float
    rank: int
    entropy: float


class SourceInfo(BaseModel):
    id: str
    title: str | None = None
    url: str | None = None
    date: str | None = None
    score: float
    reason: str
    headline_similarity: float | None = Field(
        default=None,
        description="cosine of the article's title or sub-headline with this source's title or "
        "lead (0..1); null when the article has no headline",
    )


class EvidenceInfo(BaseModel):
    source_id: str
    text: str


class ClaimInfo(BaseModel):
    start: int
    end: int
    text: str
    status: Literal["supported", "unsupported", "contradicted", "not_checkable"]
    evidence: EvidenceInfo | None = None
    reason: str


class MeasuredRateInfo(BaseModel):
    domain: str
    human_texts: int = Field(description="human reference texts of this domain")
    flagged: int = Field(description="how many of them reach the threshold")
    false_positive_rate: float
    interval: tuple[float, float] = Field(description="95% Wilson interval of that rate")


class CalibrationInfo(BaseModel):
    """What the threshold rests on: the human reference texts and how many of them it flags."""

    reference: str = Field(description="what the human reference texts are")
    human_texts: int
    flagged: int
    false_positive_rate: float = Field(description="measured on the reference texts")
    interval: tuple[float, float] = Field(description="95% Wilson interval of that rate")
    domains: list[MeasuredRateInfo] = []


class Evidence(BaseModel):
    """One piece of evidence the assessment weighed (not a claim's quoted source sentence, which
    is ``EvidenceInfo``)."""

    kind: Literal["detector", "signal", "source", "claims"]
    message: str = Field(description="what was found, in plain English")
    strength: Literal["strong", "moderate", "weak"]
    points_to: Literal["spun", "not_spun"] = Field(
        "spun",
        description="'not_spun' marks counter-evidence, listed for the reader but never counted",
    )


class Assessment(BaseModel):
    """One answer a person can act on, weighing the verdict, the signals and the claims."""

    label: Literal["likely_spun", "possibly_spun", "no_sign", "uncertain"]
    summary: str = Field(description="the label in a sentence, naming the evidence behind it")
    evidence: list[Evidence] = []


class FetchInfo(BaseModel):
    """What was fetched, for an article read from a URL (``unspun check URL``, ``/v1/check`` with
    only a ``url``)."""

    url: str = Field(description="the URL as given")
    final_url: str = Field(description="where it led after redirects (also article.url)")
    status: int = Field(description="the HTTP status of the final answer")
    fetched_at: str = Field(description="when, in UTC (ISO 8601)")
    content_type: str | None = Field(None, description="the media type the server declared")
    charset: str | None = Field(
        None, description="the charset the page was decoded with (null: detected)"
    )
    redirects: int = Field(0, description="redirects followed")


class Report(BaseModel):
    schema_: Literal["unspun.report/2"] = Field(SCHEMA, alias="schema")
    verdict: Literal["machine", "not_flagged", "uncertain"] = Field(
        description="the detector's verdict at target_fpr: 'machine' (flagged), 'not_flagged' "
        "(below the threshold: no sign of machine writing, which is not proof of a human "
        "author) or 'uncertain' (grey zone, too short, out of domain, or no calibration)"
    )
    reason: str | None = None
    human_percentile: float | None = Field(
        description="share of the human reference texts that score lower than this article "
        "(0..1), e.g. 0.82: higher than 82% of them. Not a probability of machine writing. "
        "null without a calibration"
    )
    threshold: float | None = Field(
        description="the human percentile from which an article is flagged 'machine' at "
        "target_fpr (null without a calibration)"
    )
    target_fpr: float
    detector: DetectorInfo
    scores: dict[str, float]
    article: ArticleInfo
    signals: list[SignalInfo] = []
    passages: list[PassageInfo] = []
    tokens: list[TokenInfo] | None = None
    sources: list[SourceInfo] | None = None
    claims: list[ClaimInfo] | None = None
    calibration: CalibrationInfo | None = None
    # Added to unspun.report/1 later (additive): reports of older versions lack them.
    assessment: Assessment | None = None
    grey_threshold: float | None = Field(
        None,
        description="the human percentile from which a score is in the grey zone (verdict "
        "'uncertain'), on the same scale as human_percentile, threshold and passage scores",
    )
    claims_summary: str | None = Field(
        None,
        description="the claims at a glance: 'N contradicted, M unsupported, K supported by …'",
    )
    fetch: FetchInfo | None = Field(
        None, description="for an article fetched from a URL: what was fetched, and from where"
    )

    model_config = {"populate_by_name": True}

    @field_serializer("human_percentile", "threshold", "grey_threshold")
    def _finite_or_null(self, value: float | None) -> float | None:
        # NaN is not JSON; an uncalibrated detector has no percentile or threshold.
        return None if value is None or math.isnan(value) else round(value, 6)

    def to_json_dict(self) -> dict:
        return self.model_dump(mode="json", by_alias=True, exclude_none=False)

    def to_v1_dict(self) -> dict:
        """The report in the shape of ``unspun.report/1``, for clients written against it: the
        human percentile under both of its old names (``machine_probability``, which was never a
        probability, and ``human_share_below``) and the verdict ``human`` for ``not_flagged``."""
        return report_v1(self.to_json_dict())

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(by_alias=True, indent=indent)


def report_v1(report: dict) -> dict:
    """A ``unspun.report/2`` JSON object in the ``unspun.report/1`` shape (see ``to_v1_dict``);
    the field order of version 1 is kept."""
    old: dict = {}
    for key, value in report.items():
        if key == "schema":
            old[key] = SCHEMA_V1
        elif key == "verdict":
            old[key] = "human" if value == "not_flagged" else value
        elif key == "human_percentile":
            old["machine_probability"] = value
        else:
            old[key] = value
    old["human_share_below"] = report.get("human_percentile")
    return old

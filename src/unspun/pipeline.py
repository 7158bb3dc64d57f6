"""The single path from an Article to a Report: normalise, detect, calibrate, trace, report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from unspun.article.model import Article, Signal
from unspun.assessment import assess
from unspun.detect.base import Detector, Scores, create_detector
from unspun.detect.calibration import (
    GREY_FACTOR,
    Calibration,
    MeasuredRate,
    decide,
    find_calibration,
)
from unspun.detect.domain import abstain_reason
from unspun.errors import ConfigError
from unspun.normalize import Normalized, normalize
from unspun.provenance.summary import claims_summary
from unspun.report import (
    ArticleInfo,
    CalibrationInfo,
    DetectorInfo,
    MeasuredRateInfo,
    PassageInfo,
    Report,
    SignalInfo,
    TokenInfo,
)
from unspun.wording import cut_at_space

DEFAULT_DETECTOR = "default"
# The most characters of an article's (normalised) text a detector scores: ~16,000 words, longer
# than nearly any news article. Beyond it only the beginning is scored and the report says so,
# which keeps the cost of a huge input bounded (reading and signals stay linear in its size).
MAX_SCORED_CHARS = 100_000


@dataclass
class CheckConfig:
    """Everything that changes what ``check`` does. Front ends build one from their options."""

    detector: str = DEFAULT_DETECTOR
    detector_options: dict[str, Any] = field(default_factory=dict)
    target_fpr: float = 0.01
    min_words: int = 50
    index: str | None = None
    top_sources: int = 5
    tokens: bool = True
    max_scored_chars: int = MAX_SCORED_CHARS


class Checker:
    """Holds the loaded detector (and index) so many articles can be checked without reloading."""

    def __init__(self, config: CheckConfig | None = None, *, detector: Detector | None = None):
        self.config = config or CheckConfig()
        if self.config.max_scored_chars < 1:
            raise ConfigError(
                f"max_scored_chars must be at least 1, got {self.config.max_scored_chars}"
            )
        self.detector = detector or create_detector(
            self.config.detector, **self.config.detector_options
        )
        self.calibration: Calibration | None = find_calibration(self.detector)
        self.calibration_info: CalibrationInfo | None = None
        if self.calibration is not None:
            self.calibration.check_target_fpr(self.config.target_fpr)
            self.calibration_info = calibration_info(self.calibration, self.config.target_fpr)
        self.provenance = None
        if self.config.index:
            from unspun.provenance import Provenance

            self.provenance = Provenance(self.config.index)

    def check(self, article: Article) -> Report:
        return self.check_many([article])[0]

    def check_many(self, articles: Sequence[Article]) -> list[Report]:
        """Check articles in one batch through the detector (the fast path for scans and APIs)."""
        normalized = [normalize(article.body) for article in articles]
        scored = [scored_part(n.text, self.config.max_scored_chars) for n in normalized]
        scores = self.detector.score(scored)
        reports = []
        abstained = []
        for article, norm, part, score in zip(articles, normalized, scored, scores, strict=True):
            abstain = abstain_reason(
                norm.text, min_words=self.config.min_words, boilerplate=removed_boilerplate(article)
            )
            report = self._report(article, norm, score, abstain)
            if len(part) < len(norm.text):
                report.detector.chars_scored = len(part)
                report.detector.chars_not_scored = len(norm.text) - len(part)
            reports.append(report)
            # decide() gives "uncertain" without a judgement in exactly these cases; otherwise
            # "uncertain" is the grey zone, which the assessment weighs.
            abstained.append(
                abstain is not None or self.calibration is None or not math.isfinite(score.document)
            )
        for article, report, no_judgement in zip(articles, reports, abstained, strict=True):
            if self.provenance is not None:
                self.provenance.annotate(article, report, top=self.config.top_sources)
                report.claims_summary = claims_summary(report.claims, report.sources)
            report.assessment = assess(report, detector_abstained=no_judgement)
        return reports

    def _report(
        self, article: Article, norm: Normalized, scores: Scores, abstain: str | None
    ) -> Report:
        name = self.detector.name
        decision = decide(
            scores.document,
            self.calibration,
            self.config.target_fpr,
            abstain=abstain,
        )
        raw = {name: scores.document}
        raw.update({f"{name}.{key}": value for key, value in scores.raw.items()})
        return Report(
            verdict=decision.verdict,
            reason=decision.reason,
            human_percentile=_finite_or_none(decision.human_percentile),
            threshold=_finite_or_none(decision.threshold),
            grey_threshold=self._grey_threshold(),
            target_fpr=decision.target_fpr,
            detector=detector_info(self.detector, scores),
            scores={key: value for key, value in raw.items() if math.isfinite(value)},
            article=article_info(article),
            signals=[_signal_info(s) for s in [*article.signals, *norm.signals]],
            passages=self._passages(article.body, norm, scores),
            tokens=self._tokens(article.body, norm, scores) if self.config.tokens else None,
            calibration=self.calibration_info,
        )

    def _grey_threshold(self) -> float | None:
        """Where the grey zone starts, as a human percentile (the same rule as decide())."""
        if self.calibration is None:
            return None
        grey_fpr = min(0.5, self.config.target_fpr * GREY_FACTOR)
        return self.calibration.percentile(self.calibration.threshold(grey_fpr))

    def _passages(self, body: str, norm: Normalized, scores: Scores) -> list[PassageInfo]:
        passages = []
        for passage in scores.passages:
            start, end = norm.to_original(passage.start, passage.end)
            value = passage.score
            if self.calibration is not None:
                value = self.calibration.percentile(value)
            passages.append(PassageInfo(start=start, end=end, text=body[start:end], score=value))
        return passages

    def _tokens(self, body: str, norm: Normalized, scores: Scores) -> list[TokenInfo] | None:
        if scores.tokens is None:
            return None
        tokens = []
        for token in scores.tokens:
            start, end = norm.to_original(token.start, token.end)
            tokens.append(
                TokenInfo(
                    start=start,
                    end=end,
                    text=body[start:end],
                    logprob=token.logprob,
                    rank=token.rank,
                    entropy=token.entropy,
                )
            )
        return tokens


def article_info(article: Article) -> ArticleInfo:
    """The article as a report (or trace answer) shows it."""
    return ArticleInfo(
        title=article.title,
        subtitle=article.subtitle,
        author=article.author,
        date=article.date,
        url=article.url,
        site=article.site,
        body=article.body,
    )


def scored_part(text: str, limit: int) -> str:
    """The beginning of ``text`` a detector scores: all of it up to ``limit`` characters, else
    cut at a word boundary before the limit."""
    return cut_at_space(text, limit)


def _finite_or_none(value: float) -> float | None:
    # An uncalibrated detector has no percentile or threshold: None in the report, null in JSON.
    return value if math.isfinite(value) else None


def removed_boilerplate(article: Article) -> str | None:
    """The site boilerplate the parser took out of the page (menus, share buttons, notices)."""
    removed = [s.text for s in article.signals if s.id == "boilerplate_removed" and s.text]
    return "\n".join(removed) or None


def _signal_info(signal: Signal) -> SignalInfo:
    return SignalInfo(
        id=signal.id,
        message=signal.message,
        start=signal.start,
        end=signal.end,
        text=signal.text,
        count=signal.count,
    )


_CHECKERS: dict[str, Checker] = {}


def check(article: Article, config: CheckConfig | None = None) -> Report:
    """Check one article. Loaded models are kept per configuration for the life of the process."""
    config = config or CheckConfig()
    key = repr(sorted(vars(config).items(), key=lambda item: item[0]))
    if key not in _CHECKERS:
        _CHECKERS[key] = Checker(config)
    return _CHECKERS[key].check(article)


def detector_info(detector: Detector, scores: Scores) -> DetectorInfo:
    """Name and version, and for language-model detectors the model, dtype and tokens read."""
    primary = getattr(detector, "primary", None)
    read = scores.raw.get("tokens")
    unread = scores.raw.get("tokens_not_scored")
    return DetectorInfo(
        name=detector.name,
        version=detector.version,
        model=getattr(primary, "name", None),
        dtype=getattr(primary, "dtype_name", None),
        tokens_scored=int(read) if read is not None and math.isfinite(read) else None,
        tokens_not_scored=int(unread) if unread else None,
    )


def calibration_info(calibration: Calibration, target_fpr: float) -> CalibrationInfo:
    """The human reference texts behind the threshold at ``target_fpr`` and how many it flags."""
    overall, *domains = calibration.measured_rates(calibration.threshold(target_fpr))
    return CalibrationInfo(
        reference=calibration.reference,
        **_rate_fields(overall),
        domains=[MeasuredRateInfo(domain=rate.domain, **_rate_fields(rate)) for rate in domains],
    )


def _rate_fields(rate: MeasuredRate) -> dict[str, Any]:
    low, high = rate.interval
    return {
        "human_texts": rate.texts,
        "flagged": rate.flagged,
        "false_positive_rate": round(rate.rate, 6),
        "interval": (round(low, 6), round(high, 6)),
    }

"""A score on the human reference scale, in words: how many people's texts it beats, and where
the threshold sits, so a percentile is never read as a probability of machine writing."""

from __future__ import annotations

from unspun.report import Report


def human_comparison(report: Report) -> str | None:
    """'higher than 96% of the 336 human reference texts' (None without a calibration)."""
    share = report.human_percentile
    if share is None or report.calibration is None:
        return None
    texts = report.calibration.human_texts
    if share >= 1:
        return f"higher than all {texts} human reference texts"
    return f"higher than {percent(share)} of the {texts} human reference texts"


def percent(share: float) -> str:
    """96% / 99.4% / 99.97%: decimals near the top, so a share below one never reads as 100%."""
    if share >= 1:
        return "100%"
    digits = 0 if share < 0.99 else 1
    while digits < 4 and float(f"{share * 100:.{digits}f}") >= 100:
        digits += 1
    return f"{share * 100:.{digits}f}%"


def score_in_words(report: Report) -> str | None:
    """What the human percentile means, e.g. 'scores higher than 96% of the
    336 human reference texts; flagged only above 99.1% of them'."""
    compared = human_comparison(report)
    if compared is None:
        return None
    text = f"scores {compared}"
    if report.calibration is not None and report.threshold is not None:
        flagged = report.calibration.false_positive_rate
        above = "all" if flagged <= 0 else percent(1 - flagged)
        text += f"; flagged only above {above} of them"
    return text

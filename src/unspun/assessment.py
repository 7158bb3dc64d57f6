"""The assessment: weighs the machine-writing verdict, the template signals and, with an index,
the traced source and its claims into one label a person can act on, naming the evidence.

The rules, kept simple so a reader can check them by hand:

- Detector: verdict ``machine`` is strong evidence, the grey zone (``uncertain`` with a score) is
  moderate; ``human`` is listed as counter-evidence and never counted; an abstention (too short,
  out of domain, uncalibrated) gives no evidence either way.
- Signals, by how specific they are to content farms (``SIGNAL_STRENGTH``): a chatbot leftover, a
  duplicated headline, template placeholders, pasted SEO fields and evasion characters (three or
  more look-alike or invisible characters) are strong; a body cut off mid-sentence, a single-name
  byline, removed boilerplate, a repeated paragraph and raw Markdown/HTML are moderate; the rest
  are weak. Each signal kind counts once, however often it occurs.
- Source and claims (with an index): a traced source contradicting two or more claims is strong
  (one contradiction is weak: stories develop, and the claim check can err); three or more
  unsupported claims are moderate; contradictions inside the article itself are moderate. Claims
  that mostly agree with the source (three or more supported, none contradicted) are listed as
  counter-evidence. Contradicted and unsupported claims count only when the traced source is the
  article's own source: it supports two or more of the claims, or it was traced with a score of
  0.9 or more (``summary.traced_to_own_source``); otherwise they are listed as weak evidence, since
  a human article traced to another story on the same topic would be marked down for that
  story's differences.
- Label: ``likely_spun`` with two strong, or one strong and two moderate; ``possibly_spun`` with
  one strong or two moderate; otherwise ``uncertain`` when the detector abstained, else
  ``no_sign``. Weak evidence is listed but never changes the label, so an ordinary article with a
  missing byline or one moderate signal stays ``no_sign``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from unspun.human_scale import human_comparison
from unspun.provenance.summary import (
    claim_sources,
    not_own_source_note,
    sources_phrase,
    traced_to_own_source,
)
from unspun.report import Assessment, Evidence, Report, SignalInfo

Strength = Literal["strong", "moderate", "weak"]
Label = Literal["likely_spun", "possibly_spun", "no_sign", "uncertain"]

# Every signal kind of article/signals.py and normalize.py; None: says nothing about spinning.
SIGNAL_STRENGTH: dict[str, Strength | None] = {
    "chatbot_leftover": "strong",
    "duplicated_headline": "strong",
    "placeholder_text": "strong",
    "seo_leftover": "strong",
    "lookalike_characters": "strong",
    "invisible_characters": "strong",
    "body_cut_off": "moderate",
    "single_name_byline": "moderate",
    "boilerplate_removed": "moderate",
    "repeated_paragraph": "moderate",
    "markup_leftover": "moderate",
    # "Staff" and "Editor" bylines are common on honest local news too.
    "generic_byline": "weak",
    "missing_byline": "weak",
    "repeated_sentence": "weak",
    "mojibake": "weak",
    "soft_hyphens": "weak",
    "unusual_whitespace": "weak",
    "extra_whitespace": "weak",
    "encoding_guessed": None,
}
# One or two stray characters come from copy-paste and keyboard layouts; evasion inserts many.
EVASION_SIGNALS = frozenset({"lookalike_characters", "invisible_characters"})
EVASION_MIN_COUNT = 3
CONTRADICTED_STRONG = 2
UNSUPPORTED_MODERATE = 3
SUPPORTED_COUNTER = 3
# Unknown signal kinds (from plugins or newer parsers) are listed without moving the label.
UNKNOWN_SIGNAL: Strength = "weak"

LABEL_WORDS = {
    "likely_spun": "Likely spun",
    "possibly_spun": "Possibly spun",
    "no_sign": "No sign of spinning",
    "uncertain": "Uncertain",
}


@dataclass(frozen=True)
class Finding:
    """An evidence line with the short name the summary quotes it by."""

    evidence: Evidence
    name: str

    @property
    def counts(self) -> bool:
        return self.evidence.points_to == "spun"


def assess(report: Report, *, detector_abstained: bool) -> Assessment:
    """The assessment of a finished report (after provenance, when there is an index).
    ``detector_abstained``: the verdict is ``uncertain`` because the detector gave no judgement
    (too short, out of domain, uncalibrated, unreadable), not because it scored in the grey zone."""
    findings = [
        *detector_findings(report, abstained=detector_abstained),
        *signal_findings(report.signals),
        *provenance_findings(report),
    ]
    strong = [f for f in findings if f.counts and f.evidence.strength == "strong"]
    moderate = [f for f in findings if f.counts and f.evidence.strength == "moderate"]
    label = choose_label(len(strong), len(moderate), detector_abstained=detector_abstained)
    order = {"strong": 0, "moderate": 1, "weak": 2}
    findings.sort(key=lambda f: (not f.counts, order[f.evidence.strength]))
    return Assessment(
        label=label,
        summary=summarize(
            label, findings, abstain_reason=report.reason, claims_checked=bool(report.claims)
        ),
        evidence=[f.evidence for f in findings],
    )


def choose_label(strong: int, moderate: int, *, detector_abstained: bool) -> Label:
    if strong >= 2 or (strong == 1 and moderate >= 2):
        return "likely_spun"
    if strong == 1 or moderate >= 2:
        return "possibly_spun"
    # "No sign" needs the detector to have read the text.
    return "uncertain" if detector_abstained else "no_sign"


def detector_findings(report: Report, *, abstained: bool) -> list[Finding]:
    if abstained:
        return []
    compared = human_comparison(report)
    detail = f" (the text scores {compared})" if compared else ""
    if report.verdict == "machine":
        return [
            Finding(
                Evidence(
                    kind="detector",
                    strength="strong",
                    message=f"The machine-writing detector flags it at its calibrated "
                    f"threshold{detail}",
                ),
                "machine-writing verdict",
            )
        ]
    if report.verdict == "uncertain":
        return [
            Finding(
                Evidence(
                    kind="detector",
                    strength="moderate",
                    message=f"The machine-writing detector scores it in its grey zone, below "
                    f"the threshold{detail}",
                ),
                "machine-writing score in the grey zone",
            )
        ]
    return [
        Finding(
            Evidence(
                kind="detector",
                strength="weak",
                points_to="not_spun",
                message=f"The machine-writing detector finds no sign of machine writing{detail}; "
                "rewritten or spun text often passes it",
            ),
            "no sign of machine writing",
        )
    ]


def signal_strength(signal: SignalInfo, count: int) -> Strength | None:
    strength = SIGNAL_STRENGTH.get(signal.id, UNKNOWN_SIGNAL)
    if signal.id in EVASION_SIGNALS and count < EVASION_MIN_COUNT:
        return "weak"
    return strength


def signal_findings(signals: Sequence[SignalInfo]) -> list[Finding]:
    """One finding per signal kind, in the order the signals were found."""
    counts: Counter[str] = Counter()
    first: dict[str, SignalInfo] = {}
    for signal in signals:
        counts[signal.id] += signal.count
        first.setdefault(signal.id, signal)
    findings = []
    for kind, signal in first.items():
        strength = signal_strength(signal, counts[kind])
        if strength is None:
            continue
        occurrences = sum(s.id == kind for s in signals)
        more = f" ({occurrences} places)" if occurrences > 1 else ""
        findings.append(
            Finding(
                Evidence(kind="signal", strength=strength, message=signal.message + more),
                kind.replace("_", " "),
            )
        )
    return findings


def provenance_findings(report: Report) -> list[Finding]:
    claims = report.claims
    if not claims:
        return []
    counts = Counter(c.status for c in claims)
    internal = sum(c.status == "contradicted" and c.evidence is None for c in claims)
    by_source = counts["contradicted"] - internal
    sources = claim_sources(claims, report.sources or [])
    named = sources_phrase(sources) if sources else "the traced source"
    # Only the article's own source can show what the article changed or made up.
    own = traced_to_own_source(claims, report.sources)
    caveat = "" if own else f" (not counted: {not_own_source_note(claims, report.sources or [])})"
    findings = []
    if by_source:
        strength: Strength = "strong" if by_source >= CONTRADICTED_STRONG and own else "weak"
        findings.append(
            Finding(
                Evidence(
                    kind="source",
                    strength=strength,
                    message=f"The article traces to {named}, which contradicts "
                    f"{_claims(by_source)} it makes{caveat}",
                ),
                f"{_claims(by_source)} contradicted by its source",
            )
        )
    if counts["unsupported"] >= UNSUPPORTED_MODERATE and sources:
        findings.append(
            Finding(
                Evidence(
                    kind="claims",
                    strength="moderate" if own else "weak",
                    message=f"{_claims(counts['unsupported'])} that {named} does not support "
                    f"(details the story it retells does not have){caveat}",
                ),
                f"{_claims(counts['unsupported'])} unsupported by its source",
            )
        )
    if internal:
        findings.append(
            Finding(
                Evidence(
                    kind="claims",
                    strength="moderate",
                    message=f"{_claims(internal)} contradicted by the article itself "
                    "(dates or figures that do not agree)",
                ),
                f"{_claims(internal)} contradicted within the article",
            )
        )
    agrees = counts["supported"] >= max(SUPPORTED_COUNTER, counts["unsupported"])
    if agrees and not counts["contradicted"] and sources:
        findings.append(
            Finding(
                Evidence(
                    kind="claims",
                    strength="weak",
                    points_to="not_spun",
                    message=f"{_claims(counts['supported'])} supported by {named}, "
                    "none contradicted",
                ),
                "claims supported by its source",
            )
        )
    return findings


def summarize(
    label: Label,
    findings: Sequence[Finding],
    *,
    abstain_reason: str | None,
    claims_checked: bool = False,
) -> str:
    strong = [f.name for f in findings if f.counts and f.evidence.strength == "strong"]
    moderate = [f.name for f in findings if f.counts and f.evidence.strength == "moderate"]
    weak = [f.name for f in findings if f.counts and f.evidence.strength == "weak"]
    against = [f.name for f in findings if not f.counts]
    words = LABEL_WORDS[label]
    if label in ("likely_spun", "possibly_spun"):
        parts = []
        if strong:
            parts.append(f"{_count(len(strong), 'strong sign')} ({'; '.join(strong)})")
        if moderate:
            parts.append(f"{_count(len(moderate), 'moderate sign')} ({'; '.join(moderate)})")
        text = f"{words}: {' and '.join(parts)}."
    else:
        slight = [*(f"{n} (moderate)" for n in moderate), *(f"{n} (weak)" for n in weak)]
        if label == "uncertain":
            why = abstain_reason or "it gave no judgement"
            text = f"{words}: the machine-writing detector could not judge this text ({why}); "
        else:
            text = f"{words}: "
        if slight:
            text += f"only signs too slight to count on their own: {'; '.join(slight)}."
        else:
            checked = ["no template signal"]
            if claims_checked:
                checked.append("no claim contradicted")
            text += f"{', '.join(checked)}."
    if against:
        text += f" Against a spin: {'; '.join(against)}."
    return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _claims(n: int) -> str:
    return _count(n, "claim")

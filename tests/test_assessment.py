"""The assessment: the written-down rules on hand-built reports, what the terminal and scan rows
show of it, and end to end on the project's spun example (with an index), the seed article and a
plain human news article."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from unspun.article.signals import SIGNAL_IDS as TEMPLATE_SIGNALS
from unspun.assessment import SIGNAL_STRENGTH, assess
from unspun.human_scale import percent
from unspun.normalize import SIGNAL_IDS as EVASION_SIGNALS
from unspun.provenance.summary import claims_summary
from unspun.report import (
    ArticleInfo,
    CalibrationInfo,
    ClaimInfo,
    DetectorInfo,
    EvidenceInfo,
    Report,
    SignalInfo,
    SourceInfo,
)

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "examples" / "reference-corpus.jsonl"
SPUN = REPO / "examples" / "spun-article.txt"
# The fast MiniLM detector: the labels below come from signals and claims, not from which
# machine-writing detector is the default.
DETECTOR = "encoder"

HUMAN_NEWS = """Library extends opening hours after readers' petition

By Margaret Olsen

Published: 2025-03-14

The central library in Harwick will stay open until eight in the evening on weekdays from next \
month, the town council said on Thursday, after more than 1,200 residents signed a petition \
asking for later hours.

The change follows a year of complaints from students and shift workers, who said the old \
closing time of half past five left them no chance to use the reading rooms or borrow books \
after work. "We heard them," said councillor Rita Banks, who chairs the culture committee. "A \
library that shuts before people get home is not much use to them."

The extra hours will cost about £40,000 a year, which the council will cover by renting the \
upstairs meeting room to local groups in the evenings. Two part-time assistants will be hired, \
and volunteers from the Friends of Harwick Library have offered to help run a homework club on \
Tuesdays and Thursdays.

Not everyone is convinced. Opposition councillor Tom Reeve said the money would be better spent \
repairing the library's leaking roof, which has closed the children's section twice this \
winter. The council said the roof would be fixed in the summer.

The new hours start on 1 April.
"""

BODY = "One sentence of the article. Another sentence follows it. " * 10
SOURCE = SourceInfo(
    id="wire-1", title="Dock workers strike at the port", score=0.95, reason="same headline"
)


def signal(kind: str, count: int = 1) -> SignalInfo:
    return SignalInfo(id=kind, message=f"found {kind}", count=count)


def claim(status: str, source: str | None = "wire-1") -> ClaimInfo:
    evidence = EvidenceInfo(source_id=source, text="what the source says") if source else None
    return ClaimInfo(start=0, end=12, text=BODY[:12], status=status, evidence=evidence, reason="r")


def report(
    verdict: str = "not_flagged",
    *,
    signals: list[SignalInfo] | None = None,
    claims: list[ClaimInfo] | None = None,
    reason: str | None = None,
    share: float = 0.4,
) -> Report:
    return Report(
        verdict=verdict,
        reason=reason,
        human_percentile=share,
        threshold=0.99,
        grey_threshold=0.95,
        target_fpr=0.01,
        detector=DetectorInfo(name="test", version="1"),
        scores={"test": 0.0},
        article=ArticleInfo(body=BODY),
        signals=signals or [],
        sources=[SOURCE] if claims is not None else None,
        claims=claims,
        calibration=CalibrationInfo(
            reference="test texts",
            human_texts=300,
            flagged=3,
            false_positive_rate=0.01,
            interval=(0.003, 0.03),
        ),
    )


# -- the rules -----------------------------------------------------------------------------------


def test_every_signal_kind_has_a_written_down_strength():
    assert set(SIGNAL_STRENGTH) == set(TEMPLATE_SIGNALS) | set(EVASION_SIGNALS)


def test_two_strong_signs_are_likely_spun_and_the_summary_names_them():
    result = assess(
        report(signals=[signal("duplicated_headline"), signal("chatbot_leftover")]),
        detector_abstained=False,
    )
    assert result.label == "likely_spun"
    assert "duplicated headline" in result.summary and "chatbot leftover" in result.summary
    assert [e.strength for e in result.evidence[:2]] == ["strong", "strong"]


def test_one_strong_and_two_moderate_are_likely_spun():
    signals = [signal("duplicated_headline"), signal("single_name_byline"), signal("body_cut_off")]
    result = assess(report(signals=signals), detector_abstained=False)
    assert result.label == "likely_spun"
    for name in ("duplicated headline", "single name byline", "body cut off"):
        assert name in result.summary


def test_one_strong_sign_alone_is_possibly_spun():
    result = assess(report(signals=[signal("placeholder_text")]), detector_abstained=False)
    assert result.label == "possibly_spun"
    assert "1 strong sign (placeholder text)" in result.summary


def test_two_moderate_signs_are_possibly_spun():
    result = assess(
        report(signals=[signal("boilerplate_removed"), signal("body_cut_off")]),
        detector_abstained=False,
    )
    assert result.label == "possibly_spun"
    assert "boilerplate removed" in result.summary and "body cut off" in result.summary


def test_human_article_with_one_weak_or_one_moderate_sign_is_no_sign():
    weak = assess(report(signals=[signal("missing_byline")]), detector_abstained=False)
    assert weak.label == "no_sign"
    assert "missing byline (weak)" in weak.summary
    moderate = assess(report(signals=[signal("body_cut_off")]), detector_abstained=False)
    assert moderate.label == "no_sign"
    assert "body cut off (moderate)" in moderate.summary
    plain = assess(report(), detector_abstained=False)
    assert plain.label == "no_sign" and "no template signal" in plain.summary


def test_the_detector_verdict_is_weighed_and_human_is_only_counter_evidence():
    machine = assess(report("machine", share=0.997), detector_abstained=False)
    assert machine.evidence[0].kind == "detector" and machine.evidence[0].strength == "strong"
    assert "higher than 99.7% of the 300 human reference texts" in machine.evidence[0].message
    assert machine.label == "possibly_spun"
    assert "machine-writing verdict" in machine.summary
    grey = assess(
        report("uncertain", signals=[signal("single_name_byline")], share=0.96),
        detector_abstained=False,
    )
    assert grey.label == "possibly_spun" and "grey zone" in grey.summary
    human = assess(report("not_flagged"), detector_abstained=False)
    (line,) = human.evidence
    assert line.kind == "detector" and line.points_to == "not_spun"
    assert "Against a spin: no sign of machine writing" in human.summary


def test_an_abstaining_detector_with_no_other_evidence_is_uncertain():
    reason = "too short: 30 words; a verdict needs at least 50 words of body text"
    result = assess(report("uncertain", reason=reason), detector_abstained=True)
    assert result.label == "uncertain" and "too short" in result.summary
    assert result.evidence == []
    # Signs too slight to count do not turn an unread text into "no sign".
    slight = assess(
        report("uncertain", reason=reason, signals=[signal("body_cut_off")]),
        detector_abstained=True,
    )
    assert slight.label == "uncertain" and "body cut off (moderate)" in slight.summary
    # Strong signs still count when the detector cannot read the text.
    spun = assess(
        report("uncertain", reason=reason, signals=[signal("chatbot_leftover")]),
        detector_abstained=True,
    )
    assert spun.label == "possibly_spun"


def test_one_kind_counts_once_and_stray_evasion_characters_are_weak():
    repeated = [signal("chatbot_leftover"), signal("chatbot_leftover")]
    assert assess(report(signals=repeated), detector_abstained=False).label == "possibly_spun"
    stray = assess(report(signals=[signal("lookalike_characters", 1)]), detector_abstained=False)
    assert stray.label == "no_sign" and stray.evidence[0].strength == "weak"
    evasion = [signal("lookalike_characters", 12), signal("invisible_characters", 40)]
    assert assess(report(signals=evasion), detector_abstained=False).label == "likely_spun"


def test_claims_contradicted_by_the_traced_source_are_strong_and_name_it():
    claims = [claim("contradicted"), claim("contradicted"), claim("supported")]
    result = assess(
        report(signals=[signal("duplicated_headline")], claims=claims), detector_abstained=False
    )
    assert result.label == "likely_spun"
    source_line = next(e for e in result.evidence if e.kind == "source")
    assert source_line.strength == "strong"
    assert "“Dock workers strike at the port” (wire-1)" in source_line.message
    assert "2 claims contradicted by its source" in result.summary
    # One contradiction alone is weak: stories develop and the check can err.
    one = assess(
        report(claims=[claim("contradicted"), claim("supported")]), detector_abstained=False
    )
    assert one.label == "no_sign"


def test_several_unsupported_claims_and_inner_contradictions_are_moderate():
    claims = [claim("unsupported", None)] * 3 + [claim("contradicted", None), claim("supported")]
    result = assess(report(claims=claims), detector_abstained=False)
    assert result.label == "possibly_spun"
    assert "3 claims unsupported by its source" in result.summary
    assert "1 claim contradicted within the article" in result.summary


def test_claims_the_source_supports_are_counter_evidence():
    claims = [claim("supported")] * 4 + [claim("unsupported")]
    result = assess(report(claims=claims), detector_abstained=False)
    assert result.label == "no_sign"
    assert any(e.kind == "claims" and e.points_to == "not_spun" for e in result.evidence)


def test_claims_count_only_against_the_articles_own_source():
    # A human article traced to another story on the same topic (score 0.45, supporting none of
    # its claims): that story's differences say nothing about the article.
    neighbour = SOURCE.model_copy(update={"score": 0.45})
    claims = [claim("contradicted")] * 2 + [claim("unsupported")] * 3 + [claim("supported")]
    marked = report(signals=[signal("single_name_byline")], claims=claims)
    marked.sources = [neighbour]
    result = assess(marked, detector_abstained=False)
    assert result.label == "no_sign"
    claim_lines = [e for e in result.evidence if e.kind in ("source", "claims")]
    assert claim_lines and all(e.strength == "weak" for e in claim_lines)
    assert all("not counted" in e.message for e in claim_lines)
    assert "may be another story" in claims_summary(claims, [neighbour])
    # The same source supporting two of the claims is the article's source: they count.
    owned = report(signals=[signal("single_name_byline")], claims=[*claims, claim("supported")])
    owned.sources = [neighbour]
    assert assess(owned, detector_abstained=False).label == "likely_spun"
    assert "may be another story" not in claims_summary(owned.claims, [neighbour])


def test_claims_summary_counts_by_source():
    claims = [claim("contradicted")] * 2 + [claim("unsupported", None), claim("supported")]
    claims += [claim("not_checkable", None), claim("contradicted", None)]
    assert claims_summary(claims, [SOURCE]) == (
        "2 contradicted, 1 unsupported, 1 supported by “Dock workers strike at the port” "
        "(wire-1); 1 contradicted within the article itself; 1 not checkable"
    )
    assert claims_summary([claim("not_checkable", None)], [SOURCE]) == (
        "no source in the index matches this article; 1 not checkable"
    )
    assert claims_summary(None, None) is None


def test_percent_never_rounds_a_share_below_one_up_to_all():
    assert [percent(x) for x in (0.5, 0.96, 0.994, 0.9996, 1.0)] == [
        "50%",
        "96%",
        "99.4%",
        "99.96%",
        "100%",
    ]


# -- what a person sees ----------------------------------------------------------------------------


def test_terminal_shows_the_assessment_first_then_the_verdict_in_words():
    from rich.console import Console

    from unspun.render import render_report

    checked = report(
        signals=[signal("duplicated_headline"), signal("chatbot_leftover")],
        claims=[claim("contradicted"), claim("unsupported"), claim("supported")],
        share=0.96,
    )
    checked.assessment = assess(checked, detector_abstained=False)
    checked.claims_summary = claims_summary(checked.claims, checked.sources)
    buffer = io.StringIO()
    render_report(checked, Console(file=buffer, width=100, force_terminal=False))
    out = " ".join(buffer.getvalue().split())
    assert out.index("LIKELY SPUN") < out.index("NOT FLAGGED")
    assert "[strong] signal: found duplicated_headline" in out
    assert "[against] detector" in out
    assert "higher than 96% of the 300 human reference texts; flagged only above 99.0%" in out
    assert out.index("Claims 1 contradicted, 1 unsupported, 1 supported by") < out.index(
        "Evidence / reason"
    )


def test_scan_rows_carry_the_assessment_label(plain_detector):
    from unspun.batch.inputs import RawRecord
    from unspun.batch.rows import ROW_SCHEMA, SeenHashes, rows_to_table, scan_batch
    from unspun.pipeline import CheckConfig, Checker

    checker = Checker(CheckConfig(), detector=plain_detector)
    title, rest = HUMAN_NEWS.split("\n\n", 1)
    # A different body (cut mid-sentence), or the scan would count it as a duplicate.
    cut = rest.replace("start on 1 April.", "start on")
    farmed = f"Author: Dana\n\n{title}\n\n{title}\n\n{cut}\n\nLeave a Comment\n"
    records = [
        RawRecord(record_id=f"r{i}", input="feed", position=i, kind="text", payload=text)
        for i, text in enumerate([HUMAN_NEWS, farmed])
    ]
    rows = scan_batch(checker, SeenHashes().claim, records)
    assert "assessment" in ROW_SCHEMA.names
    assert [row["assessment"] for row in rows] == ["no_sign", "likely_spun"]
    assert rows_to_table(rows).column("assessment").to_pylist() == ["no_sign", "likely_spun"]


# -- end to end ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory) -> str:
    from unspun.models.encoder import load_sentence_encoder
    from unspun.provenance import SourceIndex
    from unspun.provenance.records import read_sources

    location = str(tmp_path_factory.mktemp("assessment") / "reference")
    index = SourceIndex(location, create=True, encoder=load_sentence_encoder())
    index.add(read_sources(CORPUS))
    index.close()
    return location


def check_json(*args: str) -> dict:
    from unspun.cli import app

    result = CliRunner().invoke(app, ["check", *args, "-d", DETECTOR, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_spun_example_with_an_index_is_likely_spun_and_names_its_evidence(corpus_index):
    data = check_json(str(SPUN), "--index", corpus_index)
    assessment = data["assessment"]
    assert assessment["label"] == "likely_spun", assessment
    assert "duplicated headline" in assessment["summary"]
    assert "contradicted by its source" in assessment["summary"]
    source = next(e for e in assessment["evidence"] if e["kind"] == "source")
    assert source["strength"] == "strong" and "velmora-port-strike" in source["message"]
    assert data["claims_summary"].startswith(f"{_count(data, 'contradicted')} contradicted, ")
    assert "velmora-port-strike" in data["claims_summary"]
    # The machine-writing verdict stays in the report, unchanged, beside the assessment.
    assert data["verdict"] in {"machine", "not_flagged", "uncertain"}
    assert data["schema"].endswith("/2")


def _count(data: dict, status: str) -> int:
    return sum(c["status"] == status and c["evidence"] is not None for c in data["claims"])


def test_plain_human_news_article_is_no_sign(tmp_path):
    article = tmp_path / "library.txt"
    article.write_text(HUMAN_NEWS, encoding="utf-8")
    data = check_json(str(article))
    assert data["assessment"]["label"] == "no_sign", data["assessment"]
    assert data["signals"] == []


def test_seed_article_is_likely_spun(seed_article_path):
    data = check_json(str(seed_article_path))
    assert data["assessment"]["label"] == "likely_spun", data["assessment"]
    assert "duplicated headline" in data["assessment"]["summary"]

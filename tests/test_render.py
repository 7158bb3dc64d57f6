"""The text report off a terminal: a legend that means something without colour, a bounded body."""

from __future__ import annotations

import io

from rich.console import Console

from unspun.render import BODY_CHARS, HOT_MARK, WARM_MARK, render_report
from unspun.report import ArticleInfo, DetectorInfo, PassageInfo, Report


def _report(body: str, passages: list[PassageInfo]) -> Report:
    return Report(
        verdict="uncertain",
        reason="in the grey zone",
        human_percentile=0.95,
        threshold=0.99,
        grey_threshold=0.9,
        target_fpr=0.01,
        detector=DetectorInfo(name="default", version="1"),
        article=ArticleInfo(body=body),
        passages=passages,
        scores={},
    )


def _plain(report: Report) -> str:
    buffer = io.StringIO()
    render_report(report, Console(file=buffer, width=100, force_terminal=False))
    return buffer.getvalue()


def test_without_colour_the_legend_names_the_marks_the_body_carries() -> None:
    body = "Hot passage here. Warm passage there. Cool passage last."
    out = _plain(
        _report(
            body,
            [
                PassageInfo(start=0, end=17, text=body[0:17], score=0.996),
                PassageInfo(start=18, end=37, text=body[18:37], score=0.93),
                PassageInfo(start=38, end=len(body), text=body[38:], score=0.1),
            ],
        )
    )
    legend = next(line for line in out.splitlines() if "Article body" in line)
    assert "red" not in legend and "yellow" not in legend
    assert f"{HOT_MARK} : passage at or above the threshold" in legend
    assert f"{WARM_MARK} : passage in the grey zone" in legend
    assert f"{HOT_MARK} Hot passage here. [1.00]" in out
    assert f"{WARM_MARK} Warm passage there. [0.93]" in out
    assert "Cool passage last." in out and "[0.10]" not in out


def test_a_very_long_body_is_shown_up_to_a_bound_and_says_so() -> None:
    body = "word " * (BODY_CHARS // 5 * 3)
    body = body.strip()
    out = _plain(_report(body, []))
    shown = body.rfind(" ", 0, BODY_CHARS + 1)  # cut at the last space within the bound
    assert f"… {len(body) - shown:,} more characters not shown" in out
    assert out.count("word") == shown // 5 + 1


def test_counts_are_in_words_of_the_right_number() -> None:
    from unspun.detect.domain import abstain_reason
    from unspun.wording import counted

    assert counted(1, "row") == "1 row" and counted(0, "row") == "0 rows"
    assert counted(12_345, "entry", "entries") == "12,345 entries"
    assert abstain_reason("Hello", min_words=50).startswith("too short: 1 word; a verdict needs")
    assert abstain_reason("Hello there", min_words=50).startswith("too short: 2 words;")

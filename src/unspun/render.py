"""Terminal rendering of a Report with Rich: the assessment, then the verdict, human percentile,
threshold, highlighted passages, template signals, token evidence, sources and claims; plain text
when the output is not a TTY."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from unspun.assessment import LABEL_WORDS
from unspun.detect.calibration import one_in
from unspun.human_scale import score_in_words
from unspun.report import (
    Assessment,
    CalibrationInfo,
    ClaimInfo,
    Report,
    SignalInfo,
    SourceInfo,
    TokenInfo,
)
from unspun.wording import count_words, cut_at_space

VERDICT_WORDS = {
    "machine": ("LIKELY MACHINE-WRITTEN", "bold white on red"),
    "not_flagged": ("NOT FLAGGED", "bold white on blue"),
    "uncertain": ("UNCERTAIN", "bold black on yellow"),
}
ASSESSMENT_STYLES = {
    "likely_spun": "bold white on red",
    "possibly_spun": "bold black on dark_orange",
    "no_sign": "bold white on green",
    "uncertain": "bold black on yellow",
}
STRENGTH_STYLES = {"strong": "bold red", "moderate": "dark_orange", "weak": "dim"}
HOT, WARM = "bold red", "yellow"
# Marks for colourless output: at or above the threshold, in the grey zone.
HOT_MARK, WARM_MARK = "▶", "▷"
# The most body characters the text report lays out.
BODY_CHARS = 100_000
TOP_PASSAGES = 3
# GLTR's buckets: how often the author picked a word the language model ranked this highly.
RANK_BUCKETS = ((10, "top 10", "green"), (100, "top 100", "yellow"), (1000, "top 1000", "red"))
CLAIM_STYLES = {
    "supported": "green",
    "unsupported": "yellow",
    "contradicted": "bold red",
    "not_checkable": "dim",
}
QUOTE_CHARS = 70


def render_report(report: Report, console: Console | None = None, *, body: bool = True) -> None:
    """Print ``report`` for a person. ``body=False`` leaves out the article text."""
    console = console or Console()
    if report.assessment is not None:
        console.print(_assessment(report.assessment))
        console.print()
    console.print(_verdict(report))
    console.print(_figures(report))
    console.print(_metadata(report))
    if body and report.article.body:
        console.print()
        markers = console.color_system is None
        console.print(
            Text("Article body", style="bold underline"), _legend(report, markers=markers)
        )
        console.print(Padding(_highlighted_body(report, markers=markers), (0, 0, 0, 2)))
    if report.signals:
        console.print()
        console.print(_signals(report.signals))
    if report.tokens:
        console.print()
        console.print(_token_summary(report.tokens))
    if report.sources is not None:
        console.print()
        console.print(_sources(report.sources))
    if report.claims is not None:
        console.print()
        console.print(_claims(report.claims))


def _assessment(assessment: Assessment) -> Group:
    line = Text()
    line.append(
        f" {LABEL_WORDS[assessment.label].upper()} ", style=ASSESSMENT_STYLES[assessment.label]
    )
    line.append("  ")
    line.append(assessment.summary)
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column()
    for evidence in assessment.evidence:
        entry = Text()
        if evidence.points_to == "spun":
            entry.append(f"[{evidence.strength}]", style=STRENGTH_STYLES[evidence.strength])
        else:
            entry.append("[against]", style="green")
        entry.append(f" {evidence.kind}: ", style="bold")
        entry.append(evidence.message)
        table.add_row(" •", entry)
    return Group(line, table)


def _verdict(report: Report) -> Text:
    words, style = VERDICT_WORDS[report.verdict]
    line = Text("Detector verdict ", style="bold")
    line.append(f" {words} ", style=style)
    if report.reason:
        line.append("  ")
        line.append(report.reason)
    return line


def _figures(report: Report) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    percentile = report.human_percentile
    shown = (
        f"{_share(percentile)} (a rank among people's texts, not a probability)"
        if percentile is not None
        else "n/a (detector not calibrated)"
    )
    meaning = score_in_words(report)
    table.add_row("Human percentile", shown + (f"\n{meaning}" if meaning else ""))
    if report.threshold is not None:
        table.add_row(
            "Threshold",
            f"{_share(report.threshold)} (set so about {one_in(report.target_fpr)} "
            f"human texts is flagged; target false-positive rate {report.target_fpr:g})",
        )
    else:
        table.add_row("Threshold", f"none: no calibration (target FPR {report.target_fpr:g})")
    if report.calibration is not None:
        table.add_row("Measured FPR", _measured(report.calibration))
    if report.claims_summary is not None:
        table.add_row("Claims", report.claims_summary)
    table.add_row("Detector", _detector(report))
    if report.scores:
        table.add_row(
            "Raw scores", ", ".join(f"{key} {value:.4g}" for key, value in report.scores.items())
        )
    return table


def _detector(report: Report) -> str:
    info = report.detector
    text = f"{info.name} {info.version}"
    if info.model:
        text += f"\nlanguage model {info.model} ({info.dtype or 'default dtype'})"
    if info.tokens_not_scored:
        text += (
            f"\nread the first {info.tokens_scored or 0:,} tokens; the remaining "
            f"{info.tokens_not_scored:,} were not scored"
        )
    if info.chars_not_scored:
        text += (
            f"\na very long text: scored its first {info.chars_scored or 0:,} characters; "
            f"the remaining {info.chars_not_scored:,} were not scored"
        )
    return text


def _measured(calibration: CalibrationInfo) -> str:
    low, high = calibration.interval
    text = (
        f"{calibration.flagged} of {calibration.human_texts} human reference texts reach the "
        f"threshold ({calibration.false_positive_rate:.1%}, 95% interval {low:.1%}-{high:.1%}): "
        f"{calibration.reference}"
    )
    if calibration.domains:
        text += "\nby domain: " + ", ".join(
            f"{d.domain} {d.flagged} of {d.human_texts} (up to {d.interval[1]:.1%})"
            for d in calibration.domains
        )
    return text


def _metadata(report: Report) -> Table:
    article = report.article
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for label, value in (
        ("Title", article.title),
        ("Subtitle", article.subtitle),
        ("Author", article.author),
        ("Date", article.date),
        ("Site", article.site),
        ("URL", article.url),
    ):
        if value:
            table.add_row(label, Text(value))
    if report.fetch is not None:
        fetch = report.fetch
        via = ""
        if fetch.redirects:
            via = f", {fetch.redirects} redirect{'s' * (fetch.redirects != 1)}"
        table.add_row("Fetched", Text(f"{fetch.fetched_at} (HTTP {fetch.status}{via})"))
    table.add_row("Words", f"{count_words(article.body):,}")
    return table


def passage_styles(report: Report) -> dict[int, str]:
    """Index into ``report.passages`` -> highlight style, on the verdict's own scale: red at or
    above the document threshold, yellow in the grey zone. Without a grey zone (no calibration)
    yellow marks the top few, so the body still shows where the score comes from."""
    passages = report.passages
    styles: dict[int, str] = {}
    if len(passages) == 0:
        return styles
    for index, passage in enumerate(passages):
        if report.threshold is not None and passage.score >= report.threshold:
            styles[index] = HOT
        elif report.grey_threshold is not None and passage.score >= report.grey_threshold:
            styles[index] = WARM
    if report.grey_threshold is None and len(passages) > 1:
        ranked = sorted(range(len(passages)), key=lambda i: passages[i].score, reverse=True)
        for index in ranked[:TOP_PASSAGES]:
            styles.setdefault(index, WARM)
    return styles


def _legend(report: Report, *, markers: bool) -> Text:
    """What the highlights mean: by colour, or (colourless output) by the marker before each."""
    hot = f"{HOT_MARK} " if markers else "red"
    warm = f"{WARM_MARK} " if markers else "yellow"
    legend = Text(" ")
    if report.threshold is not None:
        legend.append(hot, style=HOT)
        legend.append(": passage at or above the threshold; ")
    legend.append(warm, style=WARM)
    if report.grey_threshold is not None:
        legend.append(": passage in the grey zone; unmarked: below it; [score]")
    else:
        legend.append(f": the most machine-like of the rest (top {TOP_PASSAGES}); [score]")
    legend.stylize("dim")
    return legend


def _highlighted_body(report: Report, *, markers: bool) -> Text:
    """The body with passages highlighted; ``markers`` adds a mark and [score] for colourless
    output (▶ at or above the threshold, ▷ in the grey zone). A very long body is shown up to
    BODY_CHARS (laying out megabytes in a terminal takes minutes and helps nobody)."""
    body = report.article.body
    shown = cut_at_space(body, BODY_CHARS)
    styles = passage_styles(report)
    text = Text()
    position = 0
    for index, passage in sorted(enumerate(report.passages), key=lambda item: item[1].start):
        style = styles.get(index)
        if style is None or passage.start < position or passage.end > len(shown):
            continue
        text.append(shown[position : passage.start])
        if markers:
            text.append(f"{HOT_MARK if style == HOT else WARM_MARK} ", style=style)
        text.append(shown[passage.start : passage.end], style=style)
        text.append(f" [{passage.score:.2f}]", style=f"dim {style}")
        position = passage.end
    text.append(shown[position:])
    if len(shown) < len(body):
        text.append(
            f"\n… {len(body) - len(shown):,} more characters not shown "
            "(the JSON report carries the whole body)",
            style="dim",
        )
    return text


def _signals(signals: Sequence[SignalInfo]) -> Group:
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column()
    for signal in signals:
        entry = Text()
        entry.append(signal.id, style="bold magenta")
        entry.append(": ")
        entry.append(signal.message)
        if signal.count > 1:
            entry.append(f" (×{signal.count})", style="dim")
        # Quote the text only when the message does not already show it.
        if signal.text and _shorten(signal.text).strip("“”\"' ")[:8] not in signal.message:
            entry.append("\n“" + _shorten(signal.text) + "”", style="italic dim")
        table.add_row(" •", entry)
    return Group(Text("Template and evasion signals", style="bold underline"), table)


def rank_buckets(tokens: Sequence[TokenInfo]) -> list[tuple[str, int]]:
    """(bucket name, token count) in GLTR's order: top 10, top 100, top 1000, rest. Ranks are
    1-based (rank 1 = the model's first choice)."""
    counts = [0] * (len(RANK_BUCKETS) + 1)
    for token in tokens:
        for position, (limit, _, _) in enumerate(RANK_BUCKETS):
            if token.rank <= limit:
                counts[position] += 1
                break
        else:
            counts[-1] += 1
    names = [name for _, name, _ in RANK_BUCKETS] + ["rest"]
    return list(zip(names, counts, strict=True))


def _token_summary(tokens: Sequence[TokenInfo]) -> Group:
    buckets = rank_buckets(tokens)
    total = max(1, len(tokens))
    styles = [style for _, _, style in RANK_BUCKETS] + ["magenta"]
    line = Text("  ")
    for (name, count), style in zip(buckets, styles, strict=True):
        line.append(f"{name}: {count / total:.0%}", style=style)
        line.append("   ")
    mean_logprob = sum(t.logprob for t in tokens) / total
    note = Text(
        f"  {len(tokens):,} tokens, mean log-probability {mean_logprob:.2f}. Machine text tends to "
        "pick the model's top-ranked words far more often than people do.",
        style="dim",
    )
    heading = Text("Token evidence (rank of each word under the language model)")
    heading.stylize("bold underline")
    return Group(heading, line, note)


def _sources(sources: Sequence[SourceInfo]) -> Table | Text:
    if not sources:
        return Text("Candidate sources: none found in the index", style="bold")
    table = Table(title="Candidate sources", title_justify="left", title_style="bold", expand=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("Source", overflow="fold")
    table.add_column("Date", no_wrap=True)
    table.add_column("Score", justify="right")
    table.add_column("Why", overflow="fold")
    for number, source in enumerate(sources, start=1):
        name = Text(source.title or source.id)
        if source.url:
            name.append("\n" + source.url, style="dim")
        table.add_row(str(number), name, source.date or "", f"{source.score:.2f}", source.reason)
    return table


def _claims(claims: Sequence[ClaimInfo]) -> Table | Text:
    if not claims:
        return Text("Claims: none extracted", style="bold")
    table = Table(title="Claims", title_justify="left", title_style="bold", expand=False)
    table.add_column("Status", no_wrap=True)
    table.add_column("Claim", overflow="fold")
    table.add_column("Evidence / reason", overflow="fold")
    for claim in claims:
        detail = Text(claim.reason)
        if claim.evidence is not None:
            quote = _shorten(claim.evidence.text)
            detail.append(f"\n“{quote}” ({claim.evidence.source_id})", style="dim")
        table.add_row(
            Text(claim.status.replace("_", " "), style=CLAIM_STYLES.get(claim.status, "")),
            Text(_shorten(claim.text, 160)),
            detail,
        )
    return table


def _share(value: float) -> str:
    # Three decimals, except for tiny values that would otherwise all print as 0.000.
    return f"{value:.3f}" if value == 0 or value >= 0.001 else f"{value:.1e}"


def _shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"

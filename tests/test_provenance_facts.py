"""Fact extraction, date resolution and internal consistency: pure functions, no models."""

from __future__ import annotations

import datetime as dt

from unspun.article.sentences import split_sentences
from unspun.provenance.consistency import find_inconsistencies
from unspun.provenance.dates import find_dates, parse_date
from unspun.provenance.facts import extract_facts, shared_entities
from unspun.provenance.fingerprint import content_hash, minhash, minhash_similarity

THURSDAY = dt.date(2026, 3, 12)


def test_entities_numbers_and_quotes_are_found():
    text = (
        "Roughly 340 members of the Velmora Harbour Workers' Union joined, Mayor Jane Ortiz said. "
        '"We have never seen water this high," Ortiz told reporters, adding that £4.5m and 30% '
        "were at stake."
    )
    facts = extract_facts(text)
    assert "Velmora Harbour Workers' Union" in facts.entities
    assert "Mayor Jane Ortiz" in facts.entities
    assert "Roughly" not in facts.entities  # a capitalised first word is not a name
    values = {q.value for q in facts.quantities}
    assert {340.0, 4_500_000.0, 30.0} <= values
    assert facts.quotes == ["We have never seen water this high"]
    assert facts.attributed


def test_years_and_day_numbers_are_dates_not_figures():
    values = {
        q.value
        for q in extract_facts("On March 3, 2024 the 12 ships left; in 2019 it was 9.").quantities
    }
    assert values == {12.0, 9.0}


def test_entities_match_by_surname():
    assert shared_entities({"ortiz", "riverton"}, {"mayor jane ortiz"}) == {"ortiz"}
    assert shared_entities({"jane ortiz"}, {"ortiz"}) == {"jane ortiz"}
    assert not shared_entities({"ilse varga"}, {"tomas reyl"})


def test_relative_dates_resolve_against_publication():
    resolved = {
        m.text: (m.value, m.granularity)
        for m in find_dates(
            "On Sunday, yesterday, last year, two days ago, on March 3 and in 1842.", THURSDAY
        )
    }
    assert resolved["On Sunday"] == (dt.date(2026, 3, 8), "day")
    assert resolved["yesterday"] == (dt.date(2026, 3, 11), "day")
    assert resolved["last year"] == (dt.date(2025, 1, 1), "year")
    assert resolved["two days ago"] == (dt.date(2026, 3, 10), "day")
    assert resolved["March 3"] == (dt.date(2026, 3, 3), "day")
    assert resolved["in 1842"] == (dt.date(1842, 1, 1), "year")


def test_same_day_written_two_ways_compares_equal():
    (sunday,) = find_dates("on Sunday", dt.date(2026, 3, 10))
    (march_8,) = find_dates("on 8 March", dt.date(2026, 3, 11))
    (friday,) = find_dates("on Friday", dt.date(2026, 3, 10))
    assert sunday.same_period(march_8) is True
    assert friday.same_period(march_8) is False
    (unresolved,) = find_dates("on Sunday", None)
    assert unresolved.value is None and unresolved.same_period(march_8) is None


def test_publication_dates_parse():
    assert parse_date("2026-03-10T08:00:00Z") == dt.date(2026, 3, 10)
    assert parse_date("March 10, 2026") == dt.date(2026, 3, 10)
    assert parse_date("soon") is None and parse_date(None) is None


def _inconsistencies(body: str, published: str | None = "2026-03-12"):
    return find_inconsistencies(body, split_sentences(body), published)


def test_one_person_two_roles_is_flagged():
    findings = _inconsistencies(
        "Union secretary Ilse Varga led the talks on Monday. "
        "Later, port authority chair Ilse Varga rejected the offer."
    )
    assert len(findings) == 1
    assert "Ilse Varga" in findings[0].reason and "secretary" in findings[0].reason
    assert findings[0].text.startswith("Later")


def test_one_quote_two_speakers_is_flagged():
    findings = _inconsistencies(
        '"We will not let this port stop," Hanne Lode said on Tuesday. '
        'Reporters heard more later. "We will not let this port stop," said Tomas Reyl.'
    )
    assert len(findings) == 1 and "quote" in findings[0].reason


def test_one_event_two_dates_is_flagged():
    findings = _inconsistencies(
        "Dock workers at Velmora walked off the job on Tuesday over night pay. "
        "The port authority met the union twice. "
        "Dock workers at Velmora walked off the job on Wednesday, the union said."
    )
    assert len(findings) == 1 and "dated" in findings[0].reason


def test_event_after_publication_cannot_fit_the_timeline():
    findings = _inconsistencies("The minister visited the port on 20 March 2026.", "2026-03-12")
    assert len(findings) == 1 and "after the article's own date" in findings[0].reason


def test_consistent_article_has_no_findings():
    assert not _inconsistencies(
        "Union secretary Ilse Varga spoke on Tuesday. Varga said talks resume on Friday. "
        '"We keep this port running," Varga said.'
    )


def test_content_hash_ignores_case_and_spacing_and_minhash_sees_copies():
    assert content_hash("A  b\nC") == content_hash("a b c")
    text = "the port of velmora was closed on tuesday by a strike of dock workers over night pay"
    assert minhash_similarity(minhash(text), minhash(text)) == 1.0
    assert (
        minhash_similarity(
            minhash(text), minhash("a completely different sentence about tram lines")
        )
        < 0.2
    )


# -- facts a spin changes: lengths of time, months, negation, direction, quantity words ---------


def test_compound_number_words_are_one_figure():
    values = {
        q.value for q in extract_facts("Twenty-three people lost thirty-one cars.").quantities
    }
    assert values == {23.0, 31.0}


def test_a_connective_and_a_weekday_opening_a_sentence_name_no_one():
    facts = extract_facts("Since Saturday a new bridge has carried cyclists over the estuary.")
    assert facts.entities == []


def test_a_month_named_alone_is_a_date_but_not_in_a_surname():
    (june,) = find_dates("The shops will close by the end of June.", THURSDAY)
    assert (june.granularity, june.value) == ("month", dt.date(2026, 6, 1))
    assert find_dates("Prime Minister Theresa May spoke.", THURSDAY) == []
    (march,) = find_dates("In March, the council voted.", THURSDAY)
    assert march.value == dt.date(2026, 3, 1)


def test_lengths_of_time_compare_as_values():
    from unspun.provenance.differences import duration_conflict, find_durations

    assert duration_conflict("The strike lasted three days.", "The strike lasted 72 hours.") is None
    assert duration_conflict("It took a year and a half.", "It took a period of 18 months.") is None
    assert duration_conflict(
        "The walkout was described as indefinite.", "The union said it would last 72 hours."
    ) == ("72 hours", "indefinite")
    assert duration_conflict("The ban lasts six months.", "The ban lasts 18 months.") == (
        "18 months",
        "six months",
    )
    # Ages, dates and rates are not lengths of time.
    assert find_durations("The 52-year-old, who arrived two years ago, earns £5 a day.") == []


def test_negation_direction_and_quantity_differences_name_both_sides():
    from unspun.provenance.differences import differences

    (negation,) = differences(
        "Ms Marsh attended the hearing.", "Ms Marsh did not attend the hearing."
    )
    assert negation.kind == "negation" and "did not attend" in negation.describe()
    (direction,) = differences("Shares rose 6% on Wednesday.", "Shares fell 6% on Wednesday.")
    assert direction.describe() == "the source says fell, not rose"
    (quantity,) = differences(
        "Few of the victims were in their eighties.", "Most of the victims were in their eighties."
    )
    assert quantity.describe() == "the source says most, not few"
    # The same meaning in other words is no difference.
    assert differences("Nobody has been reported hurt.", "No injuries have been reported.") == []
    assert (
        differences(
            "The majority of the victims were elderly.", "Most of the victims were elderly."
        )
        == []
    )


def test_a_negated_change_reads_as_the_claims_word_for_no_change():
    from unspun.provenance.differences import as_no_change

    source = "The union says pay has not risen since 2021."
    assert as_no_change(source, "Pay has remained frozen since 2021.") == (
        "The union says pay has remained frozen since 2021."
    )
    assert as_no_change("Prices did not change in May.", "Prices were flat in May.") == (
        "Prices remained flat in May."
    )
    # A claim that states a change, or negates one itself, is read against the source as written.
    assert as_no_change(source, "Pay has risen since 2021.") == source
    assert as_no_change(source, "Pay has not changed and stayed flat.") == source


def test_an_unnamed_speaker_cannot_differ_from_a_named_one():
    from unspun.provenance.claims import speaker_difference

    assert speaker_difference("union secretary Ilse Varga", "port authority chair Tomas Reyl")
    assert not speaker_difference("officials", "the authority")
    assert not speaker_difference("a spokesperson", "union secretary Ilse Varga")
    assert not speaker_difference("she", "Tomas Reyl")

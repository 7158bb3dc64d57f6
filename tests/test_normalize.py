"""Normalisation: evasion tricks are undone and counted, legitimate text is left alone, and every
canonical character maps back into the text the user gave."""

from __future__ import annotations

import pytest

from unspun.article.model import Article
from unspun.normalize import LETTER_LOOKALIKES, normalize
from unspun.pipeline import CheckConfig, Checker
from unspun.wording import count_words


def signal(text: str, signal_id: str):
    found = [s for s in normalize(text).signals if s.id == signal_id]
    return found[0] if found else None


def test_cyrillic_and_greek_intruders_are_mapped_and_counted():
    attacked = "Thе Prіmе Mіnіster sаid Ρaris wоuld hоst the summit."
    norm = normalize(attacked)
    assert norm.text == "The Prime Minister said Paris would host the summit."
    sig = signal(attacked, "lookalike_characters")
    assert sig is not None
    assert sig.count == 9
    assert sig.message.startswith("9 look-alike characters replaced (")
    assert "Cyrillic" in sig.message and "Greek" in sig.message
    # The span points at the first disguised character in the original text.
    assert (sig.start, sig.end) == (2, 3)
    assert attacked[sig.start] == "\u0435"
    assert sig.text == "Thе"


def test_whole_non_latin_texts_are_left_alone():
    russian = "Москва — столица России, а сор и рост тут ни при чём."
    greek = "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας και ο ΚΟΡΟΣ."
    for text in (russian, greek):
        norm = normalize(text)
        assert signal(text, "lookalike_characters") is None
        # only the dash is unified; no letter changes script
        assert norm.text == text.replace("—", "-")


def test_fully_disguised_words_in_english_text_are_mapped():
    text = "The сор said the рарег was а fake, according to the local police report."
    assert normalize(text).text == (
        "The cop said the paper was a fake, according to the local police report."
    )
    assert signal(text, "lookalike_characters").count == 9


def test_lone_greek_letters_in_english_text_stay_symbols():
    text = "The α-helix and β-sheet were measured at α = 0.05 in the study."
    assert normalize(text).text == text
    assert signal(text, "lookalike_characters") is None


def test_fullwidth_and_mathematical_letters_are_folded_and_counted():
    text = "Read the 𝐛𝐫𝐞𝐚𝐤𝐢𝐧𝐠 news from Ｌｏｎｄｏｎ today about the election results."
    norm = normalize(text)
    assert norm.text == "Read the breaking news from London today about the election results."
    sig = signal(text, "lookalike_characters")
    assert sig.count == 14 and "fullwidth or mathematical" in sig.message


def test_ligatures_fractions_and_typography_are_unified_but_not_counted():
    text = "The ﬁnal “report” said ½ of staﬀ—about 40 people—weren’t paid…"
    assert (
        normalize(text).text
        == 'The final "report" said 1/2 of staff-about 40 people-weren\'t paid...'
    )
    assert normalize(text).signals == []


def test_invisible_characters_are_removed_and_counted():
    text = "Offi\u200bcials con\u200dfirmed the\u2060 de\ufeffal on \u202eMonday\u202c."
    norm = normalize(text)
    assert norm.text == "Officials confirmed the deal on Monday."
    sig = signal(text, "invisible_characters")
    assert sig.count == 6
    assert sig.message.startswith("6 invisible characters removed (")
    assert "zero width space" in sig.message
    assert (sig.start, sig.end) == (4, 5)


def test_tag_characters_and_variation_selectors_on_letters_are_suspicious():
    text = "hid" + "".join(chr(0xE0000 + ord(c)) for c in "ignore") + "den te\ufe0fxt"
    norm = normalize(text)
    assert norm.text == "hidden text"
    assert signal(text, "invisible_characters").count == 7


def test_emoji_sequences_and_leading_bom_are_not_evidence():
    flag = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
    text = "\ufeffFamily 👨\u200d👩\u200d👧 and love ❤\ufe0f and keycap 1\ufe0f\u20e3 and " + flag
    norm = normalize(text)
    assert signal(text, "invisible_characters") is None
    assert norm.text.startswith("Family 👨👩👧 and love ❤ and keycap 1")


def test_joiners_inside_persian_words_are_not_evidence():
    text = "می\u200cخواهم به خانه بروم"
    assert signal(text, "invisible_characters") is None


def test_soft_hyphens_have_their_own_signal():
    text = "The gov\u00adern\u00adment said"
    assert normalize(text).text == "The government said"
    assert signal(text, "soft_hyphens").count == 2
    assert signal(text, "invisible_characters") is None


def test_whitespace_is_collapsed_and_unusual_spaces_counted():
    text = "  The  minister\u2003said\u00a0the   plan\twas  not\r\n\r\n\r\nready.\u2028Next line.  "
    norm = normalize(text)
    assert norm.text == "The minister said the plan was not\n\nready.\nNext line."
    unusual = signal(text, "unusual_whitespace")
    assert unusual.count == 2  # em space and line separator; NBSP, tab and CRLF are ordinary
    assert text[unusual.start : unusual.end] == "\u2003"
    extra = signal(text, "extra_whitespace")
    assert extra is not None and extra.count == 3


def test_double_space_after_a_full_stop_is_a_typing_habit():
    text = "It rained.  Then it stopped.  Then it rained again.  Later the sun came out."
    assert signal(text, "extra_whitespace") is None
    assert normalize(text).text == " ".join(text.split())


def test_combining_sequences_compose_and_map_to_the_whole_cluster():
    text = "Cafe\u0301 owners"
    norm = normalize(text)
    assert norm.text == "Café owners"
    assert norm.to_original(0, 4) == (0, 5)  # "Café" covers the e and its accent
    assert norm.to_original(3, 4) == (3, 5)


def test_to_original_maps_spans_back_to_the_users_text():
    text = "Wоrld\u200b leaders  met in Ｐａｒｉｓ."
    norm = normalize(text)
    assert norm.text == "World leaders met in Paris."
    word = norm.text.index("Paris")
    start, end = norm.to_original(word, word + 5)
    assert text[start:end] == "Ｐａｒｉｓ"
    start, end = norm.to_original(0, len("World leaders"))
    assert text[start:end] == "Wоrld\u200b leaders"
    assert norm.to_original(len(norm.text), len(norm.text)) == (len(text), len(text))


def test_empty_and_whitespace_only_text():
    for text in ("", "   \n\t ", "\u200b\u200b"):
        norm = normalize(text)
        assert norm.text == ""
        assert norm.origin == [len(text)]
        assert norm.to_original(0, 0) == (len(text), len(text))


def test_lone_surrogates_and_controls_are_dropped():
    text = "bad\udc80 byte\x00s and \x1bcontrol"
    norm = normalize(text)
    assert norm.text == "bad bytes and control"
    assert signal(text, "invisible_characters").count == 3
    norm.text.encode("utf-8")  # what every tokenizer will do


def test_table_maps_only_to_ascii_letters():
    for source, target in LETTER_LOOKALIKES.items():
        assert not source.isascii()
        assert target.isascii() and target.isalpha() and len(target) == 1


def test_pipeline_reports_signals_and_offsets_in_the_original_body(plain_detector):
    paragraphs = [
        "Thе gоvеrnmеnt\u200b announced a new plan on Monday to build more homes across the "
        "country, officials said.",
        "Critics  said   the   plan was not enough and called for more funding for councils.",
    ]
    article = Article(paragraphs=paragraphs, title="Housing plan")
    report = Checker(CheckConfig(detector="x", min_words=5), detector=plain_detector).check(article)
    ids = {s.id: s for s in report.signals}
    assert ids["lookalike_characters"].count == 4
    assert ids["invisible_characters"].count == 1
    body = article.body
    for s in report.signals:
        assert 0 <= s.start < s.end <= len(body)
    assert body[ids["lookalike_characters"].start] == "\u0435"
    for passage in report.passages:
        assert passage.text == body[passage.start : passage.end]
    # The detector saw the repaired text: its score equals the score of the clean text.
    clean = Article(
        paragraphs=[
            "The government announced a new plan on Monday to build more homes across the "
            "country, officials said.",
            "Critics said the plan was not enough and called for more funding for councils.",
        ]
    )
    clean_report = Checker(CheckConfig(detector="x", min_words=5), detector=plain_detector).check(
        clean
    )
    assert report.scores == pytest.approx(clean_report.scores)


def test_every_emitted_signal_id_is_documented():
    from unspun.normalize import SIGNAL_IDS

    text = "Thе  plan  was\u200b  ready\u00ad now \u2003 and\u2028 done."
    ids = {s.id for s in normalize(text).signals}
    assert ids == set(SIGNAL_IDS)


def test_latin_script_letters_of_other_languages_are_not_lookalikes():
    text = "As İnalcık notes, Reyhanlı lies near the border; gas is /ɡæs/ and garden /ˈɡɑːdən/."
    assert normalize(text).text == text
    assert normalize(text).signals == []


def test_windows_1252_bytes_read_as_latin_1_are_repaired_not_counted():
    text = "shoppers could buy men\x92s and women\x92s clothing \x96 at \x80 5"
    norm = normalize(text)
    assert norm.text == "shoppers could buy men's and women's clothing - at € 5"
    assert norm.signals == []


@pytest.mark.parametrize(
    "attacked",
    [
        "Th\u0435 p\u043ert r\u0435opened on Tu\u0435sday.",  # look-alike letters
        "The\u200b port\u200d re\u00adopened\u2060 on\ufeff Tuesday.",  # invisibles, soft hyphen
        "The\u2003port\u00a0reopened\u2009on\u3000Tuesday.",  # odd spaces
        "The port \u200b reopened on Tuesday \u2014 ",  # a lone invisible, a dash
    ],
)
def test_word_count_is_the_same_before_and_after_normalisation(attacked: str) -> None:
    # The report counts the body as given, the "too short" reason the text as checked.
    assert count_words(attacked) == count_words(normalize(attacked).text) == 5

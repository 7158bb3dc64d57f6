"""Claim checks against traced sources: the spun example's invented and changed facts, the Report
fields the pipeline fills, and the optional NLI cross-encoder hook (a tiny model built here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from unspun.errors import ModelUnavailable
from unspun.provenance import Provenance, SourceDoc, SourceIndex
from unspun.provenance.records import read_sources

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "examples" / "reference-corpus.jsonl"
SPUN = REPO / "examples" / "spun-article.txt"


@pytest.fixture(scope="module")
def encoder():
    from unspun.models.encoder import load_sentence_encoder

    return load_sentence_encoder()


@pytest.fixture(scope="module")
def provenance(tmp_path_factory, encoder) -> Provenance:
    location = str(tmp_path_factory.mktemp("claims") / "index")
    SourceIndex(location, create=True, encoder=encoder).add(read_sources(CORPUS))
    return Provenance(location, encoder=encoder)


@pytest.fixture(scope="module")
def spun_claims(provenance):
    from unspun.article import read_article

    article = read_article(SPUN)
    candidates = provenance.trace(article.title, article.body, top=3)
    return article.body, provenance.claims(article.body, candidates, published=article.date)


def _claim(claims, fragment: str):
    matches = [c for c in claims if fragment in c.text]
    assert matches, f"no claim contains {fragment!r}"
    return matches[0]


def test_changed_facts_are_contradicted_with_evidence(spun_claims):
    _, claims = spun_claims
    ships = _claim(claims, "15 container ships")
    assert ships.status == "contradicted" and "12" in ships.reason
    assert ships.evidence is not None and ships.evidence.source.doc.id == "velmora-port-strike"
    assert "12 container ships" in ships.evidence.text
    talks = _claim(claims, "as soon as Thursday")
    assert talks.status == "contradicted" and "Friday" in talks.reason
    history = _claim(claims, "previous strike in 2017")
    assert history.status == "contradicted" and "2019" in history.reason
    assert "nine days" in history.reason  # every fact the sentence changes is named
    quote = _claim(claims, "Our people keep this harbour alive")
    assert quote.status == "contradicted" and "Ilse Varga" in quote.reason


def test_invented_visit_quote_and_history_are_unsupported(spun_claims):
    _, claims = spun_claims
    visit = _claim(claims, "Hanne Lode paid a surprise visit")
    assert visit.status == "unsupported" and "Hanne Lode" in visit.reason
    quote = _claim(claims, "beating heart of this coast")
    assert quote.status == "unsupported" and "appears nowhere" in quote.reason
    founded = _claim(claims, "Founded in 1842")
    assert founded.status == "unsupported" and "1842" in founded.reason


def test_restated_facts_are_supported_and_offsets_point_into_the_body(spun_claims):
    body, claims = spun_claims
    for fragment in ("rerouted to the nearby harbour of Castelreno", "frozen since 2021"):
        claim = _claim(claims, fragment)
        assert claim.status == "supported", claim.reason
        assert claim.evidence is not None
    for claim in claims:
        assert body[claim.start : claim.end] == claim.text
    vague = _claim(claims, "all eyes are on the negotiating table")
    assert vague.status == "not_checkable"


def test_relative_dates_are_compared_after_resolution(provenance):
    # The source (published 2026-03-10, a Tuesday) says "on Tuesday"; a rewrite published two
    # days later says "on 10 March": the same day, so supported. "On 9 March" is another day.
    candidates = provenance.trace(
        None, "Dock workers at the port of Velmora walked off the job.", top=1
    )
    same = provenance.claims(
        "Dock workers at the port of Velmora walked off the job on 10 March, leaving 12 ships.",
        candidates,
        published="2026-03-12",
    )
    assert same[0].status == "supported", same[0].reason
    other = provenance.claims(
        "Dock workers at the port of Velmora walked off the job on 9 March, leaving 12 ships.",
        candidates,
        published="2026-03-12",
    )
    assert other[0].status == "contradicted" and "2026-03-10" in other[0].reason


def test_internal_contradictions_need_no_source(provenance):
    body = (
        "Union secretary Ilse Varga met reporters in Velmora. "
        "Later, port authority chair Ilse Varga rejected the pay offer."
    )
    claims = provenance.claims(body, [], published="2026-03-12")
    flagged = [c for c in claims if c.status == "contradicted"]
    assert len(flagged) == 1 and flagged[0].evidence is None
    assert flagged[0].reason.startswith("inside the article:")
    assert all(c.status in {"contradicted", "not_checkable"} for c in claims)


def test_annotate_fills_report_sources_and_claims(provenance):
    from unspun.article import read_article
    from unspun.report import ArticleInfo, DetectorInfo, Report

    article = read_article(SPUN)
    report = Report(
        verdict="uncertain",
        human_percentile=None,
        threshold=None,
        target_fpr=0.01,
        detector=DetectorInfo(name="test", version="0"),
        scores={},
        article=ArticleInfo(body=article.body),
    )
    provenance.annotate(article, report, top=2)
    data = report.to_json_dict()
    assert [s["id"] for s in data["sources"]][0] == "velmora-port-strike"
    assert len(data["sources"]) == 2
    statuses = {c["status"] for c in data["claims"]}
    assert {"supported", "unsupported", "contradicted"} <= statuses
    evidence = [c["evidence"] for c in data["claims"] if c["evidence"]]
    assert evidence and set(evidence[0]) == {"source_id", "text"}


# -- optional NLI cross-encoder ----------------------------------------------------------------


def _tiny_nli_model(directory: Path, labels: dict[int, str]) -> Path:
    """A random-weight BERT classifier with a word-level tokenizer trained here (no network)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]"])
    tokenizer.train_from_iterator([d.text for d in read_sources(CORPUS)], trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 2), ("[SEP]", 3)],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
    )
    config = BertConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=len(labels),
        id2label=labels,
        label2id={v: k for k, v in labels.items()},
    )
    BertForSequenceClassification(config).save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory


def test_nli_cross_encoder_plugs_in_behind_the_same_interface(tmp_path, provenance, encoder):
    from unspun.provenance.nli import NLIJudge

    model_dir = _tiny_nli_model(
        tmp_path / "nli", {0: "ENTAILMENT", 1: "NEUTRAL", 2: "CONTRADICTION"}
    )
    judge = NLIJudge(str(model_dir))
    labels = judge.judge_many(
        [("The port closed.", "The port shut."), ("A ship left.", "No ship left.")]
    )
    assert len(labels) == 2 and set(labels) <= {"entailment", "neutral", "contradiction"}
    with_nli = Provenance(
        provenance.index.store.location, nli_model=str(model_dir), encoder=encoder
    )
    body = "Perishable cargo is being diverted to Castelreno, about 60 kilometres up the coast."
    candidates = with_nli.trace(None, body, top=1)
    (claim,) = with_nli.claims(body, candidates)
    assert claim.status in {"supported", "unsupported", "contradicted"}


def test_nli_model_without_nli_labels_or_missing_is_refused(tmp_path, monkeypatch):
    from unspun.provenance.nli import NLIJudge

    model_dir = _tiny_nli_model(tmp_path / "bad", {0: "POSITIVE", 1: "NEGATIVE"})
    with pytest.raises(ModelUnavailable, match="entailment"):
        NLIJudge(str(model_dir))
    monkeypatch.setenv("UNSPUN_OFFLINE", "1")
    with pytest.raises(ModelUnavailable, match="not cached"):
        NLIJudge("unspun-tests/no-such-nli-model")


def test_article_without_any_source_gets_not_checkable_claims(tmp_path, encoder):
    location = str(tmp_path / "tiny")
    SourceIndex(location, create=True, encoder=encoder).add(
        [
            SourceDoc(
                id="tram", text="Saltmere council approved a tram line to the harbour on Monday."
            )
        ]
    )
    provenance = Provenance(location, encoder=encoder)
    body = "The Orvan Valley vineyard harvested 40 tonnes of grapes, owner Piet Laan said."
    candidates = provenance.trace(None, body, top=1)
    claims = provenance.claims(body, candidates)
    assert claims[0].status == "not_checkable" and "no source" in claims[0].reason


def test_pipeline_check_with_index_fills_sources_and_claims(provenance, plain_detector):
    from unspun.article import read_article
    from unspun.pipeline import CheckConfig, Checker

    checker = Checker(
        CheckConfig(index=provenance.index.store.location, top_sources=1), detector=plain_detector
    )
    report = checker.check(read_article(SPUN))
    assert [s.id for s in report.sources] == ["velmora-port-strike"]
    assert any(c.status == "contradicted" and c.evidence for c in report.claims)
    data = report.to_json_dict()
    assert (
        data["claims"][0]["text"]
        == data["article"]["body"][: data["claims"][0]["end"]][data["claims"][0]["start"] :]
    )


# -- the claim judge: changed facts named on both sides, honest evidence -------------------------


def test_a_changed_length_of_time_is_contradicted_naming_both_sides(spun_claims):
    _, claims = spun_claims
    walkout = _claim(claims, "described as indefinite")
    assert walkout.status == "contradicted"
    assert "72 hours" in walkout.reason and "indefinite" in walkout.reason
    assert walkout.evidence is not None and "72 hours" in walkout.evidence.text


def test_a_claim_the_source_never_mentions_shows_no_unrelated_evidence(spun_claims):
    _, claims = spun_claims
    founded = _claim(claims, "Founded in 1842")
    assert founded.status == "unsupported"
    assert founded.evidence is None and "does not mention" in founded.reason
    assert "1842" in founded.reason


def _check(provenance, body: str):
    candidates = provenance.trace(None, "Dock workers at the port of Velmora walked off.", top=1)
    return provenance.claims(body, candidates, published="2026-03-10")


def test_negation_is_contradicted_and_a_paraphrase_is_supported(provenance):
    reversed_, paraphrase = _check(
        provenance,
        "Pay for night shifts at Velmora has risen since 2021, the union says. "
        "Cargo that would spoil is being sent instead to Castelreno, a harbour some 60 "
        "kilometres further along the coast, officials said.",
    )
    assert reversed_.status == "contradicted", reversed_.reason
    assert "not risen" in reversed_.reason
    assert paraphrase.status == "supported", paraphrase.reason
    assert paraphrase.evidence is not None and "Castelreno" in paraphrase.evidence.text


def test_words_given_to_another_speaker_are_not_supported(provenance):
    (claim,) = _check(
        provenance, "Union secretary Ilse Varga said talks with the port could resume on Friday."
    )
    assert claim.status in {"contradicted", "unsupported"}, claim.reason


def test_an_unrelated_claim_shows_no_evidence(provenance):
    (claim,) = _check(provenance, "Velmora Rovers won the regional cup for a third season running.")
    assert claim.status == "unsupported"
    assert claim.evidence is None and claim.reason.startswith("the source does not mention this")
    assert "Velmora Rovers" in claim.reason


def test_without_the_judge_the_fact_rules_still_label_claims(provenance, encoder):
    from unspun.provenance.claims import ClaimChecker, prepare_source

    candidates = provenance.trace(None, "Dock workers at the port of Velmora walked off.", top=1)
    source = prepare_source(candidates[0].stored, provenance.index.store, encoder)
    rules = ClaimChecker(encoder, judge=None)
    (changed,) = rules.check(
        "Dock workers at Velmora walked off the job on Tuesday, leaving 15 container ships at "
        "anchor.",
        [source],
        published="2026-03-10",
    )
    assert changed.status == "contradicted" and "12" in changed.reason


def test_a_quote_kept_with_its_speaker_is_not_given_to_another(tmp_path, encoder):
    # The quoting sentence names no speech verb's subject; the sentence before it names another
    # body. The claim repeats the quoting sentence: its "Norfolk owners" are the source's too.
    location = str(tmp_path / "index")
    source = (
        "The mural was painted for Glastonbury Festival in 1992 by an unknown artist. "
        "Its Norfolk owners say it \u201cdepicts the rave scene of the time\u201d."
    )
    SourceIndex(location, create=True, encoder=encoder).add([SourceDoc(id="mural", text=source)])
    provenance = Provenance(location, encoder=encoder)
    candidates = provenance.trace(None, source, top=1)
    claim = "Its Norfolk owners say it \u201cdepicts the rave scene of the time\u201d."
    (result,) = provenance.claims(claim, candidates)
    assert result.status != "contradicted", result.reason

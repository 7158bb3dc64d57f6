"""The embedded (SQLite) index and the ``index``/``trace`` commands, on the project's own example
corpus with the real MiniLM encoder."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from unspun.errors import MalformedInput, SourceIndexError
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
def corpus_index(tmp_path_factory, encoder) -> str:
    location = str(tmp_path_factory.mktemp("index") / "reference")
    index = SourceIndex(location, create=True, encoder=encoder)
    result = index.add(read_sources(CORPUS))
    assert result.added == 8 and result.duplicates == 0
    index.close()
    return location


def test_readding_the_same_file_adds_nothing(corpus_index, encoder):
    index = SourceIndex(corpus_index, encoder=encoder)
    again = index.add(read_sources(CORPUS))
    assert (again.added, again.duplicates) == (0, 8)
    stats = index.stats()
    assert stats["articles"] == 8 and stats["backend"] == "sqlite"
    assert stats["encoder"] == "sentence-transformers/all-MiniLM-L6-v2"


def test_spun_article_traces_to_its_wire_story(corpus_index, encoder):
    from unspun.article import read_article

    article = read_article(SPUN)
    provenance = Provenance(corpus_index, encoder=encoder)
    candidates = provenance.trace(article.title, article.body, top=3)
    assert [c.stored.doc.id for c in candidates][0] == "velmora-port-strike"
    best = candidates[0]
    assert best.score > 0.6 and best.score > candidates[1].score + 0.3
    assert "shared entities" in best.reason and "shared figures" in best.reason
    assert best.as_dict()["url"].startswith("https://news.example.org/")


def test_every_corpus_article_is_its_own_best_source(corpus_index, encoder):
    provenance = Provenance(corpus_index, encoder=encoder)
    for doc in read_sources(CORPUS):
        # A rewrite keeps facts, not word order: shuffle the sentences and drop the title.
        sentences = doc.text.split(". ")
        rewritten = ". ".join(reversed(sentences))
        (top,) = provenance.trace(None, rewritten, top=1)
        assert top.stored.doc.id == doc.id


def test_record_files_of_every_kind_are_read(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "a.csv").write_text("id,text,title\nc1,Some text about the harbour.,Harbour\n")
    pq.write_table(
        pa.table({"id": ["p1"], "text": ["Parquet text."], "site": ["Wire"]}),
        tmp_path / "a.parquet",
    )
    (tmp_path / "a.html").write_text(
        "<html><head><title>Harbour news</title></head><body><article><h1>Harbour news</h1>"
        + "<p>The harbour of Castelreno reopened on Monday after a week of repairs to its quay.</p>"
        * 3
        + "</article></body></html>"
    )
    (tmp_path / "a.txt").write_text(
        "Tram line approved\n\nThe council approved the tram line.\n\nIt opens in 2028.\n"
    )
    assert read_sources(tmp_path / "a.csv")[0].title == "Harbour"
    assert read_sources(tmp_path / "a.parquet")[0].site == "Wire"
    html = read_sources(tmp_path / "a.html")[0]
    assert "Castelreno" in html.text and html.id == "a"
    text = read_sources(tmp_path / "a.txt")[0]
    assert text.title == "Tram line approved" and "2028" in text.text


def test_bad_record_file_adds_nothing(tmp_path, corpus_index, encoder):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "ok", "text": "Fine."}\n{"id": "broken", "text": \n')
    with pytest.raises(MalformedInput, match="bad.jsonl:2"):
        read_sources(bad)
    no_text = tmp_path / "no-text.jsonl"
    no_text.write_text('{"id": "x", "title": "only a title"}\n')
    with pytest.raises(MalformedInput, match="'text'"):
        read_sources(no_text)
    assert SourceIndex(corpus_index, encoder=encoder).store.count() == 8


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(SourceIndexError, match="no index at"):
        Provenance(str(tmp_path / "nowhere"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(SourceIndexError, match="is a file"):
        Provenance(str(tmp_path / "file"))


def test_index_built_by_an_older_unspun_is_a_clear_error(tmp_path, encoder, monkeypatch, capsys):
    import sqlite3

    location = tmp_path / "old"
    SourceIndex(str(location), create=True, encoder=encoder).close()
    with sqlite3.connect(location / "index.sqlite") as db:
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with pytest.raises(SourceIndexError, match="built by an older unspun; rebuild it with unspun"):
        Provenance(str(location), encoder=encoder)
    from unspun.cli import main

    monkeypatch.setattr(sys, "argv", ["unspun", "trace", str(SPUN), "--index", str(location)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == SourceIndexError.exit_code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "older unspun" in err


def test_incremental_add_with_duplicates_inside_one_batch(tmp_path, encoder):
    index = SourceIndex(str(tmp_path / "inc"), create=True, encoder=encoder)
    first = index.add(
        [
            SourceDoc(id="a", text="Alpha story about Velmora."),
            SourceDoc(id="a2", text="alpha  STORY about velmora."),
        ]
    )
    assert (first.added, first.duplicates) == (1, 1)
    second = index.add([SourceDoc(id="b", text="Beta story about Saltmere trams.")])
    assert second.added == 1 and index.store.count() == 2


# -- command line -----------------------------------------------------------------------------


def test_cli_index_add_stats_and_trace_json(tmp_path):
    from unspun.cli import app

    runner = CliRunner()
    location = str(tmp_path / "cli-index")
    added = runner.invoke(
        app, ["index", "add", str(CORPUS), "--index", location, "--format", "json"]
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout.strip().splitlines()[-1])["added"] == 8
    stats = runner.invoke(app, ["index", "stats", "--index", location, "--format", "json"])
    assert json.loads(stats.stdout)["articles"] == 8
    traced = runner.invoke(
        app, ["trace", str(SPUN), "--index", location, "--top", "2", "--format", "json"]
    )
    assert traced.exit_code == 0, traced.output
    result = json.loads(traced.stdout)
    assert list(result) == ["sources"]
    assert result["sources"][0]["id"] == "velmora-port-strike"
    assert set(result["sources"][0]) == {"id", "title", "url", "date", "score", "reason"}
    text = runner.invoke(app, ["trace", str(SPUN), "--index", location, "--top", "1", "--claims"])
    assert "Candidate sources" in text.stdout and "[contradicted]" in text.stdout


def test_cli_bulk_trace_keeps_input_order(tmp_path, corpus_index):
    from unspun.cli import app

    docs = [json.loads(line) for line in CORPUS.read_text().splitlines()]
    batch = tmp_path / "articles.jsonl"
    order = [docs[3], docs[0], docs[5]]
    batch.write_text(
        "".join(json.dumps({"id": f"q{i}", "text": d["text"]}) + "\n" for i, d in enumerate(order))
    )
    result = CliRunner().invoke(app, ["trace", str(batch), "--index", corpus_index, "--top", "1"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [r["id"] for r in rows] == ["q0", "q1", "q2"]
    assert [r["sources"][0]["id"] for r in rows] == [d["id"] for d in order]


def test_cli_errors_are_one_line(tmp_path, monkeypatch, capsys):
    from unspun.cli import main

    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    monkeypatch.setattr(
        sys, "argv", ["unspun", "index", "add", str(bad), "--index", str(tmp_path / "i")]
    )
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == MalformedInput.exit_code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.jsonl:1" in err
    assert not (tmp_path / "i").exists()  # nothing was created for a file that failed to read

"""The embedded (SQLite) index and the ``index``/``trace`` commands, on the project's own example
corpus with the real MiniLM encoder."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from unspun.errors import BinaryInput, MalformedInput, SourceIndexError
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
    assert set(result["sources"][0]) == {
        "id", "title", "url", "date", "score", "reason", "headline_similarity"
    }  # fmt: skip
    # The spun page keeps its source's headline as its sub-headline.
    assert result["sources"][0]["headline_similarity"] > 0.9
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


def test_cli_bulk_trace_keeps_going_past_bad_lines(
    tmp_path, corpus_index, encoder, monkeypatch, capsys
):
    from unspun.cli import main
    from unspun.provenance import index as index_module

    docs = [json.loads(line) for line in CORPUS.read_text().splitlines()]
    order = [docs[3], docs[0], docs[5]]
    good = [json.dumps({"id": f"q{i}", "text": d["text"]}).encode() for i, d in enumerate(order)]
    lines = [
        good[0],
        b'{"id": "cut", "text": "the quote never clo',  # malformed JSON
        b'{"id": "no-text", "title": "A headline and nothing else"}',
        good[1],
        b'{"id": "number", "text": 42}',  # wrong type
        b"",  # blank lines are skipped, not errors
        b'{"id": "blank", "text": "   "}',
        b"\x00\x01\xff\xfe\x89PNG junk \xc3\x28",  # binary junk
        b'["an", "array"]',
        good[2],
    ]
    batch = tmp_path / "mixed.jsonl"
    batch.write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setattr(index_module, "load_encoder", lambda: encoder)
    monkeypatch.setattr(
        sys, "argv", ["unspun", "trace", str(batch), "--index", corpus_index, "--top", "1"]
    )
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    # Every non-blank line has its row, in input order, and every good line was traced.
    assert [r["line"] for r in rows] == [1, 2, 3, 4, 5, 7, 8, 9, 10]
    traced = [r for r in rows if "error" not in r]
    assert [(r["id"], r["line"]) for r in traced] == [("q0", 1), ("q1", 4), ("q2", 10)]
    assert [r["sources"][0]["id"] for r in traced] == [d["id"] for d in order]
    errors = {r["line"]: r for r in rows if "error" in r}
    assert "invalid JSON" in errors[2]["error"] and errors[2]["id"] is None
    assert errors[3]["id"] == "no-text" and "'text'" in errors[3]["error"]
    assert errors[5]["id"] == "number" and "'text'" in errors[5]["error"]
    assert errors[7]["id"] == "blank" and "'text'" in errors[7]["error"]
    assert "not text" in errors[8]["error"]
    assert "JSON object" in errors[9]["error"]
    assert all(r["error"].startswith(f"line {n}:") for n, r in errors.items())
    assert not any("sources" in r for r in errors.values())
    # Like any bad input: a non-zero exit code and one line on stderr saying what failed.
    assert exit_info.value.code == MalformedInput.exit_code
    err = err.strip()
    assert len(err.splitlines()) == 1
    assert "6 of 9 records could not be traced" in err and "lines 2, 3, 5, 7, 8, 9" in err
    assert "the other 3 were traced" in err


def test_bulk_trace_isolates_a_record_that_breaks_tracing_but_not_a_broken_index(tmp_path):
    from unspun.provenance.bulk import BulkTally, iter_trace_records, trace_rows

    class FlakyProvenance:
        def trace(self, title, text, *, top, date):
            if "boom" in text:
                raise RuntimeError("the model fell over")
            return []

    class BrokenIndex:
        def trace(self, title, text, *, top, date):
            raise SourceIndexError("the index went away")

    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(["a", "boom", "c"]))
    )
    tally = BulkTally()
    rows = list(trace_rows(FlakyProvenance(), iter_trace_records(feed), tally, top=1, claims=False))
    assert [r.get("error") for r in rows] == [
        None,
        "line 2: internal error (RuntimeError: the model fell over)",
        None,
    ]
    assert (tally.traced, tally.failed_lines) == (2, [2])
    with pytest.raises(SourceIndexError):
        list(trace_rows(BrokenIndex(), iter_trace_records(feed), BulkTally(), top=1, claims=False))


def test_cli_bulk_trace_of_an_empty_or_missing_file(
    tmp_path, corpus_index, encoder, monkeypatch, capsys
):
    from unspun.errors import EmptyInput, InputNotFound
    from unspun.provenance import index as index_module

    monkeypatch.setattr(index_module, "load_encoder", lambda: encoder)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n  \n")
    code, err = _run_main(monkeypatch, capsys, "trace", str(empty), "--index", corpus_index)
    assert code == EmptyInput.exit_code and "no articles" in err
    missing = str(tmp_path / "nope.jsonl")
    code, err = _run_main(monkeypatch, capsys, "trace", missing, "--index", corpus_index)
    assert code == InputNotFound.exit_code and "nope.jsonl" in err and len(err.splitlines()) == 1


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


# -- streaming `index add` ----------------------------------------------------------------------


def _feed(path: Path, count: int, start: int = 0) -> Path:
    path.write_text(
        "".join(
            json.dumps({"id": f"s{i}", "text": f"Story {i}: the Velmora council met on day {i}."})
            + "\n"
            for i in range(start, start + count)
        )
    )
    return path


def _run_main(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    from unspun.cli import main

    monkeypatch.setattr(sys, "argv", ["unspun", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return exit_info.value.code, capsys.readouterr().err.strip()


def test_validating_pass_holds_one_record_at_a_time(tmp_path):
    import tracemalloc

    from unspun.provenance.records import count_sources

    feed = tmp_path / "big.jsonl"
    filler = "word " * 200
    feed.write_text(
        "".join(json.dumps({"id": i, "text": f"{i} {filler}"}) + "\n" for i in range(5000))
    )
    assert feed.stat().st_size > 5_000_000
    tracemalloc.start()
    try:
        assert count_sources(feed) == 5000
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 500_000, peak  # reading the file into memory would take over 5 MB


def test_cli_index_add_streams_records_into_the_index(tmp_path, encoder, monkeypatch):
    from unspun.cli import app
    from unspun.provenance import index as index_module
    from unspun.provenance import records

    feed = _feed(tmp_path / "feed.jsonl", 40)
    pulled: list[int] = []  # records taken from the file, one counter per pass
    real_iter = records.iter_sources

    def counting(path):
        pulled.append(0)
        for doc in real_iter(path):
            pulled[-1] += 1
            yield doc

    at_each_batch: list[int] = []
    real_prepare = SourceIndex.prepare

    def spy(self, docs, hashes):
        at_each_batch.append(pulled[-1])
        return real_prepare(self, docs, hashes)

    monkeypatch.setattr(records, "iter_sources", counting)
    monkeypatch.setattr(SourceIndex, "prepare", spy)
    monkeypatch.setattr(index_module, "load_encoder", lambda: encoder)
    location = str(tmp_path / "streamed")
    result = CliRunner().invoke(
        app, ["index", "add", str(feed), "--index", location, "--batch-size", "8", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["added"] == 40
    assert pulled == [40, 40]  # pass 1 validates the whole file, pass 2 reads it again
    # Each batch is indexed as soon as it is read, not after the whole file.
    assert at_each_batch == [8, 16, 24, 32, 40]


@pytest.mark.parametrize(
    ("second_name", "second_content", "error", "where"),
    [
        ("b.jsonl", b'{"id": "b1", "text": "Fine."}\n\n{"id": "b2", "text": \n', MalformedInput,
         "b.jsonl:3"),
        ("b.jsonl", b'{"id": "b1", "title": "no text"}\n', MalformedInput, "b.jsonl:1"),
        ("b.csv", b"id,title\nb1,no text column\n", MalformedInput, "needs a header"),
        ("b.txt", b"\x00\x01\x02binary", BinaryInput, "binary"),
        ("b.parquet", b"PAR1 not really parquet", MalformedInput, "not a readable Parquet"),
    ],
)  # fmt: skip
def test_bad_second_file_adds_nothing_from_the_first(
    tmp_path, monkeypatch, capsys, second_name, second_content, error, where
):
    first = _feed(tmp_path / "a.jsonl", 5)
    second = tmp_path / second_name
    second.write_bytes(second_content)
    location = tmp_path / "new-index"
    code, err = _run_main(
        monkeypatch, capsys, "index", "add", str(first), str(second), "--index", str(location)
    )
    assert code == error.exit_code
    assert len(err.splitlines()) == 1 and where in err and second_name in err
    assert not location.exists()  # the index is not even created


def test_bad_second_file_leaves_an_existing_index_unchanged(
    tmp_path, corpus_index, encoder, monkeypatch, capsys
):
    first = _feed(tmp_path / "a.jsonl", 5)
    second = _feed(tmp_path / "b.jsonl", 3)
    with second.open("a") as handle:
        handle.write("not json\n")
    code, err = _run_main(
        monkeypatch, capsys, "index", "add", str(first), str(second), "--index", corpus_index
    )
    assert code == MalformedInput.exit_code and "b.jsonl:4: invalid JSON" in err
    assert SourceIndex(corpus_index, encoder=encoder).store.count() == 8


def test_file_changed_between_the_passes_stops_with_a_clear_error(
    tmp_path, encoder, monkeypatch, capsys
):
    from unspun.provenance import index as index_module
    from unspun.provenance import records

    feed = _feed(tmp_path / "feed.jsonl", 30)
    real_count = records.count_sources

    def count_then_break(path):
        counted = real_count(path)
        lines = path.read_text().splitlines(keepends=True)
        lines[19] = "{broken\n"  # line 20: in the third batch of 8
        path.write_text("".join(lines))
        return counted

    monkeypatch.setattr(records, "count_sources", count_then_break)
    monkeypatch.setattr(index_module, "load_encoder", lambda: encoder)
    location = str(tmp_path / "changed")
    code, err = _run_main(
        monkeypatch, capsys, "index", "add", str(feed), "--index", location, "--batch-size", "8"
    )
    assert code == MalformedInput.exit_code and len(err.splitlines()) == 1
    assert "feed.jsonl:20: invalid JSON" in err and "changed after it was checked" in err
    assert "16 new articles from earlier batches were kept" in err
    index = SourceIndex(location, encoder=encoder)
    # The two committed batches are whole and searchable, and the index is stamped as usual.
    assert index.store.count() == 16 and index.stats()["encoder"] == index_module.ENCODER_ID
    index.close()
    monkeypatch.setattr(records, "count_sources", real_count)
    _feed(feed, 30)  # fixed: adding again only adds what is missing
    from unspun.cli import app

    again = CliRunner().invoke(app, ["index", "add", str(feed), "--index", location, "-f", "json"])
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout.strip().splitlines()[-1])
    assert (summary["added"], summary["duplicates"], summary["articles_in_index"]) == (14, 16, 30)

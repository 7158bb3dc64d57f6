"""The PostgreSQL (+ pgvector) index behaves like the SQLite one, against a real server.

Needs UNSPUN_TEST_POSTGRES (``.ci/run`` starts a throwaway cluster and sets it); the tests use a
database of their own, created and dropped here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from unspun.errors import SourceIndexError
from unspun.provenance import Provenance, SourceIndex
from unspun.provenance.records import read_sources

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "examples" / "reference-corpus.jsonl"
SPUN = REPO / "examples" / "spun-article.txt"
DATABASE = "unspun_test_provenance"


@pytest.fixture(scope="module")
def postgres_url() -> str:
    url = os.environ.get("UNSPUN_TEST_POSTGRES")
    if not url:
        pytest.skip("UNSPUN_TEST_POSTGRES is not set (bash .ci/postgres.sh starts a test server)")
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    parts = urlsplit(url)
    yield urlunsplit(parts._replace(path=f"/{DATABASE}"))
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


@pytest.fixture(scope="module")
def encoder():
    from unspun.models.encoder import load_sentence_encoder

    return load_sentence_encoder()


@pytest.fixture(scope="module")
def pg_index(postgres_url, encoder) -> str:
    index = SourceIndex(postgres_url, create=True, encoder=encoder)
    result = index.add(read_sources(CORPUS))
    assert result.added == 8
    index.close()
    return postgres_url


def test_postgres_index_deduplicates_and_reports_stats(pg_index, encoder):
    index = SourceIndex(pg_index, encoder=encoder)
    again = index.add(read_sources(CORPUS))
    assert (again.added, again.duplicates) == (0, 8)
    stats = index.stats()
    assert stats["backend"] == "postgresql" and stats["articles"] == 8
    # .ci/pgvector.sh installs the extension; where it could not, stats say exact numpy search.
    assert stats["vector_search"].startswith(("pgvector", "exact"))
    index.close()


def test_postgres_trace_and_claims_match_sqlite(pg_index, encoder, tmp_path):
    from unspun.article import read_article

    article = read_article(SPUN)
    on_postgres = Provenance(pg_index, encoder=encoder)
    local = str(tmp_path / "sqlite")
    SourceIndex(local, create=True, encoder=encoder).add(read_sources(CORPUS))
    on_sqlite = Provenance(local, encoder=encoder)
    pg_sources = on_postgres.trace(article.title, article.body, top=3)
    lite_sources = on_sqlite.trace(article.title, article.body, top=3)
    assert pg_sources[0].stored.doc.id == lite_sources[0].stored.doc.id == "velmora-port-strike"
    pg_claims = on_postgres.claims(article.body, pg_sources)
    lite_claims = on_sqlite.claims(article.body, lite_sources)
    assert [c.status for c in pg_claims] == [c.status for c in lite_claims]
    # Sentence vectors computed for the claims are cached in the server index.
    assert on_postgres.index.stats()["articles_with_sentence_vectors"] >= 1


def test_postgres_cli_roundtrip(pg_index):
    from typer.testing import CliRunner

    from unspun.cli import app

    result = CliRunner().invoke(
        app, ["trace", str(SPUN), "--index", pg_index, "--format", "json", "--top", "1"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sources"][0]["id"] == "velmora-port-strike"


def test_unreachable_or_empty_server_is_a_clear_error(postgres_url):
    with pytest.raises(SourceIndexError, match="cannot connect"):
        Provenance("postgresql://nobody@127.0.0.1:1/none")
    parts = urlsplit(postgres_url)
    with pytest.raises(SourceIndexError, match="no index in"):
        Provenance(
            urlunsplit(parts._replace(path="/postgres")) + "?options=-csearch_path%3Dno_such_schema"
        )


def test_index_built_by_an_older_unspun_is_a_clear_error(pg_index, encoder):
    import psycopg

    from unspun.provenance.store import SCHEMA_VERSION

    def set_version(version: int) -> None:
        with psycopg.connect(pg_index, autocommit=True) as db:
            db.execute(
                "UPDATE unspun_meta SET value = %s WHERE key = 'schema_version'", (str(version),)
            )

    set_version(1)
    try:
        with pytest.raises(SourceIndexError, match="built by an older unspun; rebuild it"):
            Provenance(pg_index, encoder=encoder)
    finally:
        set_version(SCHEMA_VERSION)
    assert Provenance(pg_index, encoder=encoder).index.store.count() == 8

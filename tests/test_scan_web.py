"""``unspun scan`` over URLs, against a real site on 127.0.0.1: an RSS feed, an Atom feed, a
sitemap index with a news sitemap, plain lists of URLs; robots.txt honoured, per-host pacing and
concurrency, retries that honour Retry-After; every bad page an error row with its HTTP status; a
second run fetches only the new page (conditional requests); a changed page gets a second row; a
feed scan killed mid-way and run again has every page exactly once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from batch_data import SETTINGS, TEST_DETECTOR, UNSPUN, kill_and_resume, scan_env
from web_site import (
    BAD,
    LATIN1,
    NEWS,
    Resource,
    article_page,
    news_site,
    publish_listings,
    rss,
)

from unspun.batch.crawl_state import state_path
from unspun.batch.scan import ScanOptions, run_scan
from unspun.errors import ConfigError
from unspun.fetch import FetchSettings
from unspun.fetch.polite import CrawlSettings

FAST = CrawlSettings(
    fetch=FetchSettings(allow_private=True, timeout=1.0),
    delay=0.0,
    per_host=4,
    retries=0,
    backoff=0.05,
)


def options(**crawl) -> ScanOptions:
    from dataclasses import replace

    return ScanOptions(crawl=replace(FAST, **crawl), max_record_bytes=200_000, batch_size=4)


def rows_by_url(out: Path) -> dict[str, dict]:
    return {row["record_id"]: row for row in pq.read_table(out).to_pylist()}


@pytest.fixture
def site():
    site = news_site(slow=2.0, huge_bytes=400_000)
    with site.running():
        publish_listings(site)
        yield site


def test_feed_scan_rows_errors_and_a_second_run_that_fetches_only_the_new_page(site, tmp_path):
    out = tmp_path / "t.parquet"
    feed = site.url("/feed.xml")
    summary = run_scan([feed], out, SETTINGS, options())
    rows = rows_by_url(out)
    pages = [site.url(path) for path, *_ in NEWS] + [site.url(path) for path in BAD]
    assert set(rows) == set(pages)
    assert summary.web.new == len(pages) and summary.web.failed_sources == []

    first = rows[site.url("/news/1.html")]
    assert (first["http_status"], first["final_url"]) == (200, site.url("/news/1.html"))
    assert first["site"] == "127.0.0.1" and first["input"] == feed and first["error"] is None
    assert first["date"] == "2024-05-01" and first["verdict"] == "machine"
    assert first["fetched_at"] is not None and first["etag"]
    # A page without a date of its own gets the feed's.
    assert rows[site.url("/news/2.html")]["date"] == "2024-05-02T09:00:00Z"
    assert rows[site.url("/news/4.html")]["date"] is None  # no date anywhere
    errors = {url: (row["http_status"], row["error"]) for url, row in rows.items() if row["error"]}
    expected = {
        "/private/secret.html": (None, "is disallowed by http://127.0.0.1:"),
        "/news/missing.html": (404, "HTTP 404 Not Found"),
        "/news/slow.html": (None, "no answer within 1 s"),
        "/news/loop-a.html": (301, "redirect loop"),
        "/news/huge.html": (200, "over the 200.0 kB limit"),
        "/files/report.pdf": (200, "is application/pdf, not an HTML or text page"),
    }
    for path, (status, message) in expected.items():
        got_status, error = errors.pop(site.url(path))
        assert got_status == status and message in error, (path, got_status, error)
        assert "\n" not in error
    assert errors == {}
    assert "/private/secret.html" not in site.requested()  # robots.txt said no
    assert site.hits[0].path == "/robots.txt"
    assert all(hit.user_agent.startswith("unspun/") for hit in site.hits)
    assert state_path(out).is_file()

    # Day two: one new article in the feed. Only it is fetched in full; the rest answer 304 or,
    # when the feed's date for them has not moved, are not asked for at all.
    site.clear()
    site.add("/news/5.html", article_page("Ferry service resumes", 51, machine=False))
    fifth = ("/news/5.html", "Ferry service resumes", None, "Fri, 03 May 2024 07:00:00 GMT", 0)
    news = [*NEWS, fifth]
    publish_listings(site, news)
    summary = run_scan([feed], out, SETTINGS, options())
    articles = [p for p in site.fetched(200) if p.startswith("/news/") and p != "/news/slow.html"]
    assert articles == ["/news/5.html"]
    assert {"/news/3.html", "/news/4.html"} <= set(site.fetched(304))  # undated in the feed
    assert "/news/1.html" not in site.requested()  # the feed's date for it is unchanged
    web = summary.web
    assert (web.new, web.changed, web.not_requested) == (1, 0, 2)
    assert web.not_modified >= 2
    after = rows_by_url(out)
    assert set(after) == {*rows, site.url("/news/5.html")}
    for url, row in rows.items():
        assert after[url] == row  # earlier rows kept as they were
    assert summary.scanned == 1


def test_a_changed_page_gets_a_second_row_and_an_unchanged_text_none(site, tmp_path):
    out = tmp_path / "t.parquet"
    listing = tmp_path / "pages.txt"
    listing.write_text(
        f"# pages to watch\n{site.url('/news/3.html')}\n\nnot a url\n{site.url('/news/4.html')}\n"
    )
    run_scan([str(listing)], out, SETTINGS, options())
    rows = rows_by_url(out)
    assert rows[f"{listing}#4"]["error"] == "line 4 is not an http(s) URL: not a url"
    # New bytes but the same article text (a changed footer): no new row.
    page4 = site.resources["/news/4.html"]
    site.add("/news/4.html", page4.body.replace(b"Copyright", b"Copyright 2025"))
    # A changed article: a new row, URL#2, its own verdict.
    site.add("/news/3.html", article_page("River levels fall", 3, machine=False))
    summary = run_scan([str(listing)], out, SETTINGS, options())
    after = rows_by_url(out)
    assert set(after) - set(rows) == {site.url("/news/3.html") + "#2"}
    second = after[site.url("/news/3.html") + "#2"]
    assert second["title"] == "River levels fall" and second["verdict"] == "not_flagged"
    assert (summary.web.changed, summary.web.unchanged) == (1, 1)


def test_sitemap_index_news_sitemap_atom_and_url_list(site, tmp_path):
    out = tmp_path / "t.parquet"
    inputs = [site.url("/sitemap_index.xml"), site.url("/atom.xml"), site.url("/urls.txt")]
    summary = run_scan(inputs, out, SETTINGS, options())
    rows = rows_by_url(out)
    news_urls = {site.url(path) for path, *_ in NEWS}
    assert set(rows) == news_urls | {site.url(LATIN1)}
    # Each page once, from the first input that listed it: the news sitemap, with its dates.
    for index, (path, *_rest) in enumerate(NEWS):
        row = rows[site.url(path)]
        assert row["input"] == inputs[0]
        if _rest[1] is None:  # no date in the page: the news sitemap's publication date
            assert row["date"] == f"2024-05-0{index + 1}T10:00:00Z"
    latin = rows[site.url(LATIN1)]
    assert latin["title"] == "Café society" and latin["error"] is None
    assert summary.web.sources == 3 and summary.web.listed == len(rows)


def test_a_page_url_as_input_and_a_feed_that_fails(site, tmp_path):
    out = tmp_path / "t.parquet"
    page, missing = site.url("/news/1.html"), site.url("/feeds/gone.xml")
    summary = run_scan([page, missing], out, SETTINGS, options())
    rows = rows_by_url(out)
    assert rows[page]["verdict"] == "machine" and rows[page]["input"] == page
    assert rows[missing]["http_status"] == 404 and "HTTP 404" in rows[missing]["error"]
    assert summary.web.failed_sources and "HTTP 404" in summary.web.failed_sources[0]
    assert site.fetched().count("/news/1.html") == 1  # read as the input, not fetched twice
    # Again: the page is asked for conditionally, the feed is still gone; no new rows.
    site.clear()
    summary = run_scan([page, missing], out, SETTINGS, options())
    assert rows_by_url(out) == rows
    assert site.fetched(304) == ["/news/1.html"] and summary.web.failing == 1


def test_feeds_can_be_added_to_a_daily_scan_and_a_feed_served_as_html_is_read(site, tmp_path):
    out = tmp_path / "t.parquet"
    run_scan([site.url("/urls.txt")], out, SETTINGS, options())
    first = rows_by_url(out)
    items = [(LATIN1, "Cafe", None)]
    site.add("/feed-as-html", rss(items, site.url("")), content_type="text/html")
    run_scan([site.url("/urls.txt"), site.url("/feed-as-html")], out, SETTINGS, options())
    after = rows_by_url(out)
    assert set(after) == {*first, site.url(LATIN1)}  # the history is kept, the new feed added
    assert all(after[url] == row for url, row in first.items())


def test_retry_after_pacing_and_per_host_limit(site, tmp_path):
    out = tmp_path / "t.parquet"
    busy = article_page("Busy page", 8, machine=False)

    def busy_once(count: int) -> Resource:
        if count == 0:
            return Resource(b"slow down", status=429, headers={"Retry-After": "1"})
        return Resource(busy.encode())

    def failing_twice(count: int) -> Resource:
        return Resource(b"oops", status=503) if count < 2 else Resource(busy.encode())

    site.resources["/busy.html"] = busy_once
    site.resources["/flaky.html"] = failing_twice
    paths = ["/busy.html", "/flaky.html", "/news/1.html", "/news/2.html", "/news/3.html"]
    site.add("/paced.xml", rss([(p, p, None) for p in paths], site.url("")),
             content_type="application/rss+xml")  # fmt: skip
    crawl = {"delay": 0.3, "per_host": 1, "retries": 3, "connections": 4}
    run_scan([site.url("/paced.xml")], out, SETTINGS, options(**crawl, fetch=FAST.fetch))
    rows = rows_by_url(out)
    assert all(rows[site.url(p)]["error"] is None for p in paths), rows
    busy_hits = [hit.at for hit in site.hits if hit.path == "/busy.html"]
    assert len(busy_hits) == 2 and busy_hits[1] - busy_hits[0] >= 0.95  # Retry-After: 1
    assert [hit.status for hit in site.hits if hit.path == "/flaky.html"] == [503, 503, 200]
    starts = sorted(hit.at for hit in site.hits)
    assert all(b - a >= 0.28 for a, b in zip(starts, starts[1:], strict=False))
    assert site.max_active == 1


def test_contact_in_the_user_agent_and_no_ray_for_urls(site, tmp_path):
    out = tmp_path / "t.parquet"
    fetch = FetchSettings(allow_private=True, timeout=1.0, contact="https://example.org/about")
    run_scan([site.url("/news/2.html")], out, SETTINGS, options(fetch=fetch))
    assert {hit.user_agent for hit in site.hits} == {"unspun/0.1.0 (+https://example.org/about)"}
    with pytest.raises(ConfigError, match="--engine local"):
        run_scan([site.url("/feed.xml")], tmp_path / "r.parquet", SETTINGS,
                 ScanOptions(engine="ray"))  # fmt: skip


def test_private_addresses_are_refused_by_default(site, tmp_path):
    out = tmp_path / "t.parquet"
    run_scan([site.url("/feed.xml")], out, SETTINGS, ScanOptions())
    (row,) = pq.read_table(out).to_pylist()
    assert "127.0.0.1 is a loopback address" in row["error"] and row["url"] == site.url("/feed.xml")
    assert site.requested() == []


def test_killed_feed_scan_resumes_with_every_page_exactly_once(tmp_path):
    site = news_site()
    paths = []
    for i in range(24):
        path = f"/story/{i}.html"
        site.add(path, article_page(f"Story {i}", 100 + i, machine=i % 3 == 0))
        paths.append(path)
    with site.running():
        site.add("/big.xml", rss([(p, p, None) for p in paths], site.url("")),
                 content_type="application/rss+xml")  # fmt: skip
        out = tmp_path / "t.parquet"
        args = [
            site.url("/big.xml"), "--out", str(out), "--detector", TEST_DETECTOR,
            "--allow-private-urls", "--delay", "0", "--checkpoint-rows", "1", "--batch-size", "1",
        ]  # fmt: skip
        stderr = kill_and_resume(args, out, {site.url(p) for p in paths}, scan_env(delay=0.25))
        assert "Web: 24 pages listed by 1 URL input" in stderr
        full = site.fetched(200)
        # Each page was read in full at most twice (once more only if the kill came between its
        # fetch and its commit); the resumed run asked for the done ones conditionally (304).
        assert all(full.count(p) <= 2 for p in paths)
        assert sum(full.count(p) for p in paths) < 2 * len(paths)
        assert site.fetched(304)
        rerun = subprocess.run(
            [UNSPUN, "scan", *args], env=scan_env(0), capture_output=True, text=True, timeout=300
        )
        assert rerun.returncode == 0, rerun.stderr
        assert "0 new and 0 changed" in rerun.stderr
        assert len(pq.read_table(out)) == len(paths)

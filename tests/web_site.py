"""A small news site served on 127.0.0.1 for the fetch and crawl tests: pages with and without
dates, an RSS feed, an Atom feed, a sitemap index with a news sitemap, a plain list of URLs, a
robots.txt that disallows a path, and the bad cases (slow, 404, redirect loop, huge, binary,
Latin-1, 429 then fine). It answers conditional requests (ETag / Last-Modified) with 304 and logs
every request, so tests can see what was fetched."""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from batch_data import article_text

HTML = "text/html; charset=utf-8"


@dataclass
class Resource:
    body: bytes
    content_type: str = HTML
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    chunked: bool = False  # no Content-Length: the body streams until the connection closes
    validators: bool = True  # send ETag and Last-Modified, answer 304 to matching requests
    last_modified: float = 1_714_550_400.0  # 2024-05-01


@dataclass
class Hit:
    path: str
    status: int
    user_agent: str
    host: str
    conditional: bool
    at: float = 0.0  # time.monotonic() when the request arrived
    cookie: str = ""


class TestSite:
    """Serve ``resources`` (path -> Resource, or a callable taking the hit count) until stopped."""

    def __init__(self) -> None:
        self.resources: dict[str, Resource | Callable[[int], Resource]] = {}
        self.hits: list[Hit] = []
        self.port = 0
        self.active = 0  # requests being answered now
        self.max_active = 0  # the most at once
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def add(self, path: str, body: str | bytes, **options) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.resources[path] = Resource(data, **options)

    def fetched(self, status: int = 200) -> list[str]:
        """Paths answered with ``status`` (200: the full body was sent), in order."""
        with self._lock:
            return [hit.path for hit in self.hits if hit.status == status]

    def requested(self) -> list[str]:
        with self._lock:
            return [hit.path for hit in self.hits]

    def clear(self) -> None:
        with self._lock:
            self.hits.clear()

    @contextlib.contextmanager
    def running(self) -> Iterator[TestSite]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the http.server interface
                path = self.path.split("#", 1)[0]
                with site._lock:
                    count = sum(1 for hit in site.hits if hit.path == path)
                entry = site.resources.get(path)
                resource = entry(count) if callable(entry) else entry
                if resource is None:
                    resource = Resource(b"<html><body><p>Not found</p></body></html>", status=404)
                etag = '"' + hashlib.sha1(resource.body).hexdigest()[:16] + '"'
                modified = formatdate(resource.last_modified, usegmt=True)
                conditional = bool(
                    self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since")
                )
                status = resource.status
                matches = self.headers.get("If-None-Match") == etag or (
                    not self.headers.get("If-None-Match")
                    and self.headers.get("If-Modified-Since") == modified
                )
                if resource.validators and status == 200 and conditional and matches:
                    status = 304
                with site._lock:
                    site.hits.append(
                        Hit(
                            path,
                            status,
                            self.headers.get("User-Agent", ""),
                            self.headers.get("Host", ""),
                            conditional,
                            time.monotonic(),
                            self.headers.get("Cookie", ""),
                        )
                    )
                    site.active += 1
                    site.max_active = max(site.max_active, site.active)
                try:
                    self._answer(resource, status, etag, modified)
                finally:
                    with site._lock:
                        site.active -= 1

            def _answer(self, resource: Resource, status: int, etag: str, modified: str) -> None:
                if resource.delay:
                    time.sleep(resource.delay)
                self.send_response(status)
                headers = dict(resource.headers)
                if resource.content_type:
                    headers.setdefault("Content-Type", resource.content_type)
                if resource.validators and status in (200, 304):
                    headers["ETag"] = etag
                    headers["Last-Modified"] = modified
                body = b"" if status == 304 else resource.body
                if resource.chunked:
                    headers["Connection"] = "close"
                else:
                    headers["Content-Length"] = str(len(body))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    if resource.chunked:
                        for start in range(0, len(body), 65536):
                            self.wfile.write(body[start : start + 65536])
                        self.close_connection = True
                    else:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:
                pass  # clients that hang up early (a size cap, a time limit) are expected

        server = Server(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)


def article_page(title: str, seed: int, *, machine: bool, date: str | None = None) -> str:
    """An article page; with ``date``, the page states it (a meta tag and a dateline)."""
    text = article_text(seed, machine=machine)
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    meta = f"<meta property='article:published_time' content='{date}'>" if date else ""
    dateline = f"<p class='date'>Published {date}</p>" if date else ""
    return (
        f"<!doctype html><html><head><title>{title}</title>{meta}"
        "<meta property='og:site_name' content='Local News'></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{dateline}{paragraphs}</article>"
        "<footer>Copyright</footer></body></html>"
    )


def rss(items: list[tuple[str, str, str | None]], base: str) -> str:
    """An RSS 2.0 feed of (path, title, RFC 822 date or None)."""
    entries = "".join(
        f"<item><title>{title}</title><link>{base}{path}</link>"
        + (f"<pubDate>{date}</pubDate>" if date else "")
        + "</item>"
        for path, title, date in items
    )
    return (
        "<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel>"
        f"<title>Local News</title><link>{base}/</link>{entries}</channel></rss>"
    )


def atom(items: list[tuple[str, str, str]], base: str) -> str:
    """An Atom feed of (path, title, ISO date); links relative to the feed."""
    entries = "".join(
        f"<entry><title>{title}</title><link href='{path}'/><id>{base}{path}</id>"
        f"<updated>{date}</updated></entry>"
        for path, title, date in items
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom' "
        f"xml:base='{base}/'><title>Local News</title><id>{base}/</id>"
        f"<updated>2024-05-03T00:00:00Z</updated>{entries}</feed>"
    )


SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


def sitemap_index(paths: list[str], base: str) -> str:
    children = "".join(f"<sitemap><loc>{base}{path}</loc></sitemap>" for path in paths)
    return f"<?xml version='1.0'?><sitemapindex xmlns='{SITEMAP_NS}'>{children}</sitemapindex>"


def news_sitemap(items: list[tuple[str, str, str]], base: str) -> str:
    """A news sitemap of (path, title, publication date)."""
    urls = "".join(
        f"<url><loc>{base}{path}</loc><news:news><news:publication><news:name>Local News"
        "</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>{date}</news:publication_date><news:title>{title}"
        "</news:title></news:news></url>"
        for path, title, date in items
    )
    return (
        f"<?xml version='1.0' encoding='UTF-8'?><urlset xmlns='{SITEMAP_NS}' "
        f"xmlns:news='{NEWS_NS}'>{urls}</urlset>"
    )


def plain_sitemap(items: list[tuple[str, str | None]], base: str) -> str:
    urls = "".join(
        f"<url><loc>{base}{path}</loc>" + (f"<lastmod>{mod}</lastmod>" if mod else "") + "</url>"
        for path, mod in items
    )
    return f"<?xml version='1.0'?><urlset xmlns='{SITEMAP_NS}'>{urls}</urlset>"


# The news pages: (path, title, date in the page or None, date in the feed, machine-written).
NEWS = [
    ("/news/1.html", "Council approves budget", "2024-05-01", "Wed, 01 May 2024 08:00:00 GMT", 1),
    ("/news/2.html", "Port workers strike", None, "Thu, 02 May 2024 09:00:00 GMT", 0),
    ("/news/3.html", "River levels rise", "2024-05-02", None, True),
    ("/news/4.html", "School opens library", None, None, False),
]
BAD = [
    "/private/secret.html",  # disallowed by robots.txt
    "/news/missing.html",  # 404
    "/news/slow.html",  # answers after the time limit
    "/news/loop-a.html",  # redirects to loop-b, which redirects back
    "/news/huge.html",  # over the size limit, streamed without a length
    "/files/report.pdf",  # binary
]
LATIN1 = "/news/latin1.html"  # Latin-1 bytes, declared only in a <meta> tag


def news_site(*, slow: float = 3.0, huge_bytes: int = 3_000_000) -> TestSite:
    site = TestSite()
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    for path, title, date, _feed_date, machine in NEWS:
        site.add(path, article_page(title, len(path) * 7 + len(title), machine=machine, date=date))
    site.add("/private/secret.html", article_page("Secret", 99, machine=False))
    site.add("/news/slow.html", article_page("Slow page", 5, machine=False), delay=slow)
    site.add("/news/loop-a.html", b"", status=302, headers={"Location": "/news/loop-b.html"})
    site.add("/news/loop-b.html", b"", status=301, headers={"Location": "/news/loop-a.html"})
    filler = "<p>" + "Filler words for a very long page. " * 40 + "</p>"
    huge = "<html><body><article>" + filler * (huge_bytes // len(filler) + 1) + "</article>"
    site.add("/news/huge.html", huge, chunked=True)
    pdf = b"%PDF-1.4 binary \x00\x01\x02" * 100
    site.add("/files/report.pdf", pdf, content_type="application/pdf")
    latin = (
        "<html><head><meta charset='iso-8859-1'><title>Café society</title></head><body>"
        "<article><h1>Café society</h1><p>"
        + "The café on the corner served crème brûlée to the mayor, who said it was très bon. " * 4
        + "</p><p>"
        + "Residents of the naïve old quarter came to see the façade of the new hall. " * 4
        + "</p></article></body></html>"
    )
    site.add(LATIN1, latin.encode("latin-1"), content_type="text/html")
    return site


def publish_listings(site: TestSite, news: list[tuple] = NEWS, *, bad: bool = True) -> None:
    """(Re)write the feeds and sitemaps for ``news`` (and the bad pages), with the site's port."""
    base = site.url("")
    items = [(path, title, feed_date) for path, title, _date, feed_date, _machine in news]
    if bad:
        items += [(path, path.rsplit("/", 1)[-1], None) for path in BAD]
    site.add("/feed.xml", rss(items, base), content_type="application/rss+xml")
    site.add(
        "/atom.xml",
        atom([(p.lstrip("/"), t, "2024-05-03T00:00:00Z") for p, t, *_ in news], base),
        content_type="application/atom+xml",
    )
    site.add(
        "/sitemap_index.xml",
        sitemap_index(["/sitemap-news.xml", "/sitemap-pages.xml"], base),
        content_type="application/xml",
    )
    site.add(
        "/sitemap-news.xml",
        news_sitemap(
            [(p, t, f"2024-05-0{i + 1}T10:00:00Z") for i, (p, t, *_) in enumerate(news)], base
        ),
        content_type="application/xml",
    )
    site.add(
        "/sitemap-pages.xml",
        plain_sitemap([(LATIN1, "2024-05-02")], base),
        content_type="application/xml",
    )
    site.add("/urls.txt", "\n".join(base + p for p, *_ in news) + "\n", content_type="text/plain")

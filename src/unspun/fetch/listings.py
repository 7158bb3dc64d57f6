"""What a scan input URL answers, read as a list of pages: an RSS or Atom feed (feedparser), a
sitemap or news sitemap (with publication dates), a sitemap index (its child sitemaps), a plain list
of URLs, or a page itself."""

from __future__ import annotations

import io
import re
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

from unspun.errors import FetchTooLarge, MalformedInput
from unspun.fetch.client import HTML_TYPES, FetchedPage

_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_XML_ROOT = re.compile(rb"<(?!\?|!)([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


@dataclass
class ListedPage:
    """A page a listing names; ``date`` is its publication or last-modified date as the listing
    gives it (ISO 8601), ``title`` its title there."""

    url: str
    date: str | None = None
    title: str | None = None


@dataclass
class Listing:
    """``kind``: "feed", "sitemap", "news sitemap", "sitemap index", "url list" or "page"."""

    kind: str
    pages: list[ListedPage] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "pages": [[p.url, p.date, p.title] for p in self.pages],
            "sitemaps": self.sitemaps,
        }

    @classmethod
    def from_json(cls, value: dict) -> Listing:
        pages = [ListedPage(*item) for item in value.get("pages", [])]
        return cls(value["kind"], pages, list(value.get("sitemaps", [])))


def page_url(url: str, base: str | None = None) -> str | None:
    """An absolute http(s) URL without its fragment, or None when it is not one."""
    url = (url or "").strip()
    if not url:
        return None
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path or "/", parts.query, ""))


def read_listing(page: FetchedPage, *, max_bytes: int) -> Listing:
    """The pages (or child sitemaps) that ``page`` lists; a page that is an article page itself
    is a listing of one. Anything else is MalformedInput."""
    body = page.body
    if body[:2] == b"\x1f\x8b":  # a gzipped sitemap (sitemap.xml.gz)
        body = _gunzip(body, max_bytes, page.final_url)
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    # The bytes first: feeds and sitemaps are often served as text/html or text/plain.
    root = _root_name(head) if head.startswith(b"<") else None
    if root in ("urlset", "sitemapindex"):
        return _sitemap(body, page.final_url)
    if root in ("rss", "feed", "rdf"):
        return _feed(body, page)
    if page.media_type in HTML_TYPES or _HTML_START.match(head):
        return Listing("page", [ListedPage(page.url)])
    if page.media_type in ("text/plain", "") or not head.startswith(b"<"):
        return _url_list(body, page.final_url)
    raise MalformedInput(
        f"{page.final_url} is neither a feed, a sitemap, a page nor a list of URLs"
    )


def _gunzip(body: bytes, max_bytes: int, url: str) -> bytes:
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(body, max_bytes + 1)
    except zlib.error:
        raise MalformedInput(f"{url} is not a readable gzip file") from None
    if len(data) > max_bytes or decompressor.unconsumed_tail:
        raise FetchTooLarge(f"{url} inflates to more than the size limit; the rest was not read")
    return data


def _root_name(head: bytes) -> str | None:
    text = re.sub(rb"<!--.*?-->", b"", head, flags=re.S)
    text = re.sub(rb"<!DOCTYPE[^>]*>", b"", text, flags=re.I)
    found = _XML_ROOT.search(text)
    return found.group(2).decode("ascii").lower() if found else None


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _sitemap(body: bytes, base: str) -> Listing:
    from lxml import etree

    # No entities, no DTDs, no network: a sitemap is plain data.
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise MalformedInput(f"{base} is not a readable sitemap ({exc})") from None
    if _local(root.tag) == "sitemapindex":
        children = []
        for element in root:
            if _local(element.tag) != "sitemap":
                continue
            loc = _child_text(element, "loc")
            url = page_url(loc or "", base)
            if url and url not in children:
                children.append(url)
        return Listing("sitemap index", sitemaps=children)
    pages, news = [], False
    for element in root:
        if _local(element.tag) != "url":
            continue
        url = page_url(_child_text(element, "loc") or "", base)
        if not url:
            continue
        date = _child_text(element, "publication_date")
        news = news or date is not None
        title = _child_text(element, "title")
        pages.append(ListedPage(url, date or _child_text(element, "lastmod"), title))
    return Listing("news sitemap" if news else "sitemap", pages)


def _child_text(element, name: str) -> str | None:
    for child in element.iter():
        if child is not element and _local(child.tag) == name and child.text:
            return child.text.strip() or None
    return None


def _feed(body: bytes, page: FetchedPage) -> Listing:
    import feedparser

    # A file object, never bytes or a string: feedparser opens those as paths or URLs.
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers={
            "content-location": page.final_url,
            "content-type": page.media_type or "application/xml",
        },
        sanitize_html=False,
    )
    if not parsed.entries and parsed.get("bozo"):
        reason = parsed.get("bozo_exception")
        raise MalformedInput(f"{page.final_url} is not a readable feed ({reason})")
    pages = []
    for entry in parsed.entries:
        link = entry.get("link") or next(
            (item.get("href") for item in entry.get("links", []) if item.get("href")), None
        )
        url = page_url(link or "", page.final_url)
        if not url:
            continue
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        date = time.strftime("%Y-%m-%dT%H:%M:%SZ", stamp) if stamp else None
        pages.append(ListedPage(url, date, entry.get("title")))
    return Listing("feed", pages)


def _url_list(body: bytes, base: str) -> Listing:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedInput(f"{base} is not a list of URLs (not UTF-8 text)") from None
    return Listing("url list", [ListedPage(url) for url in url_lines(text, base)])


def url_lines(text: str, where: str) -> list[str]:
    """The URLs of a plain list, one a line (blank lines and # comments skipped); a line that is
    not an http(s) URL is MalformedInput naming it."""
    urls = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        url = page_url(line)
        if url is None:
            raise MalformedInput(f"{where}:{number}: not an http(s) URL: {line[:100]}")
        urls.append(url)
    return urls


__all__ = ["ListedPage", "Listing", "page_url", "read_listing", "url_lines"]

"""Fetching one URL safely with httpx: only http(s), checked addresses (``address``), a bounded
number of redirects with loops caught, a size cap and one time limit for the whole fetch, only the
content types asked for, and the body decoded by its declared or detected charset."""

from __future__ import annotations

import codecs
import datetime as dt
import email.utils
import http.cookiejar
import re
import ssl
import time
from dataclasses import dataclass, field

import httpcore
import httpx

from unspun.article.model import Article, Signal
from unspun.errors import (
    BinaryInput,
    FetchError,
    FetchHTTPError,
    FetchNotArticle,
    FetchRedirectError,
    FetchTimeout,
    FetchTooLarge,
    URLRefused,
)
from unspun.fetch.address import CheckedBackend, Resolver

DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 10_000_000
DEFAULT_MAX_REDIRECTS = 5
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# What `unspun check URL` and the API read: pages. Anything else is refused before its body is read.
PAGE_TYPES = HTML_TYPES | {"text/plain"}
# What a scan input may be besides a page: a feed, a sitemap (possibly gzipped) or a list of URLs.
LISTING_TYPES = PAGE_TYPES | {
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
    "application/gzip",
    "application/x-gzip",
}
# Servers that do not know what they serve say one of these; the bytes decide then.
_UNSURE_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
# Labels that browsers read as Windows-1252 (the WHATWG encoding standard), which is what pages
# declaring them nearly always are.
_AS_WINDOWS_1252 = frozenset({"latin_1", "iso8859_1", "ascii", "cp1252"})


def user_agent(contact: str | None = None) -> str:
    """``unspun/VERSION (+CONTACT)``: names unspun, and whom a site owner can write to."""
    from unspun import __version__

    about = f"+{contact}" if contact else "news article checker"
    return f"unspun/{__version__} ({about})"


@dataclass(frozen=True)
class FetchSettings:
    """Limits of one fetch. ``timeout``: seconds for the whole fetch (every redirect and the whole
    body); ``max_bytes``: the body's size cap (after decompression); ``allow_private``: connect to
    loopback, private and other non-public addresses too (off by default)."""

    timeout: float = DEFAULT_TIMEOUT
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    allow_private: bool = False
    contact: str | None = None
    max_connections: int = 16

    @property
    def user_agent(self) -> str:
        return user_agent(self.contact)


@dataclass
class FetchedPage:
    """One answer. ``status`` 304 means not modified (no body); ``redirects`` lists the URLs passed
    through before ``final_url``."""

    url: str
    final_url: str
    status: int
    fetched_at: dt.datetime
    body: bytes = b""
    media_type: str = ""
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    redirects: list[str] = field(default_factory=list)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def decode(self) -> tuple[str, list[Signal]]:
        """The body as text: the declared charset (header, then ``<meta>``) when it decodes, else
        detection (with an ``encoding_guessed`` signal). Binary bodies raise FetchNotArticle."""
        from unspun.article.reader import decode_bytes

        body = self.body
        declared = [self.charset] if self.charset else []
        if self.media_type in HTML_TYPES or not self.media_type:
            found = _META_CHARSET.search(body[:4096])
            if found:
                declared.append(found.group(1).decode("ascii", "replace"))
        wide = any(label.lower().startswith(("utf-16", "utf-32")) for label in declared)
        if not wide and _looks_binary(body):
            raise FetchNotArticle(f"{self.final_url} is binary data, not an HTML or text page")
        for label in declared:
            text = _decode_as(body, label)
            if text is not None:
                self.charset = label.lower()
                return text, []
        try:
            text, signals = decode_bytes(body)
        except BinaryInput:
            raise FetchNotArticle(
                f"{self.final_url} is binary data, not an HTML or text page"
            ) from None
        self.charset = "utf-8" if not signals else None
        return text, signals

    def info(self) -> dict:
        """The report's ``fetch`` part."""
        return {
            "url": self.url,
            "final_url": self.final_url,
            "status": self.status,
            "fetched_at": self.fetched_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "content_type": self.media_type or None,
            "charset": self.charset,
            "redirects": len(self.redirects),
        }


def _decode_as(body: bytes, label: str) -> str | None:
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    names = [name]
    if name.replace("-", "_") in _AS_WINDOWS_1252:
        names = ["cp1252", "latin_1"]
    for candidate in names:
        try:
            return body.decode(candidate)
        except UnicodeDecodeError:
            continue
    return None


def _looks_binary(body: bytes) -> bool:
    from unspun.article.reader import _MAGIC

    head = body[:4096]
    return b"\x00" in head or any(head.startswith(magic) for magic, _ in _MAGIC)


def _media_type(header: str | None) -> tuple[str, str | None]:
    if not header:
        return "", None
    media, _, rest = header.partition(";")
    charset = None
    for parameter in rest.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return media.strip().lower(), charset


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _size(n: int) -> str:
    from unspun.article.reader import _size as size

    return size(n)


def checked_url(url: str) -> httpx.URL:
    """``url`` as an httpx URL, refused unless it is an absolute http(s) URL with a host."""
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise URLRefused(f"not a valid URL: {url} ({exc})") from None
    if parsed.scheme not in ("http", "https"):
        scheme = f"{parsed.scheme}:" if parsed.scheme else "a URL without a scheme"
        raise URLRefused(f"only http and https URLs can be fetched, not {scheme} ({url})")
    if not parsed.host:
        raise URLRefused(f"not a valid URL: {url} (no host)")
    return parsed.copy_with(fragment=None)


class Fetcher:
    """An httpx client that fetches pages within ``FetchSettings``; thread-safe, reuses
    connections. ``resolver`` replaces the system's name lookup (tests point names at 127.0.0.1),
    ``ssl_context`` the system's certificate authorities."""

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings or FetchSettings()
        transport = httpx.HTTPTransport(trust_env=False)
        # httpx has no option for the network backend; its transport sends through this pool.
        transport._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=self.settings.max_connections,
            max_keepalive_connections=self.settings.max_connections,
            keepalive_expiry=5.0,
            network_backend=CheckedBackend(
                allow_private=self.settings.allow_private, resolver=resolver
            ),
        )
        self.client = httpx.Client(
            transport=transport,
            follow_redirects=False,
            trust_env=False,
            # No cookies: one site's cookies must not follow another client's request (the
            # server shares this client) or track a crawl.
            cookies=http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[])),
            headers={
                "User-Agent": self.settings.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,"
                "text/plain;q=0.8,*/*;q=0.5",
            },
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        accept: frozenset[str] | None = PAGE_TYPES,
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
    ) -> FetchedPage:
        """Fetch ``url``: redirects followed (each hop checked again), a 304 returned as such when
        ``etag``/``last_modified`` were given, every failure an ``UnspunError`` of its own kind."""
        limit = max_bytes or self.settings.max_bytes
        deadline = time.monotonic() + self.settings.timeout
        current = checked_url(url)
        chain: list[str] = []
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        while True:
            response = self._send(current, headers, deadline)
            try:
                location = response.headers.get("location")
                if response.status_code in _REDIRECTS and location:
                    current = self._next_hop(url, current, location, chain)
                    continue
                return self._read(url, current, response, chain, accept, limit, deadline)
            except FetchError as exc:
                if exc.status is None:
                    exc.status = response.status_code
                raise
            finally:
                response.close()

    def _next_hop(self, url: str, current: httpx.URL, location: str, chain: list[str]) -> httpx.URL:
        chain.append(str(current))
        try:
            target = current.join(location.strip()).copy_with(fragment=None)
        except (httpx.InvalidURL, ValueError):
            raise FetchRedirectError(
                f"{current} redirects to an invalid address ({location[:200]})"
            ) from None
        if target.scheme not in ("http", "https"):
            raise URLRefused(f"{current} redirects to {target}, which is not an http(s) URL")
        if str(target) in chain:
            loop = " → ".join([*chain[chain.index(str(target)) :], str(target)])
            raise FetchRedirectError(f"redirect loop: {loop}")
        if len(chain) > self.settings.max_redirects:
            raise FetchRedirectError(
                f"more than {self.settings.max_redirects} redirects from {url} (last: {target})"
            )
        return target

    def _send(self, current: httpx.URL, headers: dict, deadline: float) -> httpx.Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchTimeout(f"{current}: no answer within {self.settings.timeout:g} s")
        request = self.client.build_request(
            "GET", current, headers=headers, timeout=httpx.Timeout(remaining)
        )
        try:
            return self.client.send(request, stream=True)
        except httpx.TimeoutException:
            raise FetchTimeout(f"{current}: no answer within {self.settings.timeout:g} s") from None
        except URLRefused as exc:
            raise URLRefused(f"refused to fetch {current}: {exc.message}") from None
        except FetchError as exc:  # the host did not resolve
            raise type(exc)(f"cannot fetch {current}: {exc.message}") from None
        except httpx.HTTPError as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise FetchError(f"cannot fetch {current}: {reason}") from None

    def _read(
        self,
        url: str,
        current: httpx.URL,
        response: httpx.Response,
        chain: list[str],
        accept: frozenset[str] | None,
        limit: int,
        deadline: float,
    ) -> FetchedPage:
        status = response.status_code
        media, charset = _media_type(response.headers.get("content-type"))
        page = FetchedPage(
            url=url,
            final_url=str(current),
            status=status,
            fetched_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
            media_type=media,
            charset=charset,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            redirects=chain,
        )
        if status == 304:
            return page
        try:
            page.body = self._body(current, response, accept, limit, deadline)
        except FetchError as exc:
            exc.page = page  # what the answer said (status, validators), for a row of the failure
            raise
        return page

    def _body(
        self,
        current: httpx.URL,
        response: httpx.Response,
        accept: frozenset[str] | None,
        limit: int,
        deadline: float,
    ) -> bytes:
        status = response.status_code
        media, _charset = _media_type(response.headers.get("content-type"))
        if not 200 <= status < 300:
            reason = response.reason_phrase or ""
            raise FetchHTTPError(
                f"HTTP {status}{f' {reason}' if reason else ''} from {current}",
                status,
                retry_after_seconds(response.headers.get("retry-after")),
            )
        if accept is not None and media not in accept and media not in _UNSURE_TYPES:
            raise FetchNotArticle(f"{current} is {media}, not an HTML or text page")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchTooLarge(
                f"{current} is {_size(int(declared))}, over the {_size(limit)} limit"
            )
        body = bytearray()
        try:
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise FetchTooLarge(
                        f"{current} is over the {_size(limit)} limit; the rest was not read"
                    )
                if time.monotonic() > deadline:
                    raise FetchTimeout(
                        f"{current} did not arrive in full within {self.settings.timeout:g} s"
                    )
        except httpx.TimeoutException:
            raise FetchTimeout(
                f"{current} did not arrive in full within {self.settings.timeout:g} s"
            ) from None
        except httpx.DecodingError:
            raise FetchError(f"{current}: the compressed body could not be decoded") from None
        except httpx.HTTPError as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise FetchError(f"{current}: the connection broke while reading ({reason})") from None
        return bytes(body)


def page_kind(page: FetchedPage, text: str) -> str:
    """'html' or 'text': what the server declared, or for text/plain and undeclared pages what
    the text looks like (the same guess as for files)."""
    from unspun.article.reader import _sniff

    if page.media_type in HTML_TYPES:
        return "html"
    return "html" if _sniff(text, None) == "html" else "text"


def fetch_article(
    url: str,
    fetcher: Fetcher | None = None,
    *,
    kind: str = "auto",
    settings: FetchSettings | None = None,
) -> tuple[Article, FetchedPage]:
    """Fetch a page and read its article with the same parsers as a file: HTML through trafilatura
    (a text/plain page as text). The article's ``url`` is the final URL, its ``site`` the page's
    site name or else the host; its ``date`` what the page says."""
    from unspun.article.reader import read_article_bytes
    from unspun.batch.rows import site_of

    own = fetcher is None
    fetcher = fetcher or Fetcher(settings)
    try:
        page = fetcher.get(url, accept=PAGE_TYPES)
    finally:
        if own:
            fetcher.close()
    text, signals = page.decode()
    if kind == "auto":
        kind = page_kind(page, text)
    data = text.encode("utf-8", "surrogatepass")
    article = read_article_bytes(data, name=page.final_url, kind=kind)
    article.url = page.final_url
    article.site = article.site or site_of(page.final_url)
    article.signals = [*signals, *article.signals]
    return article, page

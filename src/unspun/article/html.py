"""HTML pages into an Article: trafilatura finds the main text and metadata, then the same header,
boilerplate and signal logic as plain text runs over it."""

from __future__ import annotations

import logging
import re

from unspun.article.model import Article
from unspun.article.signals import ParseNotes, duplicated_headline
from unspun.article.text import build_article, same_headline
from unspun.errors import EmptyInput, MalformedInput

# trafilatura logs its own extraction failures; we report them as UnspunErrors instead.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
logging.getLogger("htmldate").setLevel(logging.CRITICAL)

# Past this many elements a page is not an article page; lxml and trafilatura slow down a lot.
MAX_ELEMENTS = 100_000
_TAG = re.compile(rb"<[a-zA-Z!/]")
_CHROME = frozenset({"nav", "footer", "header", "aside", "form", "script", "style", "noscript"})
_BYLINE_CLASS = re.compile(r"\b(?:byline|author|article-author|post-author|writer)\b", re.I)


def parse_html(html: str | bytes, *, url: str | None = None) -> Article:
    """Extract the article from an HTML page (title, author, date, site, url, paragraphs)."""
    import trafilatura  # heavy import: only when HTML is actually parsed

    raw = html.encode("utf-8", "surrogatepass") if isinstance(html, str) else html
    if not raw.strip():
        raise EmptyInput("the HTML page is empty")
    tags = len(_TAG.findall(raw))
    if tags == 0:
        raise MalformedInput("the input was read as HTML but contains no HTML tags")
    if tags > MAX_ELEMENTS * 2:
        raise MalformedInput(
            f"the HTML page has about {tags // 2:,} elements, over the {MAX_ELEMENTS:,} that an "
            "article page needs; extract the article text first"
        )
    try:
        document = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            include_images=False,
            include_links=False,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except (ValueError, TypeError, AssertionError, RecursionError) as exc:  # lxml/trafilatura
        raise MalformedInput(f"the HTML page could not be parsed ({type(exc).__name__})") from None
    text = getattr(document, "text", None) or ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    meta = _page_metadata(raw)
    if not lines:
        lines = meta.get("paragraphs", [])
    if not lines:
        raise EmptyInput("no article text found in the HTML page")
    article = build_article(
        [[line] for line in lines],
        title=getattr(document, "title", None) or meta.get("title"),
        author=getattr(document, "author", None) or meta.get("author"),
        date=getattr(document, "date", None),
        url=url or getattr(document, "url", None),
        site=getattr(document, "sitename", None),
        subtitle=None,
        line_paragraphs=True,
    )
    # trafilatura drops the <h1> that holds the title, so a repeat in an <h2> looks like the first
    # occurrence to the text logic; count the repeats in the page's own headings instead.
    repeats = _same_heading_count(meta.get("headings", []), article.title) - 1
    if repeats > 0 and not any(s.id == "duplicated_headline" for s in article.signals):
        notes = ParseNotes(duplicated_headline=article.title, duplicated_headline_count=repeats)
        article.signals = duplicated_headline(notes) + article.signals
    return article


def _same_heading_count(headings: list[str], title: str | None) -> int:
    if not title:
        return 0
    return sum(1 for heading in headings if same_headline(heading, title))


def _page_metadata(raw: bytes) -> dict:
    """What trafilatura leaves out: single-name bylines (it drops them) and, for pages too odd for
    it, the plain paragraph texts. Both are exactly what a content-farm check needs."""
    from lxml import etree
    from lxml import html as lxml_html

    found: dict = {}
    try:
        tree = lxml_html.fromstring(raw)
    except (etree.ParserError, ValueError):
        return found
    if tree is None:
        return found
    for xpath in (
        "//meta[@name='author']/@content",
        "//meta[@property='article:author']/@content",
        "//meta[@name='byl']/@content",
        "//a[@rel='author']//text()",
    ):
        values = [v.strip() for v in tree.xpath(xpath) if v.strip() and "://" not in v]
        if values:
            found["author"] = re.sub(r"^by\s+", "", values[0], flags=re.I)
            break
    if "author" not in found:
        for element in tree.iter():
            cls = element.get("class") if isinstance(element.tag, str) else None
            if cls and _BYLINE_CLASS.search(cls):
                value = " ".join(element.text_content().split())
                value = re.sub(r"^by\s+", "", value, flags=re.I)
                if 0 < len(value.split()) <= 5:
                    found["author"] = value
                    break
    headings = []
    for element in tree.iter("h1", "h2", "h3", "h4"):
        if not any(a.tag in _CHROME for a in element.iterancestors()):
            headings.append(" ".join(element.text_content().split()))
    found["headings"] = headings[:50]
    titles = tree.xpath("//h1//text()") or tree.xpath("//title//text()")
    if titles:
        found["title"] = " ".join(" ".join(titles[:1]).split()) or None
    paragraphs = []
    for element in tree.iter("p", "h2", "h3", "li", "blockquote"):
        if any(a.tag in _CHROME for a in element.iterancestors()):
            continue
        value = " ".join(element.text_content().split())
        if value:
            paragraphs.append(value)
        if len(paragraphs) >= 2000:
            break
    found["paragraphs"] = paragraphs
    return found

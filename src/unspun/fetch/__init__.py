"""Reading articles from the web: one page safely (``client``), and feeds, sitemaps and lists of
URLs politely for scans (``listings``, ``crawl``)."""

from unspun.fetch.address import blocked_reason
from unspun.fetch.client import FetchedPage, Fetcher, FetchSettings, fetch_article, user_agent

__all__ = [
    "FetchSettings",
    "FetchedPage",
    "Fetcher",
    "blocked_reason",
    "fetch_article",
    "user_agent",
]

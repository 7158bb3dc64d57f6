"""URL inputs of a scan: feeds, sitemaps, lists of URLs and single pages, fetched politely into raw
records for the same per-batch step as files.

A page gets a row the first time it is fetched: its result, or why it could not be fetched. It gets
a new row (record id ``URL#2``, ``URL#3``, ...) only when its article text has changed, or when a
page that could not be fetched before now can; anything else a later run learns from the previous
one (a ``304 Not Modified``, the same text, still failing, or a listing date that has not moved)
adds nothing. The rows are the record of what was checked, so a killed run loses nothing and
writes nothing twice; the crawl state beside the output (``crawl_state``) only saves requests."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from unspun.batch.crawl_state import CrawlState
from unspun.batch.inputs import InputUnit, RawRecord
from unspun.batch.store import PageHistory
from unspun.errors import MalformedInput, UnspunError
from unspun.fetch.client import LISTING_TYPES, PAGE_TYPES, FetchedPage, Fetcher, page_kind
from unspun.fetch.listings import ListedPage, Listing, page_url, read_listing
from unspun.fetch.polite import CrawlSettings, PoliteClient, host_key

# Sitemaps read for one input (an index's children, theirs in turn), and how deep indexes nest.
MAX_SITEMAPS = 50
MAX_INDEX_DEPTH = 2


@dataclass
class WebTotals:
    """What this run did with the web inputs, for the summary."""

    sources: int = 0
    failed_sources: list[str] = field(default_factory=list)
    listed: int = 0  # distinct pages the inputs listed (after --max-pages)
    new: int = 0  # fetched for the first time: a row each (a result or an error)
    changed: int = 0  # fetched again with new text, or read now after failing before: a row each
    not_modified: int = 0  # 304
    unchanged: int = 0  # fetched again, same article text
    failing: int = 0  # fetched again and failed again (or newly): no row
    not_requested: int = 0  # the listing's date for the page has not moved since it was checked
    requests: int = 0


@dataclass
class PageTask:
    url: str | None
    input: str
    position: int
    listed_date: str | None = None
    history: PageHistory | None = None
    prefetched: FetchedPage | None = None
    error: UnspunError | None = None
    record_id: str | None = None  # only for a line of a local list that is not a URL


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class WebScan:
    """``plan()`` reads the inputs' listings (in this thread); ``records()`` fetches the pages on a
    pool of threads, politely, yielding a raw record for every page that gets a row."""

    def __init__(
        self,
        units: list[InputUnit],
        settings: CrawlSettings,
        state: CrawlState,
        history: dict[str, PageHistory],
        *,
        fetcher: Fetcher | None = None,
    ) -> None:
        self.units = units
        self.settings = settings
        self.state = state
        self.history = history
        self.client = PoliteClient(settings, fetcher)
        self.tasks: list[PageTask] = []
        self.totals = WebTotals()
        self._lock = threading.Lock()
        self._hints: list[tuple[str, str | None, str]] = []
        self._row_hints: dict[str, tuple[str, str | None]] = {}

    @property
    def first_visits(self) -> int:
        """Planned pages without a row yet: each will get one (its result or its error)."""
        return sum(1 for task in self.tasks if task.history is None)

    # -- planning ---------------------------------------------------------------------------------

    def plan(self) -> None:
        seen: set[str] = set()
        for unit in self.units:
            tasks = self._local_list(unit) if unit.format == "url_list" else self._source(unit)
            for task in tasks:
                if task.url is not None:
                    if task.url in seen:
                        continue
                    seen.add(task.url)
                    self.totals.listed += 1
                    history = task.history
                    if (
                        history is not None
                        and task.listed_date
                        and task.error is None
                        and self.state.listed_date(task.url) == task.listed_date
                    ):
                        self.totals.not_requested += 1
                        continue
                self.tasks.append(task)

    def _task(self, url: str | None, unit: InputUnit, position: int, **extra) -> PageTask:
        history = self.history.get(url) if url else None
        return PageTask(url, unit.label, position, history=history, **extra)

    def _local_list(self, unit: InputUnit) -> list[PageTask]:
        try:
            text = unit.path.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
            error = MalformedInput(f"cannot read {unit.label} as a list of URLs ({reason})")
            return [self._task(None, unit, 0, error=error, record_id=f"{unit.label}#0")]
        tasks = []
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            url = page_url(line)
            if url is None:
                error = MalformedInput(f"line {number} is not an http(s) URL: {line[:100]}")
                tasks.append(
                    self._task(None, unit, number, error=error, record_id=f"{unit.label}#{number}")
                )
            else:
                tasks.append(self._task(url, unit, number))
        return tasks

    def _source(self, unit: InputUnit) -> list[PageTask]:
        """The pages a URL input stands for: its listing's pages, or itself when it is a page."""
        url = unit.label
        self.totals.sources += 1
        known = self.state.source(url)
        if known is not None and known.kind == "page":
            return [self._task(url, unit, 1)]
        try:
            listing, page = self._listing(url)
        except UnspunError as exc:
            self.totals.failed_sources.append(exc.message)
            return [self._task(url, unit, 1, error=exc)]
        if listing.kind == "page":
            return [self._task(url, unit, 1, prefetched=page)]
        tasks: list[PageTask] = []
        pages = listing.pages
        if listing.kind == "sitemap index":
            pages = self._index_pages(unit, listing, tasks)
        for position, listed in self._newest_first(pages):
            tasks.append(self._task(listed.url, unit, position, listed_date=listed.date))
        return tasks

    def _index_pages(
        self, unit: InputUnit, index: Listing, failures: list[PageTask]
    ) -> list[ListedPage]:
        pages: list[ListedPage] = []
        todo = [(child, 1) for child in index.sitemaps]
        read = 0
        while todo and read < MAX_SITEMAPS:
            child, depth = todo.pop(0)
            read += 1
            try:
                listing, _ = self._listing(child)
            except UnspunError as exc:
                self.totals.failed_sources.append(exc.message)
                failures.append(self._task(child, unit, 0, error=exc))
                continue
            if listing.kind == "sitemap index" and depth < MAX_INDEX_DEPTH:
                todo += [(grandchild, depth + 1) for grandchild in listing.sitemaps]
            elif listing.kind != "page":
                pages += listing.pages
        return pages

    def _newest_first(self, pages: list[ListedPage]) -> list[tuple[int, ListedPage]]:
        """(position in the listing, page), the newest first when the listing gives dates, at
        most ``max_pages``."""
        numbered = list(enumerate(pages, start=1))
        if any(page.date for _, page in numbered):
            numbered.sort(key=lambda item: item[1].date or "", reverse=True)
        return numbered[: self.settings.max_pages]

    def _listing(self, url: str) -> tuple[Listing, FetchedPage | None]:
        """A source's listing: fetched conditionally when the state has it (a 304 reuses it)."""
        known = self.state.source(url)
        cached = known.listing if known is not None and known.kind != "page" else None
        page = self.client.get(
            url,
            accept=LISTING_TYPES,
            etag=known.etag if cached else None,
            last_modified=known.last_modified if cached else None,
        )
        if page.not_modified and cached is not None:
            return cached, None
        if page.not_modified:  # a 304 to a request that was not conditional
            raise MalformedInput(f"{url} answered 304 Not Modified to a plain request")
        listing = read_listing(page, max_bytes=self.settings.fetch.max_bytes)
        stamp = page.fetched_at.isoformat()
        if listing.kind == "page":
            self.state.save_source(
                url, Listing("page"), etag=None, last_modified=None, fetched_at=stamp
            )
        else:
            self.state.save_source(
                url, listing, etag=page.etag, last_modified=page.last_modified, fetched_at=stamp
            )
        return listing, page

    # -- fetching ---------------------------------------------------------------------------------

    def records(self, done: set[str]) -> Iterator[RawRecord]:
        """Raw records of the planned pages that get a row, as their fetches finish."""
        order = _by_host_in_turn(self.tasks)
        limit = 2 * self.settings.connections
        pool = ThreadPoolExecutor(self.settings.connections, thread_name_prefix="unspun-fetch")
        pending: set[Future] = set()
        position = 0
        try:
            while position < len(order) or pending:
                while position < len(order) and len(pending) < limit:
                    pending.add(pool.submit(self._visit, order[position], done))
                    position += 1
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    record = future.result()
                    if record is not None:
                        yield record
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            self.totals.requests = self.client.requests

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self.totals, name, getattr(self.totals, name) + 1)

    def _hint(self, task: PageTask) -> None:
        if task.url is not None:
            with self._lock:
                self._hints.append((task.url, task.listed_date, _now().isoformat()))

    def _visit(self, task: PageTask, done: set[str]) -> RawRecord | None:
        history = task.history
        record_id = task.record_id or (
            task.url if history is None else f"{task.url}#{history.versions + 1}"
        )
        assert record_id is not None
        if record_id in done:
            return None
        revisit = history is not None and history.was_read
        try:
            if task.error is not None:
                raise task.error
            assert task.url is not None
            page = task.prefetched
            if page is None:
                page = self.client.get(
                    task.url,
                    accept=PAGE_TYPES,
                    etag=history.etag if revisit else None,
                    last_modified=history.last_modified if revisit else None,
                )
            if page.not_modified:
                self._count("not_modified")
                self._hint(task)
                return None
            text, _signals = page.decode()
            kind = page_kind(page, text)
            if history is not None and revisit and _outcome(kind, text, page) == history.outcome:
                self._count("unchanged")
                self._hint(task)
                return None
        except Exception as exc:  # noqa: BLE001 - one page must never stop the scan
            if history is not None:
                self._count("failing")
                return None
            self._count("new")
            message = exc.message if isinstance(exc, UnspunError) else (
                f"internal error ({type(exc).__name__}: {exc})"
            )
            answer = getattr(exc, "page", None)  # the answer, when the body was refused
            return RawRecord(
                record_id,
                task.input,
                task.position,
                "invalid",
                url=task.url,
                error=" ".join(message.split()),
                http_status=getattr(exc, "status", None),
                fetched_at=_now() if task.url else None,
                final_url=answer.final_url if answer is not None else None,
                etag=answer.etag if answer is not None else None,
                last_modified=answer.last_modified if answer is not None else None,
                listed_date=task.listed_date,
            )
        self._count("new" if history is None else "changed")
        if task.url is not None:
            with self._lock:
                self._row_hints[record_id] = (task.url, task.listed_date)
        return RawRecord(
            record_id,
            task.input,
            task.position,
            kind,
            text,
            url=task.url,
            final_url=page.final_url,
            http_status=page.status,
            fetched_at=page.fetched_at,
            etag=page.etag,
            last_modified=page.last_modified,
            listed_date=task.listed_date,
        )

    # -- after commits ----------------------------------------------------------------------------

    def committed(self, record_ids: list[str]) -> None:
        """Rows of these records are in a committed part: remember their listing dates (and those
        of pages found unchanged meanwhile), so the next run need not ask for them."""
        stamp = _now().isoformat()
        with self._lock:
            items, self._hints = self._hints, []
            for record_id in record_ids:
                hint = self._row_hints.pop(record_id, None)
                if hint is not None:
                    items.append((*hint, stamp))
        self.state.save_listed_dates(items)

    def close(self) -> None:
        self.committed([])
        self.client.close()
        self.state.close()


def _outcome(kind: str, text: str, page: FetchedPage) -> str:
    """What the page's text comes to, as PageHistory.outcome has it: the article's hash, or
    'error' when no article can be read from it."""
    from unspun.article import parse_html, parse_text
    from unspun.batch.rows import content_hash

    try:
        article = parse_html(text, url=page.final_url) if kind == "html" else parse_text(text)
    except UnspunError:
        return "error"
    return content_hash(article.body)


def _by_host_in_turn(tasks: list[PageTask]) -> list[PageTask]:
    """One page of each host in turn, so threads waiting on a slow or paced host do not hold up
    the others."""
    queues: OrderedDict[str, list[PageTask]] = OrderedDict()
    for task in tasks:
        queues.setdefault(host_key(task.url) if task.url else "", []).append(task)
    order: list[PageTask] = []
    while queues:
        for key in list(queues):
            order.append(queues[key].pop(0))
            if not queues[key]:
                del queues[key]
    return order

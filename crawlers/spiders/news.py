"""The one generic news spider, driven by a single source's YAML entry.

It requests the source's feeds, sitemaps (robots.txt `Sitemap:` lines when a sitemap URL is a
robots.txt) and listing pages, discovers article URLs with the pure parsers of
`crawlers.discovery`, skips those already in raw_pages (checked per document, in one query) and
fetches the rest. Fetched article pages go to the raw_pages pipeline as `RawPage` items.

    scrapy crawl news -a source=NAME [-a sources=PATH] [-a run_key=KEY] [-a limit=N]
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

import psycopg
import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, IgnoreRequest, UsageError
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawlers import discovery, incremental, queue_dirs
from crawlers.pipelines import RawPage
from crawlers.runs import DB_ERROR_STAT
from pipeline import __version__
from pipeline.db import database_url, redact
from pipeline.sources.config import Source, get_sources

logger = logging.getLogger(__name__)

_SEEN_QUERY = "SELECT url, fetched_at FROM raw_pages WHERE url = ANY(%s)"
#: URLs per seen-check query: a 50,000-URL sitemap becomes 50 queries, not one huge array.
_SEEN_CHUNK = 1000
#: Article pages go before discovery documents, so pages found are fetched (and stored) early.
_ARTICLE_PRIORITY = 10


def manual_run_key(now: datetime | None = None) -> str:
    """The run key of a run started by hand: 'manual-' and the UTC time to the second."""
    return "manual-" + (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def user_agent(contact: str) -> str:
    """The honest User-Agent: the project, its version and where a site owner can reach us."""
    return f"newsdesk/{__version__} (+{contact})"


def apply_source_settings(settings: scrapy.settings.Settings, source: Source) -> None:
    """Per-source crawl settings, at "spider" priority (a `-s` on the command line still wins)."""
    settings.set("NEWSDESK_SOURCE", source.name, priority="spider")
    settings.set("USER_AGENT", user_agent(source.contact), priority="spider")
    settings.set(
        "NEWSDESK_ALLOW_PRIVATE_ADDRESSES", source.allow_private_addresses, priority="spider"
    )
    settings.set("DOWNLOAD_DELAY", source.politeness.delay, priority="spider")
    settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", source.politeness.concurrency, priority="spider")
    # AutoThrottle only when there is a delay at all (after any command-line override).
    delay = settings.getfloat("DOWNLOAD_DELAY")
    settings.set("AUTOTHROTTLE_ENABLED", delay > 0, priority="spider")
    settings.set("AUTOTHROTTLE_START_DELAY", max(delay, 1.0), priority="spider")
    settings.set(
        "AUTOTHROTTLE_TARGET_CONCURRENCY", float(source.politeness.concurrency), priority="spider"
    )


class NewsSpider(scrapy.Spider):
    """Discover and fetch one source's article pages."""

    name = "news"

    def __init__(
        self, source: Source, run_key: str, limit: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.run_key = run_key
        caps = [n for n in (limit, source.limits.max_pages_per_run) if n is not None]
        self.limit = min(caps) if caps else None
        self.allowed_domains = source.domains
        self.crawl_run_id: int | None = None  # set by crawlers.runs.CrawlRunRecorder
        self.start_ok = 0
        self.start_errors: list[str] = []
        self._scheduled: set[str] = set()  # article URLs requested in this run
        self._validators: dict[str, tuple[str | None, str | None]] = {}
        self._documents: dict[str, incremental.DocumentState] = {}
        self._oldest = incremental.cutoff(source.limits.max_age_days)
        self._db: psycopg.AsyncConnection | None = None
        self._closing: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(
        cls,
        crawler: Crawler,
        *args: Any,
        source: str | Source | None = None,
        sources: str | None = None,
        run_key: str | None = None,
        limit: str | int | None = None,
        **kwargs: Any,
    ) -> NewsSpider:
        if source is None:
            raise UsageError("the news spider needs a source: -a source=NAME")
        if not isinstance(source, Source):
            source = get_sources([source], sources)[0]
        if limit in (None, ""):
            limit = None
        else:
            try:
                limit = int(limit)
            except ValueError:
                raise UsageError(f"limit must be a whole number, not {limit!r}") from None
            if limit < 0:
                raise UsageError("limit must be 0 or more")
        apply_source_settings(crawler.settings, source)
        spider = super().from_crawler(
            crawler,
            *args,
            source=source,
            run_key=run_key or manual_run_key(),
            limit=limit,
            **kwargs,
        )
        spider.max_sitemap_depth = crawler.settings.getint("NEWSDESK_SITEMAP_DEPTH", 3)
        spider.max_size = crawler.settings.getint("DOWNLOAD_MAXSIZE", 0)
        spider.max_links = crawler.settings.getint("NEWSDESK_MAX_LINKS_PER_DOCUMENT", 50_000)
        crawler.signals.connect(spider._close_db, signal=signals.spider_closed)
        if not crawler.settings.get("JOBDIR"):
            spider._use_throwaway_queue_dir(crawler)
        return spider

    def _use_throwaway_queue_dir(self, crawler: Crawler) -> None:
        """Queue requests on disk, in a directory removed when the crawl closes.

        A sitemap of 50,000 articles yields 50,000 requests at once; in Scrapy's memory queue
        they made the crawl's memory grow with the site (244 MiB at 100k articles against 160
        at 10k). With a JOBDIR Scrapy keeps them in its pickled disk queues instead. This one
        is not for resuming (a rerun finds its place from raw_pages), so it is thrown away;
        a JOBDIR given with `-s` is left to its owner. Directories left by killed crawls are
        removed first (`crawlers.queue_dirs`).
        """
        queue_dirs.sweep_stale()
        path = queue_dirs.create(self.source.name)
        crawler.settings.set("JOBDIR", str(path), priority="spider")

        def remove() -> None:  # after the scheduler closed its queues (spider_closed)
            shutil.rmtree(path, ignore_errors=True)

        crawler.signals.connect(remove, signal=signals.spider_closed, weak=False)

    # --- start ------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        try:
            self._db = await psycopg.AsyncConnection.connect(
                database_url(), autocommit=True, connect_timeout=10
            )
            self._validators = await incremental.load_validators(self._db, self.source.name)
        except psycopg.Error as exc:
            self._db_failed(exc)
            return
        meta = {"newsdesk_start": True}
        for url in self.source.feeds:
            yield self._document(url, self.parse_feed, meta)
        for url in self.source.sitemaps:
            if discovery.is_robots_url(url):
                yield self._document(url, self.parse_robots, meta)
            else:
                yield self._document(url, self.parse_sitemap, meta | {"sitemap_depth": 0})
        for index, listing in enumerate(self.source.listings):
            yield self._document(
                listing.url, self.parse_listing, meta | {"listing": index, "listing_page": 1}
            )

    def _document(self, url: str, callback: Any, meta: dict[str, Any]) -> scrapy.Request:
        """A discovery document's request, conditional when we hold its validators.

        robots.txt is always fetched in full: it is small, and it leads to the sitemaps, which
        are themselves asked for conditionally.
        """
        headers = {}
        if not discovery.is_robots_url(url):
            headers = incremental.conditional_headers(self._validators.get(url))
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.document_failed,
            headers=headers,
            meta=meta | {"handle_httpstatus_list": [304]},
        )

    def _document_fetched(self, response: Response, kind: str) -> bool:
        """Count the fetch and note the document's state; False when it was a 304 (unchanged)."""
        if response.meta.get("newsdesk_start"):
            self.start_ok += 1
        url = response.request.url if response.request else response.url
        if discovery.is_robots_url(url):
            return response.status != 304
        header = response.headers.get
        self._documents[url] = incremental.DocumentState(
            url=url,
            kind=kind,
            status=response.status,
            etag=(header(b"ETag") or b"").decode("latin-1") or None,
            last_modified=(header(b"Last-Modified") or b"").decode("latin-1") or None,
            fetched_at=datetime.now(UTC),
        )
        if response.status == 304:
            self.crawler.stats.inc_value("newsdesk/documents_not_modified")
            return False
        return True

    def _document_read(self, response: Response, entries: int, complete: bool) -> None:
        state = self._documents.get(response.request.url if response.request else response.url)
        if state is not None:
            state.entries = entries
            state.complete = complete

    # --- discovery callbacks ---------------------------------------------------------------

    async def parse_feed(self, response: Response) -> AsyncIterator[scrapy.Request]:
        if not self._document_fetched(response, discovery.FEED):
            return
        found = discovery.parse_feed(response.body, response.url)
        requests, complete = await self._article_requests(found)
        self._document_read(response, len(found), complete)
        for request in requests:
            yield request

    async def parse_robots(self, response: Response) -> AsyncIterator[scrapy.Request]:
        self._document_fetched(response, discovery.SITEMAP)
        for url in discovery.sitemaps_from_robots(response.body, response.url):
            if discovery.on_domains(url, self.source.domains):
                yield self._document(url, self.parse_sitemap, {"sitemap_depth": 0})

    async def parse_sitemap(self, response: Response) -> AsyncIterator[scrapy.Request]:
        if not self._document_fetched(response, discovery.SITEMAP):
            return
        document = discovery.parse_sitemap(response.body, response.url, max_size=self.max_size)
        if not document.type:
            self.crawler.stats.inc_value("newsdesk/documents_unreadable")
            return
        if not document.is_index:
            requests, complete = await self._article_requests(document.entries)
            self._document_read(response, len(document.entries), complete)
            for request in requests:
                yield request
            return
        self._document_read(response, len(document.entries), True)
        depth = response.meta.get("sitemap_depth", 0)
        if depth >= self.max_sitemap_depth:
            logger.warning(
                "[%s] sitemap index %s: nested deeper than %d, not followed",
                self.source.name,
                response.url,
                self.max_sitemap_depth,
            )
            return
        here = {response.url, response.request.url if response.request else response.url}
        for url, meta in document.entries:
            if url in here or not discovery.on_domains(url, self.source.domains):
                continue
            if incremental.too_old(meta, self._oldest):
                # A child sitemap last changed before the cut-off lists only older pages.
                self.crawler.stats.inc_value("newsdesk/skipped_old_sitemaps")
                continue
            yield self._document(url, self.parse_sitemap, {"sitemap_depth": depth + 1})

    async def parse_listing(self, response: Response) -> AsyncIterator[scrapy.Request]:
        if not self._document_fetched(response, discovery.LISTING):
            return
        if not isinstance(response, TextResponse):
            logger.warning("[%s] listing %s is not an HTML page", self.source.name, response.url)
            self.crawler.stats.inc_value("newsdesk/documents_unreadable")
            return
        index, page_no = response.meta["listing"], response.meta["listing_page"]
        listing = self.source.listings[index]
        page = discovery.parse_listing(
            response.body,
            response.url,
            domains=self.source.domains,
            article_pattern=listing.article_pattern,
            encoding=response.encoding,
            next_selector=listing.next_selector,
        )
        requests, complete = await self._article_requests(page.links)
        self._document_read(response, len(page.links), complete)
        for request in requests:
            yield request
        if page.next_url and listing.follow_pagination and page_no < listing.max_pages:
            yield self._document(
                page.next_url,
                self.parse_listing,
                {"listing": index, "listing_page": page_no + 1},
            )

    async def _article_requests(
        self, found: Iterable[discovery.Discovered]
    ) -> tuple[list[Any], bool]:
        """Requests for the found article URLs worth fetching, and whether none was cut by a limit.

        A URL is normalised first (so tracking parameters or a fragment do not make a stored page
        look new), then skipped before any request when it is off the source's domains, filtered
        out by include/exclude, dated before the cut-off, or already stored and not changed since
        (by the document's own lastmod/updated date).
        """
        stats = self.crawler.stats
        candidates: dict[str, dict[str, Any]] = {}
        found = list(found)
        bounded = self.max_links > 0 and len(found) > self.max_links
        if bounded:
            # A page with a million links is a trap or a broken template, not a news index.
            stats.inc_value("newsdesk/links_over_bound", len(found) - self.max_links)
            logger.warning(
                "[%s] a document lists %d links; only the first %d are followed",
                self.source.name,
                len(found),
                self.max_links,
            )
            found = found[: self.max_links]
        for found_url, meta in found:
            stats.inc_value(f"newsdesk/discovered/{meta['discovered_via']}")
            url = incremental.normalise_url(found_url)
            if not discovery.on_domains(url, self.source.domains):
                stats.inc_value("newsdesk/offsite")
            elif not self.source.wants(url):
                stats.inc_value("newsdesk/skipped_filtered")
            elif incremental.too_old(meta, self._oldest):
                stats.inc_value("newsdesk/skipped_old")
            elif url not in self._scheduled and url not in candidates:
                candidates[url] = meta
        if not candidates:
            return [], not bounded
        seen = await self._already_stored(list(candidates))
        requests = []
        complete = not bounded
        for url, meta in candidates.items():
            if url in self._scheduled:  # another document may have taken it
                continue
            if url in seen:
                if not incremental.changed_since(meta, seen[url]):
                    stats.inc_value("newsdesk/skipped_seen")
                    continue
                stats.inc_value("newsdesk/refetch_changed")
                meta = meta | {"changed": True}
            if self.limit is not None and len(self._scheduled) >= self.limit:
                stats.inc_value("newsdesk/skipped_limit")
                complete = False
                continue
            self._scheduled.add(url)
            stats.inc_value("newsdesk/article_requests")
            requests.append(
                scrapy.Request(
                    url,
                    callback=self.parse_article,
                    errback=self.article_failed,
                    priority=_ARTICLE_PRIORITY,
                    # Deduplicated above; and a redirect to a page also listed elsewhere must
                    # still be fetched, so it is stored under the URL discovery found.
                    dont_filter=True,
                    meta={"newsdesk_article": {"url": url, "discovery": meta}},
                )
            )
        return requests, complete

    async def _already_stored(self, urls: list[str]) -> dict[str, datetime]:
        """Which of the URLs raw_pages holds, with when each was fetched: one indexed query per
        chunk, nothing kept between documents."""
        if self._db is None:
            return {}
        seen: dict[str, datetime] = {}
        try:
            for start in range(0, len(urls), _SEEN_CHUNK):
                cursor = await self._db.execute(_SEEN_QUERY, (urls[start : start + _SEEN_CHUNK],))
                seen.update((url, fetched) for url, fetched in await cursor.fetchall())
        except psycopg.Error as exc:
            self._db_failed(exc)
            # Logged on one line above; CloseSpider ends the callback without a traceback.
            raise CloseSpider("db_error") from exc
        return seen

    # --- article pages ---------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterable[RawPage]:
        article = response.meta["newsdesk_article"]
        stats = self.crawler.stats
        if response.status != 200:
            return self._page_failed(article["url"], f"HTTP {response.status}")
        if not discovery.on_domains(response.url, self.source.domains):
            # dont_filter also exempts the request from OffsiteMiddleware: check redirects here.
            stats.inc_value("newsdesk/offsite")
            return self._page_failed(article["url"], f"redirected off the site to {response.url}")
        if not isinstance(response, HtmlResponse):
            content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
            stats.inc_value("newsdesk/not_html")
            return self._page_failed(article["url"], f"not HTML ({content_type or 'no type'})")
        if response.body[:2] == b"\x1f\x8b":
            # A gzip *file* labelled HTML: unpacking it later could be a bomb; never an article.
            stats.inc_value("newsdesk/not_html")
            return self._page_failed(article["url"], "not HTML (a gzip file)")
        if not response.body.strip():
            # An empty 200 is a server fault (a deploy, a full disk), never an article.
            stats.inc_value("newsdesk/empty_page")
            return self._page_failed(article["url"], "empty body")
        return [
            RawPage(
                source=self.source.name,
                url=article["url"],
                final_url=response.url,
                status=response.status,
                headers={
                    key.decode("latin-1"): [v.decode("latin-1") for v in values]
                    for key, values in response.headers.items()
                },
                body=response.body,
                discovered_via=article["discovery"]["discovered_via"],
                discovery=article["discovery"],
                fetched_at=datetime.now(UTC),
            )
        ]

    def article_failed(self, failure: Failure) -> None:
        url = failure.request.meta["newsdesk_article"]["url"]
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            return  # robots.txt, private address, offsite: counted by their own stats
        self._page_failed(url, _failure_line(failure))

    def _page_failed(self, url: str, why: str) -> list[RawPage]:
        self.crawler.stats.inc_value("newsdesk/pages_failed")
        logger.info("[%s] not stored: %s: %s", self.source.name, url, why)
        return []

    def document_failed(self, failure: Failure) -> None:
        request = failure.request
        why = _failure_line(failure)
        self.crawler.stats.inc_value("newsdesk/documents_failed")
        if request.meta.get("newsdesk_start"):
            self.start_errors.append(why if request.url in why else f"{request.url}: {why}")
        if not failure.check(IgnoreRequest) or failure.check(HttpError):
            logger.warning("[%s] cannot fetch %s: %s", self.source.name, request.url, why)

    # --- database -------------------------------------------------------------------------

    def _db_failed(self, exc: BaseException) -> None:
        line = _first_line(exc)
        if self.crawler.stats.get_value(DB_ERROR_STAT):
            return
        self.crawler.stats.set_value(DB_ERROR_STAT, line)
        logger.error("[%s] database error: %s", self.source.name, line)
        engine = self.crawler.engine
        if engine.spider is not None:  # a crawl that cannot check or store must stop
            self._closing = asyncio.ensure_future(engine.close_spider_async(reason="db_error"))

    async def _close_db(self) -> None:
        if self._db is None:
            return
        try:
            if not self.crawler.stats.get_value(DB_ERROR_STAT):
                await incremental.save_states(
                    self._db, self.source.name, list(self._documents.values())
                )
        except psycopg.Error as exc:
            # The state only saves requests next time; losing it costs a full refetch, no data.
            logger.warning(
                "[%s] cannot save discovery state: %s", self.source.name, _first_line(exc)
            )
        finally:
            await self._db.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return redact(text.splitlines()[0] if text else type(exc).__name__)


def _failure_line(failure: Failure) -> str:
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    text = str(failure.value).strip()
    if failure.check(IgnoreRequest) and text:
        return text  # our own refusals and robots.txt say what happened
    return f"{type(failure.value).__name__}: {text}" if text else type(failure.value).__name__

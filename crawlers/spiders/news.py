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
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

import psycopg
import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, UsageError
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawlers import discovery
from crawlers.pipelines import RawPage
from crawlers.runs import DB_ERROR_STAT
from pipeline.config import Source, get_sources
from pipeline.db import database_url, redact

logger = logging.getLogger(__name__)

_SEEN_QUERY = "SELECT url FROM raw_pages WHERE url = ANY(%s)"
#: URLs per seen-check query: a 50,000-URL sitemap becomes 50 queries, not one huge array.
_SEEN_CHUNK = 1000
#: Article pages go before discovery documents, so pages found are fetched (and stored) early.
_ARTICLE_PRIORITY = 10


def manual_run_key(now: datetime | None = None) -> str:
    """The run key of a run started by hand: 'manual-' and the UTC time to the second."""
    return "manual-" + (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def apply_source_settings(settings: scrapy.settings.Settings, source: Source) -> None:
    """Per-source crawl settings, at "spider" priority (a `-s` on the command line still wins)."""
    settings.set("NEWSDESK_SOURCE", source.name, priority="spider")
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
        self.limit = limit
        self.allowed_domains = source.domains
        self.crawl_run_id: int | None = None  # set by crawlers.runs.CrawlRunRecorder
        self.start_ok = 0
        self.start_errors: list[str] = []
        self._scheduled: set[str] = set()  # article URLs requested in this run
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
        crawler.signals.connect(spider._close_db, signal=signals.spider_closed)
        return spider

    # --- start ------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        try:
            self._db = await psycopg.AsyncConnection.connect(
                database_url(), autocommit=True, connect_timeout=10
            )
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
        return scrapy.Request(url, callback=callback, errback=self.document_failed, meta=meta)

    def _document_fetched(self, response: Response) -> None:
        if response.meta.get("newsdesk_start"):
            self.start_ok += 1

    # --- discovery callbacks ---------------------------------------------------------------

    async def parse_feed(self, response: Response) -> AsyncIterator[scrapy.Request]:
        self._document_fetched(response)
        found = discovery.parse_feed(response.body, response.url)
        for request in await self._article_requests(found):
            yield request

    async def parse_robots(self, response: Response) -> AsyncIterator[scrapy.Request]:
        self._document_fetched(response)
        for url in discovery.sitemaps_from_robots(response.body, response.url):
            if discovery.on_domains(url, self.source.domains):
                yield self._document(url, self.parse_sitemap, {"sitemap_depth": 0})

    async def parse_sitemap(self, response: Response) -> AsyncIterator[scrapy.Request]:
        self._document_fetched(response)
        document = discovery.parse_sitemap(response.body, response.url, max_size=self.max_size)
        if not document.type:
            self.crawler.stats.inc_value("newsdesk/documents_unreadable")
            return
        if not document.is_index:
            for request in await self._article_requests(document.entries):
                yield request
            return
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
        for url, _meta in document.entries:
            if url in here or not discovery.on_domains(url, self.source.domains):
                continue
            yield self._document(url, self.parse_sitemap, {"sitemap_depth": depth + 1})

    async def parse_listing(self, response: Response) -> AsyncIterator[scrapy.Request]:
        self._document_fetched(response)
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
        )
        for request in await self._article_requests(page.links):
            yield request
        if page.next_url and page_no < listing.max_pages:
            yield self._document(
                page.next_url,
                self.parse_listing,
                {"listing": index, "listing_page": page_no + 1},
            )

    async def _article_requests(self, found: Iterable[discovery.Discovered]) -> list[Any]:
        """Requests for the found article URLs on the source's domains not stored before."""
        stats = self.crawler.stats
        candidates: dict[str, dict[str, Any]] = {}
        for url, meta in found:
            stats.inc_value(f"newsdesk/discovered/{meta['discovered_via']}")
            if not discovery.on_domains(url, self.source.domains):
                stats.inc_value("newsdesk/offsite")
            elif url not in self._scheduled and url not in candidates:
                candidates[url] = meta
        if not candidates:
            return []
        seen = await self._already_stored(list(candidates))
        if seen:
            stats.inc_value("newsdesk/skipped_seen", len(seen))
        requests = []
        for url, meta in candidates.items():
            if url in seen or url in self._scheduled:  # another document may have taken it
                continue
            if self.limit is not None and len(self._scheduled) >= self.limit:
                stats.inc_value("newsdesk/skipped_limit")
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
        return requests

    async def _already_stored(self, urls: list[str]) -> set[str]:
        """Which of the URLs raw_pages holds: one indexed query per chunk, nothing kept."""
        if self._db is None:
            return set()
        seen: set[str] = set()
        try:
            for start in range(0, len(urls), _SEEN_CHUNK):
                cursor = await self._db.execute(_SEEN_QUERY, (urls[start : start + _SEEN_CHUNK],))
                seen.update(row[0] for row in await cursor.fetchall())
        except psycopg.Error as exc:
            self._db_failed(exc)
            raise
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
        text = str(exc).strip()
        line = redact(text.splitlines()[0] if text else type(exc).__name__)
        if self.crawler.stats.get_value(DB_ERROR_STAT):
            return
        self.crawler.stats.set_value(DB_ERROR_STAT, line)
        logger.error("[%s] database error: %s", self.source.name, line)
        engine = self.crawler.engine
        if engine.spider is not None:  # a crawl that cannot check or store must stop
            self._closing = asyncio.ensure_future(engine.close_spider_async(reason="db_error"))

    async def _close_db(self) -> None:
        if self._db is not None:
            await self._db.close()


def _failure_line(failure: Failure) -> str:
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    text = str(failure.value).strip()
    if failure.check(IgnoreRequest) and text:
        return text  # our own refusals and robots.txt say what happened
    return f"{type(failure.value).__name__}: {text}" if text else type(failure.value).__name__

"""The one generic news spider, driven by a single source's YAML entry.

It requests the source's feeds, sitemaps (robots.txt `Sitemap:` lines when a sitemap URL is a
robots.txt) and listing pages, discovers article URLs with the pure parsers of
`crawlers.discovery`, skips those already in raw_pages (checked per document, in one query) and
fetches the rest. Fetched article pages go to the raw_pages pipeline as `RawPage` items.
Discovery-document bookkeeping is in `documents`, the article choice in `articles`.

In a dry run (`dry_run=True`, used by `newsdesk sources check`) it opens no database connection:
no seen-check, no document validators; the caller collects its items and signals instead.

    scrapy crawl news -a source=NAME [-a sources=PATH] [-a run_key=KEY] [-a limit=N]
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, IgnoreRequest, UsageError
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawlers import discovery, incremental, queue_dirs
from crawlers.page_rules import read_page_rules
from crawlers.pipelines import RawPage, pages_stored
from crawlers.runs import DB_ERROR_STAT
from crawlers.spiders.articles import (
    ArticleChoice,
    PageSkips,
    failure_lasts,
    failure_line,
    page_problem,
    problem_lasts,
    raw_page,
)
from crawlers.spiders.documents import (
    ROBOTS,
    DocumentLog,
    DocumentRead,
    document_read,
    fetch_failed,
    first_url,
    requested_url,
)
from crawlers.spiders.source_settings import apply_source_settings
from pipeline.db import database_url, redact
from pipeline.sources.config import Source, get_sources
from pipeline.text.urls import on_domains

logger = logging.getLogger(__name__)

#: URLs per seen-check query: a 50,000-URL sitemap becomes 50 queries, not one huge array.
_SEEN_CHUNK = 1000
#: Article pages go before discovery documents, so pages found are fetched (and stored) early.
_ARTICLE_PRIORITY = 10


def manual_run_key(now: datetime | None = None) -> str:
    """The run key of a run started by hand: 'manual-' and the UTC time to the second."""
    return "manual-" + (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


class NewsSpider(scrapy.Spider):
    """Discover and fetch one source's article pages."""

    name = "news"

    def __init__(
        self,
        source: Source,
        run_key: str,
        limit: int | None = None,
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.run_key = run_key
        self.dry_run = dry_run
        caps = [n for n in (limit, source.limits.max_pages_per_run) if n is not None]
        self.limit = min(caps) if caps else None
        self.allowed_domains = source.domains
        self.crawl_run_id: int | None = None  # set by crawlers.runs.CrawlRunRecorder
        self.start_ok = 0
        self.start_errors: list[str] = []
        self.documents = DocumentLog()
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
        spider.articles = ArticleChoice(
            source,
            crawler,
            limit=spider.limit,
            max_links=crawler.settings.getint("NEWSDESK_MAX_LINKS_PER_DOCUMENT", 50_000),
        )
        spider.page_skips = PageSkips(source, crawler)
        crawler.signals.connect(spider._close_db, signal=signals.spider_closed)
        crawler.signals.connect(spider._pages_stored, signal=pages_stored)
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
        if not self.dry_run and not await self._open_db():
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
        """A discovery document's request, conditional when we hold its validators."""
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.document_failed,
            headers=self.documents.headers(url),
            meta=meta | {"handle_httpstatus_list": [304]},
        )

    def _document_fetched(self, response: Response, kind: str) -> bool:
        """Count the fetch and note the document's state; False when it was a 304 (unchanged)."""
        if response.meta.get("newsdesk_start"):
            self.start_ok += 1
        if self.documents.fetched(response, kind):
            return True
        self.crawler.stats.inc_value("newsdesk/documents_not_modified")
        return False

    def _document_read(self, document: DocumentRead) -> None:
        self.crawler.signals.send_catch_log(signal=document_read, document=document)

    # --- discovery callbacks ---------------------------------------------------------------

    async def parse_feed(self, response: Response) -> AsyncIterator[scrapy.Request]:
        if not self._document_fetched(response, discovery.FEED):
            return
        found = discovery.parse_feed(response.body, response.url)
        document = DocumentRead(requested_url(response), discovery.FEED, found or [])
        if found is None:  # counted like an unreadable sitemap; read, with no links
            self.crawler.stats.inc_value("newsdesk/documents_unreadable")
            document.readable = False
        for request in await self._article_requests(response, document):
            yield request

    async def parse_robots(self, response: Response) -> AsyncIterator[scrapy.Request]:
        self._document_fetched(response, discovery.SITEMAP)
        document = DocumentRead(requested_url(response), ROBOTS)
        for url in discovery.sitemaps_from_robots(response.body, response.url):
            if on_domains(url, self.source.domains):
                document.children.append(url)
                yield self._document(url, self.parse_sitemap, {"sitemap_depth": 0})
        self._document_read(document)

    async def parse_sitemap(self, response: Response) -> AsyncIterator[scrapy.Request]:
        if not self._document_fetched(response, discovery.SITEMAP):
            return
        parsed = discovery.parse_sitemap(response.body, response.url, max_size=self.max_size)
        document = DocumentRead(requested_url(response), discovery.SITEMAP, parsed.entries)
        if not parsed.type:
            self.crawler.stats.inc_value("newsdesk/documents_unreadable")
            document.readable = False
            self._document_read(document)
            return
        if not parsed.is_index:
            for request in await self._article_requests(response, document):
                yield request
            return
        document.index = True
        self.documents.read(response, len(parsed.entries), True)
        depth = response.meta.get("sitemap_depth", 0)
        if depth >= self.max_sitemap_depth:
            logger.warning("[%s] sitemap index %s: nested deeper than %d, not followed",
                           self.source.name, response.url, self.max_sitemap_depth)  # fmt: skip
            self._document_read(document)
            return
        here = {response.url, document.url}
        for url, meta in parsed.entries:
            if url in here or not on_domains(url, self.source.domains):
                continue
            if incremental.too_old(meta, self.articles.oldest):
                # A child sitemap last changed before the cut-off lists only older pages.
                self.crawler.stats.inc_value("newsdesk/skipped_old_sitemaps")
                continue
            document.children.append(url)
            child = self._document(url, self.parse_sitemap, {"sitemap_depth": depth + 1})
            self.documents.followed(document.url, child.url)
            yield child
        self._document_read(document)

    async def parse_listing(self, response: Response) -> AsyncIterator[scrapy.Request]:
        if not self._document_fetched(response, discovery.LISTING):
            return
        document = DocumentRead(requested_url(response), discovery.LISTING)
        if not isinstance(response, TextResponse):
            logger.warning("[%s] listing %s is not an HTML page", self.source.name, response.url)
            self.crawler.stats.inc_value("newsdesk/documents_unreadable")
            document.readable = False
            self._document_read(document)
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
        document.links = page.links
        if page.next_url and listing.follow_pagination and page_no < listing.max_pages:
            document.next_url = page.next_url
        for request in await self._article_requests(response, document):
            yield request
        if document.next_url:
            page = {"listing": index, "listing_page": page_no + 1}
            following = self._document(document.next_url, self.parse_listing, page)
            self.documents.followed(document.url, following.url)
            yield following

    async def _article_requests(
        self, response: Response, document: DocumentRead
    ) -> list[scrapy.Request]:
        """Requests for the document's article links worth fetching (`ArticleChoice`); notes
        the document as read, complete unless a limit cut its links."""
        candidates, bounded = self.articles.wanted(document.links)
        document.wanted = list(candidates)
        chosen: list[tuple[str, str, dict[str, Any]]] = []
        complete = not bounded
        if candidates:
            seen = await self._already_stored(self.articles.unscheduled(candidates))
            chosen, taken_all = self.articles.take(candidates, seen)
            complete &= taken_all
            # Its articles requested now or for an earlier document: each must end safe.
            scheduled = [key for key in candidates if key in self.articles.scheduled]
            self.documents.requested(document.url, scheduled)
        self.documents.read(response, len(document.links), complete)
        self._document_read(document)
        return [
            scrapy.Request(
                url,
                callback=self.parse_article,
                errback=self.article_failed,
                priority=_ARTICLE_PRIORITY,
                # Deduplicated by ArticleChoice; and a redirect to a page also listed elsewhere
                # must still be fetched, so it is stored under the URL discovery found.
                dont_filter=True,
                meta={"newsdesk_article": {"url": url, "key": key, "discovery": meta}},
            )
            for key, url, meta in chosen
        ]

    async def _already_stored(self, keys: list[str]) -> dict[str, datetime | None]:
        """Which of the URL keys raw_pages holds, with when each was fetched (None: taken down):
        one indexed query per chunk, nothing kept between documents (nothing in a dry run)."""
        if self._db is None or not keys:
            return {}
        seen: dict[str, datetime | None] = {}
        skip = list(self.source.skip_pages)
        try:
            for start in range(0, len(keys), _SEEN_CHUNK):
                chunk = {"keys": keys[start : start + _SEEN_CHUNK], "skip": skip}
                cursor = await self._db.execute(incremental.SEEN_QUERY, chunk)
                seen.update((key, fetched) for key, fetched in await cursor.fetchall())
        except psycopg.Error as exc:
            self._db_failed(exc)
            # Logged on one line above; CloseSpider ends the callback without a traceback.
            raise CloseSpider("db_error") from exc
        return seen

    # --- article pages ---------------------------------------------------------------------

    async def parse_article(self, response: Response) -> list[RawPage]:
        article = response.meta["newsdesk_article"]
        problem = page_problem(response, self.source.domains)
        if problem is not None:
            stat, why = problem
            if stat:
                self.crawler.stats.inc_value(stat)
            self.documents.settle([article["key"]], safe=problem_lasts(stat))
            return self._page_failed(article["url"], why)
        rules = read_page_rules(response, self.page_skips.bot)
        remembered = await self.page_skips.skip(article, rules, self._db)
        if remembered is not None:  # skipped; safe to save validators once remembered
            self.documents.settle([article["key"]], safe=remembered)
            return []
        return [raw_page(self.source.name, article, response, rules)]

    def article_failed(self, failure: Failure) -> None:
        article = failure.request.meta["newsdesk_article"]
        url = article["url"]
        self.documents.settle([article["key"]], safe=failure_lasts(failure))
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            # robots.txt, private address, bot wall: counted by their own stats
            self._fetch_failed(url, failure_line(failure), article=True)
            return
        self._page_failed(url, failure_line(failure))

    def _page_failed(self, url: str, why: str) -> list[RawPage]:
        self.crawler.stats.inc_value("newsdesk/pages_failed")
        logger.info("[%s] not stored: %s: %s", self.source.name, url, why)
        self._fetch_failed(url, why, article=True)
        return []

    def document_failed(self, failure: Failure) -> None:
        request = failure.request
        why = failure_line(failure)
        self.crawler.stats.inc_value("newsdesk/documents_failed")
        if request.meta.get("newsdesk_start"):
            self.start_errors.append(why if request.url in why else f"{request.url}: {why}")
        if not failure.check(IgnoreRequest) or failure.check(HttpError):
            logger.warning("[%s] cannot fetch %s: %s", self.source.name, request.url, why)
        # An index or listing that led here is complete without it only if the failure lasts.
        asked = first_url(request)
        self.documents.settle([asked], safe=failure_lasts(failure))
        self._fetch_failed(asked, why, article=False)

    def _pages_stored(self, keys: list[str]) -> None:
        self.documents.settle(keys, safe=True)

    def _fetch_failed(self, url: str, why: str, *, article: bool) -> None:
        self.crawler.signals.send_catch_log(signal=fetch_failed, url=url, why=why, article=article)

    # --- database -------------------------------------------------------------------------

    async def _open_db(self) -> bool:
        """Connect for the seen-checks and load the documents' validators; False on failure."""
        try:
            self._db = await psycopg.AsyncConnection.connect(
                database_url(), autocommit=True, connect_timeout=10
            )
            self.documents.validators = await incremental.load_validators(
                self._db, self.source.name
            )
        except psycopg.Error as exc:
            self._db_failed(exc)
            return False
        return True

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
                states = self.documents.final_states()
                await incremental.save_states(self._db, self.source.name, states)
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

"""Politeness beyond Scrapy's own: robots.txt Crawl-delay and Retry-After, per host.

Scrapy 2.19 parses robots.txt (and Protego reads `Crawl-delay`) but never applies the delay, and
its RetryMiddleware retries 429/503 without reading `Retry-After`. Both come down to "do not
start the next request to this host before time T", which `HostPacer` keeps: one gate per
host:port, shared by the two middlewares below through the crawler.

- `PacingMiddleware` waits at the gate before each request goes to the downloader, and reads
  each robots.txt's Crawl-delay (the `robots_parsed` signal) into the host's minimum interval.
- `RetryAfterMiddleware` is Scrapy's RetryMiddleware that, on a 429/503 with Retry-After, shuts
  the host's gate for that long before the retry; a wait longer than NEWSDESK_RETRY_AFTER_MAX is
  not made (the request is given up and counted).
- `RobotsTxtMiddleware` is Scrapy's, with robots.txt applied to every request that waited for it
  (Scrapy 2.19 lets all but the first through unchecked).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

#: Statuses whose Retry-After we honour.
RETRY_AFTER_STATUSES = (429, 503)


def retry_after_seconds(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), None if unreadable."""
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class HostPacer:
    """Per host:port, the earliest time the next request may start, and a minimum interval."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self.clock = clock
        self._next: dict[str, float] = {}
        self._interval: dict[str, float] = {}

    def set_interval(self, host: str, seconds: float) -> None:
        self._interval[host] = max(self._interval.get(host, 0.0), seconds)

    def interval(self, host: str) -> float:
        return self._interval.get(host, 0.0)

    def hold(self, host: str, seconds: float) -> None:
        """No request to `host` for `seconds` from now (Retry-After)."""
        self._next[host] = max(self._next.get(host, 0.0), self.clock() + seconds)

    def reserve(self, host: str) -> float:
        """Take the host's next slot; the seconds to wait before using it."""
        now = self.clock()
        start = max(now, self._next.get(host, 0.0))
        interval = self._interval.get(host, 0.0)
        if interval or host in self._next:
            self._next[host] = start + interval
        return start - now


_PACERS: weakref.WeakKeyDictionary[Any, HostPacer] = weakref.WeakKeyDictionary()


def pacer_for(crawler: Crawler) -> HostPacer:
    """The crawler's one HostPacer (both middlewares share it)."""
    if crawler not in _PACERS:
        _PACERS[crawler] = HostPacer()
    return _PACERS[crawler]


def _host(request: Request) -> str:
    return urlparse_cached(request).netloc.lower()


class PacingMiddleware:
    """Downloader middleware: hold each request until its host's gate opens."""

    def __init__(self, crawler: Crawler, max_crawl_delay: float) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.pacer = pacer_for(crawler)
        self.max_crawl_delay = max_crawl_delay
        self.user_agent = crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings.get(
            "USER_AGENT"
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PacingMiddleware:
        mw = cls(crawler, crawler.settings.getfloat("NEWSDESK_MAX_CRAWL_DELAY", 120.0))
        crawler.signals.connect(mw.robots_parsed, signal=signals.robots_parsed)
        return mw

    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        try:
            delay = robotparser.crawl_delay(self.user_agent)
        except (AttributeError, NotImplementedError):
            return
        if not delay:
            return
        host = _host(request)
        if delay > self.max_crawl_delay:
            logger.warning(
                "robots.txt of %s asks for Crawl-delay %.0fs; using the maximum, %.0fs",
                host, delay, self.max_crawl_delay,
            )  # fmt: skip
            delay = self.max_crawl_delay
        self.pacer.set_interval(host, float(delay))
        self.stats.max_value("newsdesk/crawl_delay", float(delay))

    async def process_request(self, request: Request) -> None:
        wait = self.pacer.reserve(_host(request))
        if wait > 0:
            await asyncio.sleep(wait)


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware, honouring Retry-After on 429 and 503."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.max_wait = settings.getfloat("NEWSDESK_RETRY_AFTER_MAX", 120.0)

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Any:
        if (
            response.status not in RETRY_AFTER_STATUSES
            or response.status not in self.retry_http_codes
            or request.meta.get("dont_retry", False)
        ):
            return super().process_response(request, response)
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if wait is None:
            return super().process_response(request, response)
        stats = self.crawler.stats
        if wait > self.max_wait:
            stats.inc_value("newsdesk/retry_after_too_long")
            logger.warning(
                "%s: Retry-After %.0fs is longer than NEWSDESK_RETRY_AFTER_MAX (%.0fs); gave up",
                request.url, wait, self.max_wait,
            )  # fmt: skip
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        pacer_for(self.crawler).hold(_host(request), wait)
        stats.inc_value("newsdesk/retry_after")
        return retry


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Scrapy's RobotsTxtMiddleware, with the verdict for every request that waited for it.

    While a host's robots.txt downloads, Scrapy 2.19 has each further request to the host await
    one shared Deferred; Deferred.asFuture consumes its result, so only the first waiter gets the
    parser and the others get None, "no robots.txt": a crawl's first requests to a site went out
    unchecked (a `Disallow: /` site still served its feeds and listings). By then the parser is
    stored, so a None is looked up again.
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        parser = await super().robot_parser(request)
        return parser or self._parsers.get(urlparse_cached(request).netloc)

"""One Scrapy crawl in this process with the crawl's own settings, minus everything that writes.

The crawl's downloader middlewares (private-address guard, robots.txt, retries, bot walls,
pacing) and limits (size, timeouts, redirects, decompression) all stay; the raw_pages store and
the crawl_runs recorder, the parts that write to the database, are switched off. What the crawl
saw is kept by extensions (`RobotsLog` here), read with `crawler.get_extension` after the run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import AsyncCrawlerProcess, Crawler
from scrapy.http import Response
from scrapy.settings import Settings

from crawlers import discovery
from crawlers.spiders.documents import first_url

#: The crawl's extensions that write to the database, or count what was stored.
_WRITERS = {
    "crawlers.runs.CrawlRunRecorder": None,
    "crawlers.extensions.ProgressReporter": None,
}


def dry_run_settings(*extensions: type) -> Settings:
    """`crawlers.settings` without the raw_pages pipeline and the run-recording extensions,
    with `RobotsLog` and the given extensions."""
    settings = Settings()
    settings.setmodule("crawlers.settings", priority="project")
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    ours = {cls: 0 for cls in (RobotsLog, *extensions)}
    settings.set("EXTENSIONS", settings.getdict("EXTENSIONS") | _WRITERS | ours, priority="cmdline")
    return settings


def _without_traceback(record: logging.LogRecord) -> bool:
    record.exc_info = record.exc_text = None
    return True


def run(spider_cls: type[Spider], settings: Settings, **kwargs: Any) -> Crawler:
    """Run one spider to its end, in this process (one per process: the reactor cannot restart)."""
    # An unreachable site's robots.txt is one line for the person reading, not a traceback.
    logging.getLogger("scrapy.downloadermiddlewares.robotstxt").addFilter(_without_traceback)
    process = AsyncCrawlerProcess(settings)
    crawler = process.create_crawler(spider_cls)
    process.crawl(crawler, **kwargs)
    process.start()
    return crawler


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class RobotsTxt:
    """One robots.txt as the crawl's RobotsTxtMiddleware fetched it."""

    url: str
    status: int
    sitemaps: list[str] = field(default_factory=list)
    crawl_delay: float | None = None


class RobotsLog:
    """Extension: every robots.txt the crawl read, by origin (the middleware fetches them)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.by_origin: dict[str, RobotsTxt] = {}
        crawler.signals.connect(self.response_received, signal=signals.response_received)
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsLog:
        return cls(crawler)

    def response_received(self, response: Response, request: Request) -> None:
        url = first_url(request)
        if request.meta.get("dont_obey_robotstxt") and discovery.is_robots_url(url):
            sitemaps = discovery.sitemaps_from_robots(response.body, response.url)
            self.by_origin[origin(url)] = RobotsTxt(url, response.status, sitemaps)

    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        robots = self.by_origin.get(origin(request.url))
        crawl_delay = getattr(robotparser, "crawl_delay", None)
        if robots is not None and crawl_delay is not None:
            # The source's User-Agent: set on the crawler's settings when the spider was built.
            robots.crawl_delay = crawl_delay(self.crawler.settings.get("USER_AGENT"))

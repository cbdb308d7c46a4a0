"""`discover`: find a site's feeds and sitemaps and print a YAML entry to review.

Feeds: the homepage's <link rel=alternate> feeds, then common feed paths, until three are found.
Sitemaps: the robots.txt `Sitemap:` lines (the robots.txt the crawl's RobotsTxtMiddleware reads
anyway), else common sitemap paths. Every request goes through the crawl's Scrapy stack: the
private-address guard, robots.txt, politeness and the size and decompression limits.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import Any, TextIO
from urllib.parse import urljoin, urlsplit

import scrapy
import yaml
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawlers import discovery
from crawlers.probe.dry_run import RobotsLog, dry_run_settings, origin, run
from crawlers.spiders.articles import failure_line
from crawlers.spiders.documents import requested_url
from crawlers.spiders.source_settings import apply_source_settings
from pipeline.sources.config import Politeness, Source
from pipeline.text.urls import on_domains

COMMON_FEEDS = ("/feed/", "/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml",
                "/feeds/all.atom", "/feeds/all.atom.xml", "/feed.json")  # fmt: skip
COMMON_SITEMAPS = ("/sitemap.xml", "/sitemap_index.xml", "/news-sitemap.xml",
                   "/sitemap-news.xml", "/sitemap.xml.gz")  # fmt: skip
#: Feeds worth listing in one entry; the search stops at this many.
_ENOUGH_FEEDS = 3
_FEED_TYPES = re.compile(r"application/(rss|atom|feed)\+(xml|json)|application/json", re.I)
_ALTERNATE = "//link[contains(concat(' ', normalize-space(@rel), ' '), ' alternate ')]"


class DiscoverSpider(scrapy.Spider):
    """The homepage, then one candidate feed or sitemap at a time, each tried in turn."""

    name = "discover"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.home: Response | None = None
        self.error: str | None = None
        self.feeds: list[str] = []
        self.sitemaps: list[str] = []
        self._feeds_to_try: list[str] = []
        self._sitemaps_to_try: list[str] = []

    async def start(self) -> Any:
        yield scrapy.Request(self.url, callback=self.parse_home, errback=self.home_failed)

    def home_failed(self, failure: Failure) -> None:
        self.error = failure_line(failure)

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        self.home = response
        site = origin(response.url)
        candidates = [*feed_links(response), *(site + path for path in COMMON_FEEDS)]
        host = urlsplit(site).hostname or ""
        self._feeds_to_try = [
            url for url in dict.fromkeys(candidates) if on_domains(url, [host])
        ]
        robots = self.crawler.get_extension(RobotsLog).by_origin.get(site)
        self.sitemaps = list(robots.sitemaps) if robots and robots.status == 200 else []
        if self.sitemaps:
            print(f"sitemaps announced in robots.txt: {len(self.sitemaps)}", file=sys.stderr)
        else:
            self._sitemaps_to_try = [site + path for path in COMMON_SITEMAPS]
        yield from self._next()

    def _next(self) -> Iterator[scrapy.Request]:
        """The next candidate's request: one at a time, so the search stops when it is done."""
        if self._feeds_to_try and len(self.feeds) < _ENOUGH_FEEDS:
            url, callback = self._feeds_to_try.pop(0), self.parse_feed
        elif self._sitemaps_to_try:
            url, callback = self._sitemaps_to_try.pop(0), self.parse_sitemap
        else:
            return
        yield scrapy.Request(url, callback=callback, errback=self.not_found, dont_filter=True)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        url = requested_url(response)  # a redirect's target: /feed and /feed/ are one feed
        if discovery.parse_feed(response.body, response.url) and url not in self.feeds:
            self.feeds.append(url)
            print(f"feed: {url}", file=sys.stderr)
        yield from self._next()

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        max_size = self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
        url = requested_url(response)
        if discovery.parse_sitemap(response.body, response.url, max_size=max_size).type \
                and url not in self.sitemaps:
            self.sitemaps.append(url)
            print(f"sitemap: {url}", file=sys.stderr)
        yield from self._next()

    def not_found(self, failure: Failure) -> Iterator[scrapy.Request]:
        yield from self._next()


def feed_links(response: Response) -> list[str]:
    """The feeds a page announces with <link rel=alternate type=...feed type...>."""
    if not isinstance(response, TextResponse):
        return []
    links = []
    for link in response.xpath(_ALTERNATE):
        href = link.attrib.get("href")
        if href and _FEED_TYPES.search(link.attrib.get("type", "")):
            links.append(urljoin(response.url, href))
    return links


def source_name(host: str) -> str:
    """A source name from a host: its first label ('www.' dropped), or site_ and an address."""
    if re.fullmatch(r"[\d.]+|\[?[0-9a-f:]+\]?", host):
        return "site_" + re.sub(r"[^a-z0-9]", "_", host.lower())
    name = re.sub(r"[^a-z0-9_]", "_", host.removeprefix("www.").split(".")[0].lower())[:63]
    return name.lstrip("_") or "source"


def discover(url: str, *, allow_private: bool, delay: float, out: TextIO = sys.stdout) -> int:
    """Find the site's feeds and sitemaps; print its YAML entry. 0 when any was found."""
    err = sys.stderr
    # The settings a source for this site would have (User-Agent, delay, the guard's verdict).
    site = Source(
        name=source_name(urlsplit(url).hostname or ""),
        homepage=url,
        politeness=Politeness(delay=delay),
        allow_private_addresses=allow_private,
    )
    settings = dry_run_settings()
    apply_source_settings(settings, site)
    spider = run(DiscoverSpider, settings, url=url).spider
    if spider.home is None:
        print(f"cannot fetch {url}: {spider.error or 'no answer'}", file=err)
        return 1
    feeds, sitemaps = spider.feeds, spider.sitemaps
    if not feeds and not sitemaps:
        print("no feed or sitemap found: add listings (section pages) by hand", file=err)
    entry = {"name": source_name(urlsplit(spider.home.url).hostname or ""),
             "homepage": spider.home.url, "feeds": feeds, "sitemaps": sitemaps}  # fmt: skip
    lang = re.search(rb"<html[^>]*\slang=[\"']?([a-zA-Z]{2})", spider.home.body[:4096])
    if lang:
        entry["language"] = lang.group(1).decode().lower()
    if allow_private:
        entry["allow_private_addresses"] = True
    print("# review, then add to your sources file; `newsdesk sources check NAME` next", file=out)
    print(yaml.safe_dump({"sources": [entry]}, sort_keys=False, allow_unicode=True), end="",
          file=out)  # fmt: skip
    return 0 if feeds or sitemaps else 1

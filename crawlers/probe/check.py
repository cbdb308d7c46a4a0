"""`check`: a dry run of one source's crawl, and the report an ops engineer reads before it goes
live: what each discovery method found, robots.txt, the first articles' fields, and warnings.

The crawl is the real news spider (`dry_run=True`, limited to the first N article pages) with the
crawl's settings minus the database writers (`crawlers.probe.dry_run`); what it saw comes from
its signals (`crawlers.spiders.documents`) and the items it yields, kept in memory.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from scrapy import signals
from scrapy.crawler import Crawler

from crawlers import incremental
from crawlers.pipelines import RawPage
from crawlers.probe.dry_run import RobotsLog, RobotsTxt, dry_run_settings, origin, run
from crawlers.spiders.documents import ROBOTS, DocumentRead, document_read, fetch_failed
from crawlers.spiders.news import NewsSpider
from crawlers.spiders.source_settings import user_agent
from pipeline.sources.config import Source
from pipeline.text.cleaning import escape_controls

#: Child sitemaps of an index shown one by one; the rest are summed up on one line.
_SHOWN_CHILDREN = 5
#: The check's time budget: it reads every document the crawl would (every child sitemap, every
#: listing page), which on a big site with a politeness delay takes far longer than a look needs.
CHECK_SECONDS = 120


@dataclass
class CheckLog:
    """Extension: what the dry run saw, from the spider's signals and items."""

    robots: dict[str, RobotsTxt] = field(default_factory=dict)  # by origin, from RobotsLog
    documents: dict[str, DocumentRead] = field(default_factory=dict)  # by requested URL
    failed: dict[str, str] = field(default_factory=dict)  # document URL -> why
    articles: list[tuple[str, RawPage | str]] = field(default_factory=list)  # page, or why not
    stats: dict[str, Any] = field(default_factory=dict)  # the crawl's own, after it closed
    moved: dict[str, str] = field(default_factory=dict)  # URL asked for -> its redirect's target

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CheckLog:
        log = cls()
        crawler.signals.connect(log.document_read, signal=document_read)
        crawler.signals.connect(log.fetch_failed, signal=fetch_failed)
        crawler.signals.connect(log.item_scraped, signal=signals.item_scraped)
        return log

    def document(self, url: str) -> DocumentRead | None:
        """The document read for `url`, also when it answered with a redirect."""
        return self.documents.get(self.moved.get(url, url))

    def document_read(self, document: DocumentRead) -> None:
        self.documents[document.url] = document

    def fetch_failed(self, url: str, why: str, article: bool) -> None:
        if article:
            self.articles.append((url, why))
        else:
            self.failed[url] = why

    def item_scraped(self, item: Any) -> None:
        if isinstance(item, RawPage):
            self.articles.append((item.url, item))


def check(source: Source, *, articles: int, out: TextIO = sys.stdout) -> int:
    """Dry-run the source's crawl and print the report; 0 when an article was extracted."""
    settings = dry_run_settings(CheckLog)
    settings.set("CLOSESPIDER_TIMEOUT", CHECK_SECONDS, priority="cmdline")
    crawler = run(NewsSpider, settings, source=source, run_key="dry-run", limit=articles,
                  dry_run=True)  # fmt: skip
    log = crawler.get_extension(CheckLog)
    log.robots = crawler.get_extension(RobotsLog).by_origin
    log.stats = crawler.stats.get_stats()
    log.moved = crawler.spider.documents.moved
    return Report(source, log, out).write(articles)


class Report:
    """The check's report, section by section; `warnings` gathers what needs a look."""

    def __init__(self, source: Source, log: CheckLog, out: TextIO) -> None:
        self.source = source
        self.log = log
        self.out = out
        self.warnings: list[str] = []

    def say(self, text: str = "") -> None:
        """One line of the report. It quotes what pages and servers wrote (authors, URLs, error
        text): their control characters are shown escaped, never sent to the terminal."""
        print(escape_controls(text, keep=""), file=self.out)

    def write(self, articles: int) -> int:
        source = self.source
        self.say(f"source {source.name}: {source.homepage}  (dry run: nothing is written to the "
                 "database)")  # fmt: skip
        self.say(f"User-Agent: {user_agent(source.contact)}")
        self.robots()
        self.section("feeds", source.feeds, "feed")
        self.section("sitemaps", source.sitemaps, "sitemap")
        self.section("listings", [listing.url for listing in source.listings], "listing")
        good = self.articles(articles)
        if self.log.stats.get("finish_reason") == "closespider_timeout":
            self.warnings.append(f"stopped after {CHECK_SECONDS} s: the figures above are what "
                                 "was read by then")
        self.say("warnings:" if self.warnings else "warnings: none")
        for line in self.warnings:
            self.say(f"  - {line}")
        self.say(f"({self.log.stats.get('downloader/request_count', 0)} requests)")
        return 0 if good else 1

    def robots(self) -> None:
        seen = self.log.robots
        for url_origin in sorted(seen.keys() | {origin(self.source.homepage)}):
            robots = seen.get(url_origin)
            if robots is None:
                self.say(f"robots.txt: {url_origin}/robots.txt: not read (nothing fetched there)")
            elif robots.status != 200:
                self.say(f"robots.txt: {robots.url}: HTTP {robots.status} (everything allowed)")
            else:
                self.say(f"robots.txt: {robots.url}: read; crawl-delay "
                         f"{robots.crawl_delay or 'none'}; sitemaps announced: "
                         f"{len(robots.sitemaps)}")  # fmt: skip

    def section(self, title: str, urls: list[str], kind: str) -> None:
        self.say(f"{title}:")
        if not urls:
            self.say("  (none configured)")
        for url in urls:
            self.document(url, kind, depth=1)

    def document(self, url: str, kind: str, depth: int) -> None:
        """One document's line, then those of the sitemaps or the next page it led to."""
        indent = "  " * depth
        document = self.log.document(url)
        if document is None:
            why = self.log.failed.get(url, "not fetched")
            self.say(f"{indent}{url}: {why}")
            self.warnings.append(f"{kind} {url}: {why}")
            return
        self.say(f"{indent}{url}: {self.summary(document, kind)}")
        for child in document.children[:_SHOWN_CHILDREN]:
            self.document(child, "sitemap", depth + 1)
        self.more_children(document, indent + "  ")
        if document.next_url:
            self.document(document.next_url, kind, depth + 1)

    def more_children(self, document: DocumentRead, indent: str) -> None:
        """One line for the child sitemaps past the first few (an index may list hundreds)."""
        rest = document.children[_SHOWN_CHILDREN:]
        if not rest:
            return
        read = [document for document in map(self.log.document, rest) if document]
        failed = sum(url in self.log.failed for url in rest)
        links = sum(len(child.links) for child in read)
        wanted = sum(len(child.wanted) for child in read)
        self.say(f"{indent}... and {len(rest)} more sitemaps: {len(read)} read ({links} links, "
                 f"{wanted} wanted), {failed} failed")  # fmt: skip
        if failed:
            self.warnings.append(f"sitemap {document.url}: {failed} more child sitemaps failed")

    def summary(self, document: DocumentRead, kind: str) -> str:
        links, wanted = document.links, len(document.wanted)
        dated = sum(1 for _, meta in links if incremental.entry_date(meta) is not None)
        if not document.readable:
            self.warnings.append(f"{kind} {document.url}: not a readable {kind}")
            return f"not a readable {kind}"
        if document.kind == ROBOTS:
            return f"announces {len(document.children)} sitemaps"
        if document.index:
            return f"sitemap index, {len(links)} sitemaps ({len(document.children)} followed)"
        if kind == "feed":
            if links and not dated:
                self.warnings.append(
                    f"feed {document.url}: no dates on its items (max_age_days cannot apply)"
                )
            return f"{len(links)} links, {dated} dated, {wanted} wanted"
        if kind == "sitemap":
            news = sum(1 for _, meta in links if meta.get("news"))
            return f"{len(links)} links ({news} news), {dated} dated, {wanted} wanted"
        if not links:
            self.warnings.append(f"listing {document.url}: no link matches article_pattern")
        return (
            f"{len(links)} article links, {wanted} wanted; next page: {document.next_url or 'none'}"
        )

    def articles(self, articles: int) -> int:
        """The fetched articles' field completeness; how many were extracted."""
        from pipeline.extraction.extract import NotAnArticle, extract_article

        candidates = {url for d in self.log.documents.values() for url in d.wanted}
        self.say(f"articles: {len(candidates)} candidates; extracting the first {articles}")
        good = short = undated = failed = 0
        for url, page in self.log.articles:
            if isinstance(page, str):
                failed += 1
                self.say(f"  {url}: {page}")
                self.warnings.append(f"article {url}: {page}")
                continue
            content_type = (page.headers.get("Content-Type") or [""])[0]
            hints = {**page.discovery, "content_type": content_type}
            try:
                art = extract_article(page.body, page.final_url, source=self.source, hints=hints)
            except NotAnArticle as exc:
                self.say(f"  {url}: not an article ({exc})")
                continue
            good += 1
            date = art.to_json()["published_at"] or "-"  # as the publisher wrote it
            self.say(f"  {url}")
            self.say(f"    title: {'yes' if art.title else 'NO'} · date: {date}"
                     f" ({art.date_source or 'none'}) · authors: {', '.join(art.authors) or 'NONE'}"
                     f" · body: {len(art.body)} chars, {art.word_count} words")  # fmt: skip
            undated += art.published_at is None
            short += art.word_count < 100
        if not candidates:
            self.warnings.append("no article URL found by any discovery method")
        if self.log.articles and failed == len(self.log.articles):
            self.warnings.append("every article request was blocked, refused or failed")
        if good and undated == good:
            self.warnings.append("no dates found on the extracted articles")
        if good and short:
            self.warnings.append(f"{short} of {good} article bodies are shorter than 100 words")
        return good

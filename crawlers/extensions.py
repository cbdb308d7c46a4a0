"""Progress on stderr: one line per source every few seconds, and one when it finishes.

Scrapy's own log stays at WARNING by default, so these lines are what a person watching a crawl
reads: discovered, requested, stored and failed pages, and refusals.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawlers.page_rules import SKIPPED_STAT

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler


def progress_line(name: str, stats: dict[str, Any], elapsed: float) -> str:
    """'[name] 12s: discovered 120 · requested 80 · stored 78 · failed 2' (+ refusals if any)."""

    def n(key: str) -> int:
        value = stats.get(key, 0)
        return int(value) if isinstance(value, int | float) else 0

    discovered = sum(n(f"newsdesk/discovered/{k}") for k in ("feed", "sitemap", "listing"))
    parts = [
        f"discovered {discovered}",
        f"seen before {n('newsdesk/skipped_seen')}",
        f"requested {n('newsdesk/article_requests')}",
        f"stored {n('newsdesk/pages_stored')}",
        f"failed {n('newsdesk/pages_failed')}",
    ]
    if n("newsdesk/refused_private_address"):
        parts.append(f"refused {n('newsdesk/refused_private_address')}")
    if n("robotstxt/forbidden"):
        parts.append(f"robots-denied {n('robotstxt/forbidden')}")
    if n(SKIPPED_STAT):
        parts.append(f"skipped for page rules {n(SKIPPED_STAT)}")
    return f"[{name}] {elapsed:.0f}s: " + " · ".join(parts)


class ProgressReporter:
    """Extension: prints `progress_line` every NEWSDESK_PROGRESS_INTERVAL seconds."""

    def __init__(self, crawler: Crawler, interval: float, stream: TextIO = sys.stderr) -> None:
        self.crawler = crawler
        self.interval = interval
        self.stream = stream
        self._task: asyncio.Task[None] | None = None
        self._started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressReporter:
        interval = crawler.settings.getfloat("NEWSDESK_PROGRESS_INTERVAL", 5.0)
        if interval <= 0 or not crawler.settings.get("NEWSDESK_SOURCE"):
            raise NotConfigured
        reporter = cls(crawler, interval)
        crawler.signals.connect(reporter.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(reporter.spider_closed, signal=signals.spider_closed)
        return reporter

    def _line(self) -> str:
        name = self.crawler.settings.get("NEWSDESK_SOURCE")
        return progress_line(name, self.crawler.stats.get_stats(), time.monotonic() - self._started)

    def spider_opened(self, spider: Spider) -> None:
        self._started = time.monotonic()
        self._task = asyncio.get_event_loop().create_task(self._report())

    async def _report(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            print(self._line(), file=self.stream, flush=True)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self._task is not None:
            self._task.cancel()
        from crawlers.runs import CrawlRunRecorder

        recorder = self.crawler.get_extension(CrawlRunRecorder)
        result = recorder.result if recorder is not None else None
        status = result["status"] if result else reason
        error = f" ({result['error']})" if result and result.get("error") else ""
        print(f"{self._line()} — {status}{error}", file=self.stream, flush=True)

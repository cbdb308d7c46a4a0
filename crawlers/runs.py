"""crawl_runs bookkeeping: one row per (source, run key), opened at spider start, closed at end.

`start_run` and `finish_run` are plain functions on a connection; `CrawlRunRecorder` is the
Scrapy extension that calls them on spider_opened / spider_closed and keeps the run's result for
the runner to print.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.types.json import Jsonb
from scrapy import signals
from scrapy.exceptions import CloseSpider, NotConfigured

from crawlers.page_rules import SKIPPED_STAT, TDMREP_BROKEN_STAT, skipped_stat
from pipeline.db import connect, redact
from pipeline.sources.config import SKIP_RULES
from pipeline.sources.sync import sync_source

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

#: How long the end of a crawl waits for the database to record the run's outcome.
RECORD_WAIT_SECONDS = 30

#: The stat a component sets (to a one-line message) when the database failed under it.
DB_ERROR_STAT = "newsdesk/db_error"

_START_RUN = """
INSERT INTO crawl_runs (source, run_key, status, started_at)
VALUES (%(source)s, %(run_key)s, 'running', now())
ON CONFLICT (source, run_key) DO UPDATE
   SET status = 'running', started_at = now(), finished_at = NULL, error = NULL, stats = '{}',
       pages_fetched = 0, pages_failed = 0, articles_new = 0, articles_updated = 0, errors = 0
RETURNING id
"""

_FINISH_RUN = """
UPDATE crawl_runs
   SET status = %(status)s, error = %(error)s, finished_at = now(),
       pages_fetched = %(pages_fetched)s, pages_failed = %(pages_failed)s, stats = %(stats)s
 WHERE id = %(id)s
"""


def start_run(conn: psycopg.Connection, source: str, run_key: str) -> int:
    """Open the run (source, run_key) as 'running' with zero counts; a rerun reuses its row."""
    row = conn.execute(_START_RUN, {"source": source, "run_key": run_key}).fetchone()
    assert row is not None
    return row[0]


def finish_run(
    conn: psycopg.Connection,
    run_id: int,
    *,
    status: str,
    error: str | None,
    pages_fetched: int,
    pages_failed: int,
    stats: dict[str, Any],
) -> None:
    """Close the run with its outcome and crawl statistics."""
    conn.execute(
        _FINISH_RUN,
        {
            "id": run_id,
            "status": status,
            "error": error,
            "pages_fetched": pages_fetched,
            "pages_failed": pages_failed,
            "stats": Jsonb(stats),
        },
    )


def run_stats(stats: dict[str, Any], elapsed: float) -> dict[str, Any]:
    """The Scrapy stats worth keeping with the run, in a stable, documented shape."""

    def count(key: str) -> int:
        value = stats.get(key, 0)
        return int(value) if isinstance(value, int | float) else 0

    prefix = "downloader/response_status_count/"
    return {
        "requests": count("downloader/request_count"),
        "responses": count("downloader/response_count"),
        "responses_by_status": {
            k.removeprefix(prefix): int(v) for k, v in sorted(stats.items()) if k.startswith(prefix)
        },
        "network_errors": count("downloader/exception_count"),
        "retries": count("retry/count"),
        "robots_denied": count("robotstxt/forbidden"),
        "refused_private_addresses": count("newsdesk/refused_private_address"),
        "discovered": {
            kind: count(f"newsdesk/discovered/{kind}") for kind in ("feed", "sitemap", "listing")
        },
        "offsite_skipped": count("newsdesk/offsite"),
        "skipped_as_seen": count("newsdesk/skipped_seen"),
        "skipped_old": count("newsdesk/skipped_old"),
        "skipped_old_sitemaps": count("newsdesk/skipped_old_sitemaps"),
        "skipped_filtered": count("newsdesk/skipped_filtered"),
        "skipped_limit": count("newsdesk/skipped_limit"),
        "skipped_taken_down": count("newsdesk/skipped_taken_down"),
        # Pages fetched but not stored for their own rules (a source's skip_pages), per rule:
        # a page skipped for two rules counts under both, and once in "pages".
        "skipped_page_rules": {
            "pages": count(SKIPPED_STAT),
            **{rule: count(skipped_stat(rule)) for rule in SKIP_RULES},
        },
        "tdmrep_broken": count(TDMREP_BROKEN_STAT),
        "refetched_changed": count("newsdesk/refetch_changed"),
        "documents_not_modified": count("newsdesk/documents_not_modified"),
        "blocked": count("newsdesk/blocked"),
        "blocked_urls": list(stats.get("newsdesk/blocked_urls") or [])[:20],
        "retry_after_waits": count("newsdesk/retry_after"),
        "crawl_delay_seconds": float(stats.get("newsdesk/crawl_delay") or 0),
        "article_requests": count("newsdesk/article_requests"),
        # Requests wait in the crawl's disk queue; "memory" counts those Scrapy could not pickle.
        "requests_queued": {
            where: count(f"scheduler/enqueued/{where}") for where in ("disk", "memory")
        },
        "pages_stored": count("newsdesk/pages_stored"),
        "pages_failed": count("newsdesk/pages_failed"),
        "raw_pages_new": count("newsdesk/raw_pages/new"),
        "raw_pages_updated": count("newsdesk/raw_pages/updated"),
        "raw_pages_unchanged": count("newsdesk/raw_pages/unchanged"),
        "documents_unreadable": count("newsdesk/documents_unreadable"),
        "log_errors": count("log_count/ERROR"),
        "elapsed_seconds": round(elapsed, 3),
    }


def run_outcome(
    reason: str, stats: dict[str, Any], start_errors: list[str], start_ok: int
) -> tuple[str, str | None]:
    """('success', None) or ('failed', one line saying why)."""
    if stats.get(DB_ERROR_STAT):
        return "failed", f"database error: {stats[DB_ERROR_STAT]}"
    if reason != "finished":
        return "failed", f"crawl stopped: {reason}"
    if start_ok == 0:
        why = start_errors[0] if start_errors else "no start URL configured"
        more = f" (and {len(start_errors) - 1} more)" if len(start_errors) > 1 else ""
        return "failed", f"nothing could be fetched from any start URL: {why}{more}"
    return "success", None


class CrawlRunRecorder:
    """Extension: opens the crawl_runs row when the spider opens and closes it at the end.

    Needs a spider with `source` (a `Source`) and `run_key`; it sets the spider's
    `crawl_run_id`, which the raw_pages pipeline writes on every row. After the crawl,
    `result` holds the run's report (what `python -m crawlers` prints).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats: StatsCollector = crawler.stats
        self.run_id: int | None = None
        self.result: dict[str, Any] | None = None
        self._started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        if not crawler.settings.get("NEWSDESK_SOURCE"):
            raise NotConfigured("not a newsdesk source crawl")
        recorder = cls(crawler)
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def spider_opened(self, spider: Spider) -> None:
        self._started = time.monotonic()
        try:
            with connect() as conn:
                # Its own row only (a no-op when unchanged): the run's foreign key needs it even
                # on a fresh database, whoever synced the whole file or not.
                sync_source(conn, spider.source)
                self.run_id = start_run(conn, spider.source.name, spider.run_key)
        except Exception as exc:
            line = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc))
            self.stats.set_value(DB_ERROR_STAT, line)
            logger.error("[%s] cannot open the crawl run: %s", spider.source.name, line)
            raise CloseSpider("db_error") from exc
        spider.crawl_run_id = self.run_id

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.stats.get_stats()
        elapsed = time.monotonic() - self._started
        status, error = run_outcome(
            reason, stats, getattr(spider, "start_errors", []), getattr(spider, "start_ok", 0)
        )
        summary = run_stats(stats, elapsed)
        self.result = {
            "source": spider.source.name,
            "run_key": spider.run_key,
            "crawl_run_id": self.run_id,
            "status": status,
            "error": error,
            "pages_fetched": summary["pages_stored"],
            "pages_failed": summary["pages_failed"],
            "pages_new": summary["raw_pages_new"],
            "pages_updated": summary["raw_pages_updated"],
            "discovered": summary["discovered"],
            "skipped_as_seen": summary["skipped_as_seen"],
            "skipped_old": summary["skipped_old"],
            "skipped_page_rules": summary["skipped_page_rules"],
            "refetched_changed": summary["refetched_changed"],
            "documents_not_modified": summary["documents_not_modified"],
            "blocked": summary["blocked"],
            "requests": summary["requests"],
            "elapsed_seconds": summary["elapsed_seconds"],
        }
        if self.run_id is None:
            return
        try:
            # A database that just failed the crawl may be restarting: wait for it rather than
            # leave the run 'running' for ever.
            with connect(wait=RECORD_WAIT_SECONDS) as conn:
                finish_run(
                    conn,
                    self.run_id,
                    status=status,
                    error=error,
                    pages_fetched=summary["pages_stored"],
                    pages_failed=summary["pages_failed"],
                    stats=summary,
                )
        except Exception as exc:
            line = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc))
            self.result |= {"status": "failed", "error": f"cannot record the run: {line}"}
            logger.error("[%s] cannot record the crawl run: %s", spider.source.name, line)

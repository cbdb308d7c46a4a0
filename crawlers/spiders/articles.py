"""The news spider's article side: which discovered links it requests, and which pages it keeps.

`ArticleChoice` is the candidate choice the crawl and its dry run share: a link is requested as
discovered (fragment removed) and compared by its URL key (`pipeline.text.urls.url_key`); it is
dropped before any request when it is off the source's domains, filtered out by
include/exclude, dated before the cut-off, already requested in this run, already stored and not
changed since, taken down (`newsdesk takedown`), or over the run's limit. `page_problem` says
why a fetched page is not an article; `PageSkips` drops (and remembers) a page whose own rules
the source chose to skip (`skip_pages`, `crawlers.page_rules`); `raw_page` is a page kept, as
the store takes it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import psycopg
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.statscollectors import StatsCollector
from twisted.python.failure import Failure

from crawlers import discovery, incremental
from crawlers.page_rules import SKIPPED_STAT, skipped_stat
from crawlers.pipelines import RawPage
from pipeline.sources.config import Source
from pipeline.text.urls import on_domains, url_key, url_to_request

logger = logging.getLogger(__name__)

#: The stat of an empty 200 at an article URL: a server fault (a deploy, a full disk).
_EMPTY_PAGE = "newsdesk/empty_page"

#: URL key -> (the URL as discovered, to request; what its document said about it)
Candidates = dict[str, tuple[str, dict[str, Any]]]


class ArticleChoice:
    """The article URLs worth requesting, over every document of one run."""

    def __init__(
        self, source: Source, crawler: Crawler, *, limit: int | None, max_links: int
    ) -> None:
        self.source = source
        self.crawler = crawler
        self.limit = limit
        self.max_links = max_links
        self.oldest = incremental.cutoff(source.limits.max_age_days)
        self.scheduled: set[str] = set()  # the keys of the article URLs requested in this run

    @property
    def stats(self) -> StatsCollector:
        return self.crawler.stats  # set when the crawl starts, after the spider is built

    def wanted(self, found: Iterable[discovery.Discovered]) -> tuple[Candidates, bool]:
        """The found links the source wants, and whether the document's link bound cut them."""
        found = list(found)
        bounded = self.max_links > 0 and len(found) > self.max_links
        if bounded:
            # A page with a million links is a trap or a broken template, not a news index.
            self.stats.inc_value("newsdesk/links_over_bound", len(found) - self.max_links)
            logger.warning(
                "[%s] a document lists %d links; only the first %d are followed",
                self.source.name,
                len(found),
                self.max_links,
            )
            found = found[: self.max_links]
        candidates: Candidates = {}
        for found_url, meta in found:
            self.stats.inc_value(f"newsdesk/discovered/{meta['discovered_via']}")
            url = url_to_request(found_url)
            key = url_key(url)
            if not on_domains(url, self.source.domains):
                self.stats.inc_value("newsdesk/offsite")
            elif not self.source.wants(key):  # patterns see no tracking parameters
                self.stats.inc_value("newsdesk/skipped_filtered")
            elif incremental.too_old(meta, self.oldest):
                self.stats.inc_value("newsdesk/skipped_old")
            else:
                candidates.setdefault(key, (url, meta))
        return candidates, bounded

    def unscheduled(self, candidates: Candidates) -> list[str]:
        """The keys of the candidates not yet requested in this run (worth a seen-check)."""
        return [key for key in candidates if key not in self.scheduled]

    def take(
        self, candidates: Candidates, seen: dict[str, datetime | None]
    ) -> tuple[list[tuple[str, str, dict[str, Any]]], bool]:
        """The candidates to request now as (key, URL, meta), marked scheduled; False when the
        limit cut some.

        `seen` holds the stored keys with when each was fetched: one is fetched again only when
        its document dates a change after that (by its own lastmod/updated date); a taken-down
        key (None) never is.
        """
        chosen = []
        complete = True
        for key, (url, meta) in candidates.items():
            if key in self.scheduled:  # another document may have taken it
                continue
            if key in seen:
                if seen[key] is None:  # taken down: never requested again
                    self.stats.inc_value("newsdesk/skipped_taken_down")
                    continue
                if not incremental.changed_since(meta, seen[key]):
                    self.stats.inc_value("newsdesk/skipped_seen")
                    continue
                self.stats.inc_value("newsdesk/refetch_changed")
                meta = meta | {"changed": True}
            if self.limit is not None and len(self.scheduled) >= self.limit:
                self.stats.inc_value("newsdesk/skipped_limit")
                complete = False
                continue
            self.scheduled.add(key)
            self.stats.inc_value("newsdesk/article_requests")
            chosen.append((key, url, meta))
        return chosen, complete


def page_problem(response: Response, domains: list[str]) -> tuple[str | None, str] | None:
    """(the stat to count, why) when a fetched article page is not one to store, else None."""
    if response.status != 200:
        return None, f"HTTP {response.status}"
    if not on_domains(response.url, domains):
        # dont_filter also exempts the request from OffsiteMiddleware: check redirects here.
        return "newsdesk/offsite", f"redirected off the site to {response.url}"
    if not isinstance(response, HtmlResponse):
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        return "newsdesk/not_html", f"not HTML ({content_type or 'no type'})"
    if response.body[:2] == b"\x1f\x8b":
        # A gzip *file* labelled HTML: unpacking it later could be a bomb; never an article.
        return "newsdesk/not_html", "not HTML (a gzip file)"
    if not response.body.strip():
        return _EMPTY_PAGE, "empty body"  # never an article
    return None


#: A skipped page, remembered so that the seen-check passes it over until its document dates a
#: change after the skip: a rule is a lasting property of the page, refetching it every run
#: would only fetch the same refusal (the publisher may lift it, hence the change check).
_RECORD_SKIP = """
INSERT INTO skipped_pages (url_key, url, source, page_rules, skipped_at)
VALUES (%s, %s, %s, %s, now())
ON CONFLICT (url_key) DO UPDATE SET url = EXCLUDED.url, source = EXCLUDED.source,
                                    page_rules = EXCLUDED.page_rules,
                                    skipped_at = EXCLUDED.skipped_at
"""


class PageSkips:
    """The source's `skip_pages` applied to fetched pages: counted, logged, remembered."""

    def __init__(self, source: Source, crawler: Crawler) -> None:
        self.source = source
        self.crawler = crawler
        self.bot = crawler.settings.get("BOT_NAME") or "newsdesk"  # the name bot metas use

    async def skip(
        self, article: dict[str, Any], rules: list[str], conn: psycopg.AsyncConnection | None
    ) -> bool | None:
        """None when the page's rules include none the source skips. Else the page is skipped
        (counted, logged), and the answer is whether it is remembered in skipped_pages, so that
        its feed's validators may be saved (never in a dry run, which has no connection).
        `article` is the request's meta: its URL as requested and its key."""
        url = article["url"]
        reasons = [rule for rule in rules if rule in self.source.skip_pages]
        if not reasons:
            return None
        stats = self.crawler.stats
        stats.inc_value(SKIPPED_STAT)
        for rule in reasons:  # a page skipped for two rules counts under both
            stats.inc_value(skipped_stat(rule))
        logger.info(
            "[%s] not stored: %s: %s (skip_pages)", self.source.name, url, ", ".join(reasons)
        )
        if conn is None:
            return False
        try:
            await conn.execute(_RECORD_SKIP, (article["key"], url, self.source.name, rules))
        except psycopg.Error as exc:
            # Not the run's failure: the page is fetched again next run (its document's
            # validators are not saved, so a 304 cannot hide it).
            why = str(exc).strip().partition("\n")[0]
            logger.warning("[%s] cannot note skipped page %s: %s", self.source.name, url, why)
            return False
        return True


def raw_page(
    source: str, article: dict[str, Any], response: Response, rules: list[str]
) -> RawPage:
    """The fetched page to store, under the URL discovery found (`article`: its request meta)."""
    return RawPage(
        source=source,
        url=article["url"],
        url_key=article["key"],
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
        page_rules=rules,
    )


def problem_lasts(stat: str | None) -> bool:
    """Whether a fetched page's problem would recur next run, so that skipping it is safe: all
    but an empty body (a server fault of the moment)."""
    return stat != _EMPTY_PAGE


def failure_lasts(failure: Failure) -> bool:
    """Whether a failed request would fail the same way next run, so that skipping it is safe:
    our own refusals and 4xx answers do; network errors, 408, 429 and 5xx may not."""
    if failure.check(HttpError):
        status = failure.value.response.status
        return 400 <= status < 500 and status not in (408, 429)
    return bool(failure.check(IgnoreRequest))


def failure_line(failure: Failure) -> str:
    """A failed request in one line: the HTTP status, our own refusal's words, or the error."""
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    text = str(failure.value).strip()
    if failure.check(IgnoreRequest) and text:
        return text  # our own refusals and robots.txt say what happened
    return f"{type(failure.value).__name__}: {text}" if text else type(failure.value).__name__

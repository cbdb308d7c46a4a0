"""The process stage: pending raw pages → extracted articles, on every core, idempotently.

Pages are claimed in batches with `FOR UPDATE SKIP LOCKED`, so two processors never work on the
same page; a batch's articles, its pages' `processed_at` and its run counters commit together, so
a crash mid-batch leaves the batch pending, never half-stored.

The parent keeps the workers fed: each batch is claimed in a transaction of its own (one
connection per batch in flight) and handed to the pool at once, so while the parent loads and
dedupes batch N the workers already extract N+1 and N+2. Workers also compute each body's dedupe
index keys, which the parent would otherwise compute alone under the dedupe lock.
"""

from __future__ import annotations

import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field

import psycopg

from pipeline.db import sibling
from pipeline.dedupe.batch import DedupeStats, dedupe_loaded
from pipeline.dedupe.batch import lock as lock_dedupe
from pipeline.extraction import boilerplate, title_affixes
from pipeline.extraction.extract import EXTRACTOR_VERSION
from pipeline.processing.pool import Extracted, Page, extract_for_load, extraction_pool, hints
from pipeline.processing.store import load_articles, mark_processed
from pipeline.sources.config import Source

BATCH_SIZE = 200
# Batches claimed ahead of the one being stored: with three in flight the workers still have a
# whole batch queued when the parent waits for the oldest one's last pages.
IN_FLIGHT = 3
# While a producer (a crawl running beside us) may still store pages, how long to wait before
# claiming again when nothing is pending.
POLL_SECONDS = 0.5

_CLAIM = """
SELECT id, source, final_url, html_gz, fetched_at, discovery, crawl_run_id,
       headers -> 'Content-Type' ->> 0 AS content_type
  FROM raw_pages
 WHERE processed_at IS NULL AND (%(sources)s::text[] IS NULL OR source = ANY(%(sources)s))
 ORDER BY id
 LIMIT %(limit)s
   FOR UPDATE SKIP LOCKED
"""

_COUNT_PENDING = """
SELECT count(*) FROM raw_pages
 WHERE processed_at IS NULL AND (%(sources)s::text[] IS NULL OR source = ANY(%(sources)s))
"""

_COUNT_INTO_RUNS = """
UPDATE crawl_runs AS c
   SET articles_new = c.articles_new + d.new,
       articles_updated = c.articles_updated + d.updated,
       errors = c.errors + d.errors
  FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::int[]) AS d (id, new, updated, errors)
 WHERE c.id = d.id
"""

_MARK_FOR_REPROCESSING = """
UPDATE raw_pages SET processed_at = NULL
 WHERE processed_at IS NOT NULL AND extractor_version IS DISTINCT FROM %(version)s
   AND (%(sources)s::text[] IS NULL OR source = ANY(%(sources)s))
"""


@dataclass
class SourceCounts:
    processed: int = 0
    new: int = 0
    updated: int = 0
    errors: int = 0
    duplicates: int = 0  # articles found to be a copy of (or copied by) another


@dataclass
class ProcessStats:
    by_source: dict[str, SourceCounts] = field(default_factory=dict)
    dedupe: DedupeStats = field(default_factory=DedupeStats)

    def counts(self, source: str) -> SourceCounts:
        return self.by_source.setdefault(source, SourceCounts())

    @property
    def processed(self) -> int:
        return sum(c.processed for c in self.by_source.values())


def mark_for_reprocessing(conn: psycopg.Connection, sources: Sequence[str] | None = None) -> int:
    """Make pages processed by an older extractor pending again; returns how many."""
    with conn.transaction():
        cur = conn.execute(
            _MARK_FOR_REPROCESSING,
            {"version": EXTRACTOR_VERSION, "sources": list(sources) if sources else None},
        )
    return cur.rowcount


def count_pending(conn: psycopg.Connection, sources: Sequence[str] | None = None) -> int:
    """How many raw pages (of `sources`, if given) wait to be processed."""
    row = conn.execute(_COUNT_PENDING, {"sources": list(sources) if sources else None}).fetchone()
    conn.commit()
    return row[0]


def process_pending(
    conn: psycopg.Connection,
    sources: Iterable[Source],
    *,
    only: Sequence[str] | None = None,
    workers: int | None = None,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
    more_coming: Callable[[], bool] | None = None,
) -> ProcessStats:
    """Process every pending raw page (of the `only` sources, if given) until none is left.

    `sources` supplies per-source hints (language, timezone) to the extractor; a page of a source
    missing from it is still extracted, without hints. `workers=1` extracts in this process.
    `more_coming`, when given, says whether pages may still arrive (a crawl storing them right
    now): while it is true, running out of pending pages means waiting, not finishing.
    `on_batch(pages)` is called after each batch commits (a caller's progress bar).
    """
    by_name = {source.name: source for source in sources}
    workers = workers or os.cpu_count() or 1
    stats = ProcessStats()
    learned = boilerplate.load(conn, only)  # each source's learned furniture lines
    affixes = title_affixes.load(conn, only)  # ... and learned title prefixes/suffixes
    with ExitStack() as stack:
        pool = stack.enter_context(extraction_pool(workers, by_name, learned, affixes))
        # One connection per batch in flight (its claim's row locks live in its transaction).
        # In this process only one batch is ever in flight: claiming ahead would gain nothing.
        connections = [conn] + [stack.enter_context(sibling(conn))
                                for _ in range(IN_FLIGHT - 1 if workers > 1 else 0)]
        _drain(_Feeder(pool, workers, only, batch_size), connections, stats, on_batch,
               more_coming)
    # Learn from what this run stored: each source's furniture lines and title affixes.
    stored = [name for name, c in stats.by_source.items() if c.new or c.updated]
    boilerplate.refresh(conn, stored)
    title_affixes.refresh(conn, stored)
    return stats


@dataclass
class _Batch:
    conn: psycopg.Connection
    rows: list[tuple]
    chunks: list[Future]


@dataclass
class _Feeder:
    """Claims batches and hands them to the pool in chunks."""

    pool: Executor
    workers: int
    only: Sequence[str] | None
    batch_size: int

    def claim(self, conn: psycopg.Connection) -> _Batch | None:
        """Claim a batch in a new transaction on `conn` (left open) and submit it; None, with
        the transaction ended, when nothing is pending."""
        rows = conn.execute(_CLAIM, {"sources": list(self.only) if self.only else None,
                                     "limit": self.batch_size}).fetchall()
        if not rows:
            conn.rollback()
            return None
        pages = [
            Page(id_, source, url, html_gz, fetched_at, hints(discovery, content_type))
            for id_, source, url, html_gz, fetched_at, discovery, _, content_type in rows
        ]
        size = max(1, len(pages) // (self.workers * 4))
        chunks = [self.pool.submit(extract_for_load, pages[i:i + size])
                  for i in range(0, len(pages), size)]
        return _Batch(conn, rows, chunks)


def _drain(feeder: _Feeder, connections: list[psycopg.Connection], stats: ProcessStats,
           on_batch, more_coming) -> None:
    idle = list(connections)
    in_flight: deque[_Batch] = deque()
    try:
        while True:
            # Asked before claiming: once the producer is done, one pass that claims nothing
            # means nothing is left (a page stored just before it finished is claimed here).
            producer_done = more_coming is None or not more_coming()
            while idle and (batch := feeder.claim(idle[-1])) is not None:
                in_flight.append(batch)
                idle.pop()
            if not in_flight:
                if producer_done:
                    return
                time.sleep(POLL_SECONDS)
                continue
            batch = in_flight.popleft()
            results = [result for chunk in batch.chunks for result in chunk.result()]
            _store_batch(batch.conn, batch.rows, results, stats)
            batch.conn.commit()
            idle.append(batch.conn)
            if on_batch:
                on_batch(len(batch.rows))
    except BaseException:
        # Unclaim what is in flight: its pages stay pending for the next run.
        for batch in in_flight:
            for chunk in batch.chunks:
                chunk.cancel()
        for conn in connections:
            with suppress(psycopg.Error):
                conn.rollback()
        raise


def _store_batch(conn, rows, results: list[Extracted], stats: ProcessStats) -> None:
    articles = [(page_id, article) for page_id, article, _, _ in results if article is not None]
    keys = {article.content_hash: k for _, article, _, k in results if article is not None}
    # The dedupe lock first: no batch then waits for it while holding article row locks.
    lock_dedupe(conn)
    written = load_articles(conn, articles)
    deduped = dedupe_loaded(conn, articles, {p: w.article_id for p, w in written.items()},
                            known_keys=keys)
    stats.dedupe.add(deduped)
    for source, n in deduped.duplicates_by_source.items():
        stats.counts(source).duplicates += n
    mark_processed(conn, [page_id for page_id, *_ in results], [e for _, _, e, _ in results])
    run_of = {row[0]: row[6] for row in rows}
    source_of = {row[0]: row[1] for row in rows}
    per_run: dict[int, Counter] = {}
    for page_id, _, error, _ in results:
        counts = stats.counts(source_of[page_id])
        counts.processed += 1
        if error:
            outcome = "errors"
        elif page_id in written:
            outcome = "new" if written[page_id].inserted else "updated"
        else:
            continue  # extracted, but the stored article was already identical
        setattr(counts, outcome, getattr(counts, outcome) + 1)
        if run_of[page_id] is not None:
            per_run.setdefault(run_of[page_id], Counter())[outcome] += 1
    if per_run:
        ids = list(per_run)
        conn.execute(
            _COUNT_INTO_RUNS,
            [ids, *([per_run[i][key] for i in ids] for key in ("new", "updated", "errors"))],
        )

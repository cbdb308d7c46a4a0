"""The process stage: pending raw pages → extracted articles, on every core, idempotently.

Pages are claimed in batches with `FOR UPDATE SKIP LOCKED`, so two processors never work on the
same page; a batch's articles, its pages' `processed_at` and its run counters commit together, so
a crash mid-batch leaves the batch pending, never half-stored.
"""

from __future__ import annotations

import gzip
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from pipeline import boilerplate, title_affixes
from pipeline.article import Article
from pipeline.config import Source
from pipeline.dedupe import DedupeStats, dedupe_loaded
from pipeline.dedupe import lock as lock_dedupe
from pipeline.errors import NewsdeskError
from pipeline.extract import EXTRACTOR_VERSION, extract_article
from pipeline.store import load_articles

BATCH_SIZE = 200

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

_MARK_PROCESSED = """
UPDATE raw_pages AS r
   SET processed_at = now(), extractor_version = %s, process_error = d.error
  FROM unnest(%s::bigint[], %s::text[]) AS d (id, error)
 WHERE r.id = d.id
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


@dataclass(frozen=True)
class _Page:
    """What a worker needs to extract one page (picklable, compressed body)."""

    id: int
    source: str
    url: str
    html_gz: bytes
    fetched_at: datetime
    hints: dict


# Sources by name, their learned boilerplate line keys and learned title affixes, set once per
# worker process by the pool initialiser.
_SOURCES: dict[str, Source] = {}
_BOILERPLATE: dict[str, frozenset[str]] = {}
_TITLE_AFFIXES: dict[str, title_affixes.Affixes] = {}


def _init_worker(sources: dict[str, Source],
                 learned: dict[str, frozenset[str]] | None = None,
                 affixes: dict[str, title_affixes.Affixes] | None = None) -> None:
    _SOURCES.clear()
    _SOURCES.update(sources)
    _BOILERPLATE.clear()
    _BOILERPLATE.update(learned or {})
    _TITLE_AFFIXES.clear()
    _TITLE_AFFIXES.update(affixes or {})


def extract_page(page: _Page) -> tuple[int, Article | None, str | None]:
    """Extract one page; a page that yields no article returns its reason instead."""
    try:
        html = gzip.decompress(page.html_gz)
        article = extract_article(
            html,
            page.url,
            source=_SOURCES.get(page.source),
            fetched_at=page.fetched_at,
            hints=page.hints,
            boilerplate=_BOILERPLATE.get(page.source),
            title_affixes=_TITLE_AFFIXES.get(page.source),
        )
    except NewsdeskError as exc:
        return page.id, None, str(exc)
    except Exception as exc:  # one bad page must not sink the batch; its error is stored
        return page.id, None, f"extractor crashed: {type(exc).__name__}: {exc}"[:500]
    article.source = page.source
    return page.id, article, None


def mark_for_reprocessing(conn: psycopg.Connection, sources: Sequence[str] | None = None) -> int:
    """Make pages processed by an older extractor pending again; returns how many."""
    with conn.transaction():
        cur = conn.execute(
            _MARK_FOR_REPROCESSING,
            {"version": EXTRACTOR_VERSION, "sources": list(sources) if sources else None},
        )
    return cur.rowcount


def count_pending(conn: psycopg.Connection, sources: Sequence[str] | None = None) -> int:
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
) -> ProcessStats:
    """Process every pending raw page (of the `only` sources, if given) until none is left.

    `sources` supplies per-source hints (language, timezone) to the extractor; a page of a source
    missing from it is still extracted, without hints. `workers=1` extracts in this process.
    """
    by_name = {source.name: source for source in sources}
    workers = workers or os.cpu_count() or 1
    stats = ProcessStats()
    learned = boilerplate.load(conn, only)  # each source's learned furniture lines
    affixes = title_affixes.load(conn, only)  # ... and learned title prefixes/suffixes
    if workers == 1:
        _init_worker(by_name, learned, affixes)
        return _learn(conn, _drain(conn, map, only, batch_size, stats, on_batch))
    # forkserver: workers start clean (no inherited DB sockets or threads) and import the
    # extractor once, before forking each worker from that warm process.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["pipeline.extract"])
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(by_name, learned, affixes)
    ) as pool:

        def pool_map(function, pages):
            return pool.map(function, pages, chunksize=max(1, len(pages) // (workers * 4)))

        return _learn(conn, _drain(conn, pool_map, only, batch_size, stats, on_batch))


def _learn(conn: psycopg.Connection, stats: ProcessStats) -> ProcessStats:
    """Refresh the learned boilerplate and title affixes of every source that stored articles
    in this run."""
    stored = [name for name, c in stats.by_source.items() if c.new or c.updated]
    boilerplate.refresh(conn, stored)
    title_affixes.refresh(conn, stored)
    return stats


def _drain(conn, mapper, only, batch_size, stats, on_batch) -> ProcessStats:
    params = {"sources": list(only) if only else None, "limit": batch_size}
    while True:
        with conn.transaction():
            rows = conn.execute(_CLAIM, params).fetchall()
            if not rows:
                return stats
            pages = [
                _Page(id_, source, url, html_gz, fetched_at, _hints(discovery, content_type))
                for id_, source, url, html_gz, fetched_at, discovery, _, content_type in rows
            ]
            results = list(mapper(extract_page, pages))
            _store_batch(conn, rows, results, stats)
        if on_batch:
            on_batch(len(rows))


def _hints(discovery: dict | None, content_type: str | None) -> dict:
    """What the extractor may use beyond the HTML: the feed/sitemap entry and the charset."""
    hints = dict(discovery or {})
    hints["via"] = hints.get("discovered_via")
    hints["content_type"] = content_type
    return hints


def _store_batch(conn, rows, results, stats: ProcessStats) -> None:
    articles = [(page_id, article) for page_id, article, _ in results if article is not None]
    # The dedupe lock first: no batch then waits for it while holding article row locks.
    lock_dedupe(conn)
    written = load_articles(conn, articles)
    deduped = dedupe_loaded(conn, articles, written)
    stats.dedupe.add(deduped)
    for source, n in deduped.duplicates_by_source.items():
        stats.counts(source).duplicates += n
    conn.execute(
        _MARK_PROCESSED,
        [EXTRACTOR_VERSION, [page_id for page_id, _, _ in results], [e for _, _, e in results]],
    )
    run_of = {row[0]: row[6] for row in rows}
    source_of = {row[0]: row[1] for row in rows}
    per_run: dict[int, Counter] = {}
    for page_id, _, error in results:
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

"""Re-extraction of stored raw pages: the extractor (or a source's overrides, or its learned
boilerplate or title affixes) changed, so the articles are rebuilt from `raw_pages` without
fetching anything.

Uses the process stage's own machinery (the same worker pool, page records and extraction
function); only the bookkeeping differs: pages are read in id order (no claiming, pages still
pending are left to the process stage), each new article is compared with the stored one field
by field, and only articles with a changed field are written. The result counts changes per field.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from pipeline.article import Article
from pipeline.extraction import boilerplate, title_affixes
from pipeline.processing.pool import Page, extract_page, extraction_pool, hints
from pipeline.processing.store import load_articles, mark_processed
from pipeline.sources.config import Source

BATCH_SIZE = 200

# The article columns a re-extraction may change (url, source and fetched_at come from the page).
FIELDS = ("canonical_url", "title", "description", "authors", "published_at", "modified_at",
          "date_source", "language", "section", "tags", "image_url", "body", "word_count",
          "is_paywalled", "content_hash")

_SELECT_PAGES = """
SELECT id, source, final_url, html_gz, fetched_at, discovery,
       headers -> 'Content-Type' ->> 0 AS content_type
  FROM raw_pages
 WHERE processed_at IS NOT NULL AND id > %(after)s
   AND (%(sources)s::text[] IS NULL OR source = ANY(%(sources)s))
   AND (%(since)s::timestamptz IS NULL OR fetched_at >= %(since)s)
 ORDER BY id
 LIMIT %(limit)s
"""

_COUNT_PAGES = """
SELECT count(*) FROM raw_pages
 WHERE processed_at IS NOT NULL
   AND (%(sources)s::text[] IS NULL OR source = ANY(%(sources)s))
   AND (%(since)s::timestamptz IS NULL OR fetched_at >= %(since)s)
"""

_STORED = f"SELECT id, raw_page_id, {', '.join(FIELDS)} FROM articles WHERE raw_page_id = ANY(%s)"

_UPDATE = (
    "UPDATE articles SET "
    + ", ".join(f"{name} = %({name})s" for name in FIELDS)
    + ", extractor_version = %(extractor_version)s, updated_at = now() WHERE id = %(id)s"
)


@dataclass
class ReprocessStats:
    pages: int = 0  # raw pages re-extracted
    changed: int = 0  # stored articles with at least one field changed (and rewritten)
    unchanged: int = 0
    new: int = 0  # pages that had no article before and have one now
    failed: int = 0  # pages that yield no article now (their stored article, if any, is kept)
    fields: Counter = field(default_factory=Counter)  # field name -> articles where it changed


def count_pages(conn: psycopg.Connection, sources: Sequence[str] | None = None,
                since: datetime | None = None) -> int:
    row = conn.execute(_COUNT_PAGES, {"sources": list(sources) if sources else None,
                                      "since": since}).fetchone()
    conn.commit()
    return row[0]


def reprocess(
    conn: psycopg.Connection,
    sources: Iterable[Source],
    *,
    only: Sequence[str] | None = None,
    since: datetime | None = None,
    workers: int | None = None,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> ReprocessStats:
    """Re-extract the processed raw pages (of the `only` sources, fetched at or after `since`)
    and write back only the articles that changed. `workers=1` extracts in this process;
    `on_batch(pages)` is called after each batch commits (a caller's progress bar)."""
    by_name = {source.name: source for source in sources}
    learned = boilerplate.load(conn, only)
    affixes = title_affixes.load(conn, only)
    workers = workers or os.cpu_count() or 1
    params = {"sources": list(only) if only else None, "since": since, "limit": batch_size}
    stats = ReprocessStats()
    with extraction_pool(workers, by_name, learned, affixes) as pool:

        def pool_map(function, pages):
            return pool.map(function, pages, chunksize=max(1, len(pages) // (workers * 4)))

        _run(conn, pool_map, params, stats, on_batch)
    return stats


def _run(conn, mapper, params, stats: ReprocessStats, on_batch) -> None:
    after = 0
    while True:
        rows = conn.execute(_SELECT_PAGES, {**params, "after": after}).fetchall()
        conn.commit()
        if not rows:
            return
        after = rows[-1][0]
        pages = [Page(id_, source, url, html_gz, fetched_at, hints(discovery, content_type))
                 for id_, source, url, html_gz, fetched_at, discovery, content_type in rows]
        results = list(mapper(extract_page, pages))
        with conn.transaction():
            _write(conn, results, stats)
        stats.pages += len(rows)
        if on_batch:
            on_batch(len(rows))


def _write(conn: psycopg.Connection, results, stats: ReprocessStats) -> None:
    ids = [page_id for page_id, _, _ in results]
    stored = {row[1]: row for row in conn.execute(_STORED, [ids]).fetchall()}
    taken = {url for (url,) in conn.execute(
        "SELECT canonical_url FROM articles WHERE canonical_url = ANY(%s)",
        [[a.canonical_url for _, a, _ in results if a is not None]]).fetchall()}
    updates: list[dict] = []
    fresh: list[tuple[int, Article]] = []
    for page_id, article, _ in results:
        if article is None:
            stats.failed += 1
            continue
        row = stored.get(page_id)
        if row is None:
            if article.canonical_url not in taken:
                fresh.append((page_id, article))
            continue
        old = dict(zip(FIELDS, row[2:], strict=True))
        new = {name: getattr(article, name) for name in FIELDS}
        if new["canonical_url"] != old["canonical_url"] and new["canonical_url"] in taken:
            new["canonical_url"] = old["canonical_url"]  # another article already owns it
        changed = [name for name in FIELDS if _differs(old[name], new[name])]
        if not changed:
            stats.unchanged += 1
            continue
        stats.changed += 1
        stats.fields.update(changed)
        updates.append({**new, "id": row[0], "extractor_version": article.extractor_version})
    if updates:
        with conn.cursor() as cur:
            cur.executemany(_UPDATE, updates)
    if fresh:
        stats.new += sum(1 for w in load_articles(conn, fresh).values() if w.inserted)
    mark_processed(conn, ids, [error for _, _, error in results])


def _differs(old, new) -> bool:
    if isinstance(old, list | tuple) or isinstance(new, list | tuple):
        return list(old or []) != list(new or [])
    return old != new

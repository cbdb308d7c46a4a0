"""Re-extraction of stored raw pages: the extractor (or a source's overrides, or its learned
boilerplate or title affixes) changed, so the articles are rebuilt from `raw_pages` without
fetching anything.

Uses the process stage's own machinery (the same worker pool, page records and extraction
function); only the bookkeeping differs: pages are read in id order (no claiming, pages still
pending are left to the process stage), each new article is compared with the stored one field
by field, and only articles with a changed field are written. The result counts changes per field
and lists the articles whose body changed, by source (what an extractor change moved).

A crawl may store a page again while it is being re-extracted: each batch's write locks its
pages and keeps only those whose content is still what was read (a changed page stays pending
for the process stage), and the written articles are deduplicated in the same transaction by the
process stage's own entry point, so their index keys and stories follow the new bodies.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from pipeline.article import Article
from pipeline.dedupe.batch import dedupe_loaded
from pipeline.dedupe.batch import lock as lock_dedupe
from pipeline.extraction import boilerplate, title_affixes
from pipeline.processing.pool import Page, extract_page, extraction_pool, hints
from pipeline.processing.store import load_articles, mark_processed
from pipeline.sources.config import Source

BATCH_SIZE = 200

# The article columns a re-extraction may change (url, source and fetched_at come from the page).
FIELDS = ("canonical_url", "title", "description", "authors", "published_at",
          "published_offset_minutes", "published_precision", "modified_at",
          "modified_offset_minutes", "modified_precision", "date_source", "language", "section",
          "tags", "image_url", "body", "word_count", "is_paywalled", "content_hash")

_SELECT_PAGES = """
SELECT id, source, final_url, html_gz, fetched_at, discovery,
       headers -> 'Content-Type' ->> 0 AS content_type, content_sha256
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

# The pages whose content is still what was read, locked until the batch commits (a crawl storing
# one again waits). URL order, the crawl's own locking order, so the two never deadlock.
_LOCK_UNCHANGED = """
SELECT r.id FROM raw_pages r
  JOIN unnest(%s::bigint[], %s::bytea[]) AS d (id, content_sha256)
    ON r.id = d.id AND r.content_sha256 = d.content_sha256
 ORDER BY r.url
   FOR UPDATE OF r
"""

# Articles dated by an extractor before 1.4.0 (no precision) whose raw page was pruned: nothing
# can give them the publisher's offset, and their published_date stays the UTC day.
_PRUNED_UTC_DATES = """
SELECT count(*) FROM articles
 WHERE raw_page_id IS NULL AND published_at IS NOT NULL AND published_precision IS NULL
   AND (%(sources)s::text[] IS NULL OR source = ANY(%(sources)s))
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
    skipped_changed: int = 0  # pages stored again since they were read: left to the process stage
    fields: Counter = field(default_factory=Counter)  # field name -> articles where it changed
    bodies: Counter = field(default_factory=Counter)  # source -> articles whose body changed
    # (source, URL) of each changed body, kept only when asked (`list_bodies`): a reprocess after
    # an extractor change may move millions.
    body_urls: list[tuple[str, str]] = field(default_factory=list)


def count_pages(conn: psycopg.Connection, sources: Sequence[str] | None = None,
                since: datetime | None = None) -> int:
    row = conn.execute(_COUNT_PAGES, {"sources": list(sources) if sources else None,
                                      "since": since}).fetchone()
    conn.commit()
    return row[0]


def pruned_utc_dates_note(conn: psycopg.Connection,
                          sources: Sequence[str] | None = None) -> str | None:
    """The one line that says how many articles keep a UTC-only date because their raw page is
    gone (re-extraction fills the publisher's offset and precision of the others); None if none."""
    count = conn.execute(_PRUNED_UTC_DATES, {"sources": list(sources) if sources else None}
                         ).fetchone()[0]
    conn.commit()
    if not count:
        return None
    return (f"{count} article(s) keep a UTC date without the publisher's offset and precision: "
            "their raw page was pruned, so they cannot be re-extracted")


def reprocess(
    conn: psycopg.Connection,
    sources: Iterable[Source],
    *,
    only: Sequence[str] | None = None,
    since: datetime | None = None,
    workers: int | None = None,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
    before_write: Callable[[list[int]], None] | None = None,
    list_bodies: bool = False,
) -> ReprocessStats:
    """Re-extract the processed raw pages (of the `only` sources, fetched at or after `since`)
    and write back only the articles that changed. `workers=1` extracts in this process;
    `on_batch(pages)` is called after each batch commits (a caller's progress bar);
    `before_write(page_ids)` between a batch's extraction and its write (where a crawl may
    store a page again; a test's seam); `list_bodies` keeps the URL of each changed body."""
    by_name = {source.name: source for source in sources}
    learned = boilerplate.load(conn, only)
    affixes = title_affixes.load(conn, only)
    workers = workers or os.cpu_count() or 1
    params = {"sources": list(only) if only else None, "since": since, "limit": batch_size}
    stats = ReprocessStats()
    with extraction_pool(workers, by_name, learned, affixes) as pool:

        def pool_map(function, pages):
            return pool.map(function, pages, chunksize=max(1, len(pages) // (workers * 4)))

        _run(conn, pool_map, params, stats, on_batch, before_write, list_bodies)
    return stats


def _run(conn, mapper, params, stats: ReprocessStats, on_batch, before_write,
         list_bodies: bool) -> None:
    after = 0
    while True:
        rows = conn.execute(_SELECT_PAGES, {**params, "after": after}).fetchall()
        conn.commit()
        if not rows:
            return
        after = rows[-1][0]
        pages = [Page(id_, source, url, html_gz, fetched_at, hints(discovery, content_type))
                 for id_, source, url, html_gz, fetched_at, discovery, content_type, _ in rows]
        results = list(mapper(extract_page, pages))
        if before_write:
            before_write([page.id for page in pages])
        with conn.transaction():
            _write(conn, results, {row[0]: row[-1] for row in rows}, stats, list_bodies)
        stats.pages += len(rows)
        if on_batch:
            on_batch(len(rows))


def _write(conn: psycopg.Connection, results, read: dict[int, bytes],
           stats: ReprocessStats, list_bodies: bool) -> None:
    """Write one batch's changed articles and mark its pages processed, for the pages whose
    content is still `read` ({page id: content_sha256 when read}); dedupe what was written."""
    unchanged = {page_id for (page_id,) in conn.execute(
        _LOCK_UNCHANGED, [list(read), list(read.values())]).fetchall()}
    stats.skipped_changed += len(results) - len(unchanged)
    results = [result for result in results if result[0] in unchanged]
    # The dedupe lock after the page locks, the process stage's order (it waits for this lock
    # holding its claimed pages): waiting for one of those while holding it would deadlock.
    lock_dedupe(conn)
    ids = [page_id for page_id, _, _ in results]
    stored = {row[1]: row for row in conn.execute(_STORED, [ids]).fetchall()}
    taken = {url for (url,) in conn.execute(
        "SELECT canonical_url FROM articles WHERE canonical_url = ANY(%s)",
        [[a.canonical_url for _, a, _ in results if a is not None]]).fetchall()}
    updates: list[dict] = []
    fresh: list[tuple[int, Article]] = []
    written: dict[int, int] = {}  # {page id: article id} of the articles written
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
        if "body" in changed:
            stats.bodies[article.source] += 1
            if list_bodies:
                stats.body_urls.append((article.source, article.url))
        updates.append({**new, "id": row[0], "extractor_version": article.extractor_version})
        written[page_id] = row[0]
    if updates:
        with conn.cursor() as cur:
            cur.executemany(_UPDATE, updates)
    if fresh:
        loaded = load_articles(conn, fresh)
        stats.new += sum(1 for w in loaded.values() if w.inserted)
        written.update((page_id, w.article_id) for page_id, w in loaded.items())
    # As the process stage does: index keys, pairs and stories follow the written bodies.
    dedupe_loaded(conn, [(page_id, article) for page_id, article, _ in results
                         if page_id in written], written)
    mark_processed(conn, ids, [error for _, _, error in results])


def _differs(old, new) -> bool:
    if isinstance(old, list | tuple) or isinstance(new, list | tuple):
        return list(old or []) != list(new or [])
    return old != new

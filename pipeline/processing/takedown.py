"""Takedown: delete a URL's or a source's rows everywhere they live, in one transaction, and
record it in `takedowns` so that no crawl or WARC import brings it back.

A URL reaches its raw pages (by URL key) and its article: by canonical URL, by the address it
was fetched from, or by one of those pages having fed it, now or in an earlier version. The
article reaches every raw page it was stored from (its current one, its versions', the page at
its canonical address), all deleted; their keys and the article's canonical key are taken down
too, so neither the canonical address nor an AMP or `?ref=` address of the same article is
fetched again. A page of the article that never fed a stored version (an AMP copy processed
after the canonical page, unchanged) is linked to it by nothing stored and stays. Deleting an
article deletes its versions, duplicate pairs, band keys and search vector (a column); its story
is recomputed (counts, original) or deleted when it has no article left. A story whose removed
article was the only link between the others keeps them together until `newsdesk dedupe
--rebuild` regroups. A source also loses its crawl history, discovery documents, learned
boilerplate and title affixes; its `sources` row stays, inactive (articles of other sources may
name it in story views, and the takedown row keeps it inactive whatever the YAML says).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psycopg

from pipeline.dedupe.batch import lock
from pipeline.dedupe.stories import update_stories
from pipeline.errors import NewsdeskError
from pipeline.text.urls import url_key, url_to_request

_PAGES_OF_URLS = "SELECT id FROM raw_pages WHERE url_key = ANY(%s)"
_PAGES_OF_SOURCE = "SELECT id FROM raw_pages WHERE source = %s"
# Neither articles nor article_versions has an index on raw_page_id: one scan of each per
# takedown, as for article_bands.
_ARTICLES_OF_URLS = """
SELECT id, story_id, canonical_url FROM articles
 WHERE canonical_url = ANY(%(keys)s) OR url = ANY(%(urls)s) OR raw_page_id = ANY(%(pages)s)
    OR id IN (SELECT article_id FROM article_versions WHERE raw_page_id = ANY(%(pages)s))"""
_ARTICLES_OF_SOURCE = """
SELECT id, story_id, canonical_url FROM articles
 WHERE source = %(source)s OR raw_page_id = ANY(%(pages)s)
    OR id IN (SELECT article_id FROM article_versions WHERE raw_page_id = ANY(%(pages)s))"""
#: Every raw page the articles were stored from, and the pages at their canonical addresses.
_PAGES_OF_ARTICLES = """
SELECT id, url_key, url FROM raw_pages
 WHERE id = ANY(%(pages)s) OR url_key = ANY(%(keys)s)
    OR id IN (SELECT raw_page_id FROM articles WHERE id = ANY(%(ids)s)
              UNION ALL SELECT raw_page_id FROM article_versions WHERE article_id = ANY(%(ids)s))"""

#: (table, statement) deleting an article set's rows, dependents first. duplicate_pairs and
#: article_versions would go by ON DELETE CASCADE; deleted explicitly so that each is counted.
#: article_bands has no index on article_id (dedupe.md): one scan of it per takedown.
_ARTICLE_ROWS = (
    ("article_bands", "DELETE FROM article_bands WHERE article_id = ANY(%(ids)s)"),
    ("duplicate_pairs", "DELETE FROM duplicate_pairs"
                        " WHERE article_id = ANY(%(ids)s) OR other_id = ANY(%(ids)s)"),
    ("article_versions", "DELETE FROM article_versions WHERE article_id = ANY(%(ids)s)"),
    ("articles", "DELETE FROM articles WHERE id = ANY(%(ids)s)"),
)
_EMPTY_STORIES = """
DELETE FROM stories s WHERE s.id = ANY(%s)
   AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.story_id = s.id)
RETURNING s.id"""
_SOURCE_ROWS = (
    ("skipped_pages", "DELETE FROM skipped_pages WHERE source = %(source)s"),
    ("discovery_documents", "DELETE FROM discovery_documents WHERE source = %(source)s"),
    ("source_boilerplate", "DELETE FROM source_boilerplate WHERE source = %(source)s"),
    ("source_title_affixes", "DELETE FROM source_title_affixes WHERE source = %(source)s"),
    ("crawl_runs", "DELETE FROM crawl_runs WHERE source = %(source)s"),
)
_RECORD_URL = """
INSERT INTO takedowns (url_key, url, reason) SELECT k, u, %s FROM unnest(%s::text[], %s::text[])
    AS t (k, u)
ON CONFLICT (url_key) DO NOTHING"""
_RECORD_SOURCE = """
INSERT INTO takedowns (source, reason) VALUES (%s, %s) ON CONFLICT (source) DO NOTHING"""


@dataclass
class Removed:
    """What a takedown deleted (rows per table, in the order deleted) and what it recorded."""

    rows: dict[str, int] = field(default_factory=dict)
    stories_recomputed: int = 0
    recorded: int = 0  # new takedowns rows (0 on a rerun)
    keys: list[str] = field(default_factory=list)  # every URL key now refused

    def count(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n


def take_down_urls(
    conn: psycopg.Connection, urls: Sequence[str], reason: str | None = None
) -> Removed:
    """Delete every row of the pages and articles at `urls` and refuse them from now on."""
    given: dict[str, str] = {}
    requests = []
    for url in urls:
        request = url_to_request(url)
        parts = urlsplit(request)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise NewsdeskError(f"{url!r}: not an http(s) URL")
        given.setdefault(url_key(request), request)
        requests.append(request)
    removed = Removed()
    with conn.transaction():
        lock(conn)  # dedupe's lock: no process run regroups these stories meanwhile
        pages = [p for (p,) in conn.execute(_PAGES_OF_URLS, [list(given)]).fetchall()]
        articles = conn.execute(_ARTICLES_OF_URLS, {
            "keys": list(given), "urls": requests, "pages": pages,
        }).fetchall()
        for key, url in [*_delete(conn, removed, articles, pages),
                         *((url_key(a[2]), a[2]) for a in articles)]:
            given.setdefault(key, url)
        removed.count("skipped_pages", conn.execute(
            "DELETE FROM skipped_pages WHERE url_key = ANY(%s)", [list(given)]).rowcount)
        removed.recorded = conn.execute(
            _RECORD_URL, [reason, list(given), list(given.values())]).rowcount
    removed.keys = sorted(given)
    return removed


def take_down_source(conn: psycopg.Connection, name: str, reason: str | None = None) -> Removed:
    """Delete every row of the source's pages, articles and crawl state; keep it inactive."""
    removed = Removed()
    with conn.transaction():
        lock(conn)
        pages = [p for (p,) in conn.execute(_PAGES_OF_SOURCE, [name]).fetchall()]
        # Also an article of another source fed by one of these pages, and the pages of
        # another source's discovery an article of this source was stored from.
        articles = conn.execute(_ARTICLES_OF_SOURCE, {"source": name, "pages": pages}
                                ).fetchall()
        _delete(conn, removed, articles, pages)
        for table, statement in _SOURCE_ROWS:
            removed.count(table, conn.execute(statement, {"source": name}).rowcount)
        conn.execute("UPDATE sources SET active = false, updated_at = now()"
                     " WHERE name = %s AND active", [name])
        removed.recorded = conn.execute(_RECORD_SOURCE, [name, reason]).rowcount
    return removed


def _delete(conn: psycopg.Connection, removed: Removed, articles: list[tuple],
            page_ids: list[int]) -> list[tuple[str, str]]:
    """Delete the articles (dependents first), then their stories' leftovers, then the pages
    given and every page of the articles; returns the (url_key, url) of the pages deleted."""
    ids = [a[0] for a in articles]
    # Read before the articles go: their raw_page_id and versions are the links.
    pages = conn.execute(_PAGES_OF_ARTICLES, {
        "pages": page_ids, "ids": ids, "keys": sorted({url_key(a[2]) for a in articles}),
    }).fetchall()
    stories = sorted({a[1] for a in articles if a[1] is not None})
    for table, statement in _ARTICLE_ROWS:
        removed.count(table, conn.execute(statement, {"ids": ids}).rowcount)
    emptied = {row[0] for row in conn.execute(_EMPTY_STORIES, [stories]).fetchall()}
    removed.count("stories", len(emptied))
    left = [s for s in stories if s not in emptied]
    update_stories(conn, left)
    removed.stories_recomputed = len(left)
    removed.count("raw_pages", conn.execute(
        "DELETE FROM raw_pages WHERE id = ANY(%s)", [[p[0] for p in pages]]).rowcount)
    return [(key, url) for _, key, url in pages]

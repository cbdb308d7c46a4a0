"""Full-text search over articles: indexing pending articles, and ranked queries.

The SQL does the work (migrations 0003 and 0013): `newsdesk_index_search()` fills
`articles.search_vector` for articles still pending, `search_articles()` parses the query with the
configuration of every stored language and ranks hits, one per story with its number of copies
(and parses still-pending articles on the fly, so results are complete before indexing catches
up). Indexing is kept out of the loader because parsing text is the slow part of full-text
search; here it runs on several connections.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import psycopg

from pipeline.db import connect

INDEX_BATCH = 500


@dataclass(frozen=True)
class Hit:
    rank: float
    article_id: int
    source: str
    published_at: datetime | None
    language: str | None
    title: str | None
    canonical_url: str
    snippet: str
    story_id: int | None
    copies: int  # articles in the hit's story, this one included


def count_unindexed(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM articles WHERE search_vector IS NULL").fetchone()[0]


def index_pending(url: str | None = None, *, workers: int | None = None) -> int:
    """Index every article pending for search, `workers` connections at once; returns how many.

    Postgres does the parsing, so threads suffice: each only waits on its connection.
    """
    workers = workers or os.cpu_count() or 1

    def drain() -> int:
        done = 0
        with connect(url, autocommit=True) as conn:
            while True:
                n = conn.execute("SELECT newsdesk_index_search(%s)", [INDEX_BATCH]).fetchone()[0]
                if not n:
                    return done
                done += n

    with ThreadPoolExecutor(workers) as pool:
        return sum(pool.map(lambda _: drain(), range(workers)))


def search(
    conn: psycopg.Connection,
    query: str,
    *,
    source: str | None = None,
    since: datetime | None = None,
    limit: int = 20,
    language: str | None = None,
    every_copy: bool = False,
) -> list[Hit]:
    """Ranked hits for a web-search-syntax query, best first: one per story unless
    `every_copy`."""
    rows = conn.execute(
        "SELECT * FROM search_articles(%s, %s, %s, %s, %s, %s)",
        [query, source, since, limit, language, every_copy],
    ).fetchall()
    return [Hit(*row) for row in rows]

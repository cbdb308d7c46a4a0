"""Loading extracted articles into Postgres: COPY into a staging table, then one upsert; and
marking their raw pages processed.

COPY is the fastest way into Postgres; the upsert from the staging table keeps one row per
canonical URL and touches a stored row only when its content really changed, so reruns and
reprocessing write nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import psycopg

from pipeline.article import Article
from pipeline.db.takedowns import any_taken_down, taken_down_keys, taken_down_sources
from pipeline.extraction.extract import EXTRACTOR_VERSION
from pipeline.text.urls import url_key

# (column, Postgres type) in COPY order.
_COLUMNS = [
    ("canonical_url", "text"),
    ("url", "text"),
    ("source", "text"),
    ("raw_page_id", "int8"),
    ("title", "text"),
    ("description", "text"),
    ("authors", "text[]"),
    ("published_at", "timestamptz"),
    ("modified_at", "timestamptz"),
    ("published_offset_minutes", "int2"),  # the publisher's clock and precision (migration 0010)
    ("published_precision", "text"),
    ("modified_offset_minutes", "int2"),
    ("modified_precision", "text"),
    ("date_source", "text"),
    ("language", "text"),
    ("section", "text"),
    ("tags", "text[]"),
    ("image_url", "text"),
    ("body", "text"),
    ("word_count", "int4"),
    ("is_paywalled", "bool"),
    ("content_hash", "text"),
    ("fetched_at", "timestamptz"),
    ("extractor_version", "text"),
]
_NAMES = ", ".join(name for name, _ in _COLUMNS)
# An article belongs to the source that stored it first: a second source reaching the same
# canonical URL updates its content, never its ownership.
_UPDATABLE = [name for name, _ in _COLUMNS if name not in ("canonical_url", "source")]

# Column types without the constraints: the rows meet the checks when they reach articles.
_CREATE_STAGING = f"""
CREATE TEMP TABLE IF NOT EXISTS articles_staging AS
SELECT {_NAMES} FROM articles WITH NO DATA
"""

# DISTINCT ON: one batch may hold two pages with the same canonical URL (a redirect and its
# target); the newest fetch wins, as it would across batches.
_UPSERT = f"""
INSERT INTO articles AS a ({_NAMES})
SELECT DISTINCT ON (canonical_url) {_NAMES}
  FROM articles_staging
 ORDER BY canonical_url, fetched_at DESC, raw_page_id DESC
ON CONFLICT (canonical_url) DO UPDATE
   SET {", ".join(f"{name} = EXCLUDED.{name}" for name in _UPDATABLE)}, updated_at = now()
 WHERE a.fetched_at <= EXCLUDED.fetched_at
   AND (a.content_hash, a.title, a.published_at, a.published_offset_minutes,
        a.published_precision, a.modified_at, a.modified_offset_minutes, a.modified_precision,
        a.authors, a.extractor_version)
       IS DISTINCT FROM
       (EXCLUDED.content_hash, EXCLUDED.title, EXCLUDED.published_at,
        EXCLUDED.published_offset_minutes, EXCLUDED.published_precision, EXCLUDED.modified_at,
        EXCLUDED.modified_offset_minutes, EXCLUDED.modified_precision, EXCLUDED.authors,
        EXCLUDED.extractor_version)
RETURNING a.raw_page_id, a.id, (a.xmax = 0) AS inserted
"""

_MARK_PROCESSED = """
UPDATE raw_pages AS r
   SET processed_at = now(), extractor_version = %s, process_error = d.error
  FROM unnest(%s::bigint[], %s::text[]) AS d (id, error)
 WHERE r.id = d.id
"""


class Written(NamedTuple):
    """What one raw page wrote: the article's id, and whether the row is new."""

    article_id: int
    inserted: bool  # False: it updated a stored article


def load_articles(
    conn: psycopg.Connection, items: Sequence[tuple[int, Article]]
) -> dict[int, Written]:
    """Upsert (raw_page_id, article) pairs inside the caller's transaction.

    Returns {raw_page_id: Written} for the pages that wrote a row; a page whose article was
    already stored unchanged is absent. The ids come back from the upsert itself: articles has
    no index on raw_page_id, and looking them up by it would scan the whole table.
    """
    items = _not_taken_down(conn, items)
    if not items:
        return {}
    with conn.cursor() as cur:
        cur.execute(_CREATE_STAGING)
        with cur.copy(f"COPY articles_staging ({_NAMES}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([pg_type for _, pg_type in _COLUMNS])
            for raw_page_id, article in items:
                copy.write_row(_row(raw_page_id, article))
        written = {page_id: Written(article_id, inserted)
                   for page_id, article_id, inserted in cur.execute(_UPSERT).fetchall()}
        cur.execute("TRUNCATE articles_staging")
    return written


def _not_taken_down(
    conn: psycopg.Connection, items: Sequence[tuple[int, Article]]
) -> Sequence[tuple[int, Article]]:
    """The items `newsdesk takedown` does not refuse. The crawl refuses taken-down URLs before
    fetching, but an article can come back another way: a new address whose canonical URL is a
    taken-down one, or a page a crawl stored while its source was being taken down."""
    if not items or not any_taken_down(conn):
        return items  # nothing is taken down, the usual case: one query, no URL key to compute
    keys = taken_down_keys(conn, {url_key(article.canonical_url) for _, article in items})
    sources = taken_down_sources(conn, {article.source for _, article in items})
    if not keys and not sources:
        return items
    return [(page_id, article) for page_id, article in items
            if article.source not in sources and url_key(article.canonical_url) not in keys]


def mark_processed(conn: psycopg.Connection, page_ids: Sequence[int],
                   errors: Sequence[str | None]) -> None:
    """Record raw pages as processed by this extractor version, each with its error (or None),
    inside the caller's transaction."""
    conn.execute(_MARK_PROCESSED, [EXTRACTOR_VERSION, list(page_ids), list(errors)])


def _row(raw_page_id: int, article: Article) -> tuple:
    values = {name: getattr(article, name) for name, _ in _COLUMNS if name != "raw_page_id"}
    values["raw_page_id"] = raw_page_id
    return tuple(values[name] for name, _ in _COLUMNS)

"""Re-key stored URLs with `url_key` (issue 18): raw_pages.url_key, and articles.canonical_url.

Both were compared by a lossy key that dropped valueless query keys and escaped `;`. Rows are
read in id batches and their new keys copied into a temp table, then written in one UPDATE.

- raw_pages: when two rows' new keys collide the newest fetch is kept (then the highest id); the
  others are deleted, counted and logged with their URLs (an article built from one keeps its row,
  with raw_page_id NULL). url_key then becomes NOT NULL UNIQUE, and url stops being unique.
- articles: when two articles' new keys collide, the one already stored under it keeps it, else
  the newest fetch takes it; the others keep their old canonical_url (a migration deletes no
  article), counted and logged. original_url (the original a copy declares) is re-keyed too, as
  the dedupe stage compares it with canonical_url.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

from pipeline.text.urls import url_key

logger = logging.getLogger("pipeline.db.migrate")

BATCH = 2000


def migrate(conn: psycopg.Connection) -> None:
    _fill_raw_page_keys(conn)
    dropped = conn.execute(
        """DELETE FROM raw_pages r USING raw_pages n
            WHERE n.url_key = r.url_key AND (n.fetched_at, n.id) > (r.fetched_at, r.id)
        RETURNING r.url""").fetchall()
    if dropped:
        logger.warning("0012: %d raw pages shared a URL key with a newer fetch and were removed: "
                       "%s", len(dropped), ", ".join(url for (url,) in dropped))
    conn.execute("""ALTER TABLE raw_pages ALTER COLUMN url_key SET NOT NULL,
                        ADD CONSTRAINT raw_pages_url_key_unique UNIQUE (url_key),
                        DROP CONSTRAINT raw_pages_url_key""")
    kept = _rekey_articles(conn)
    _rekey_original_urls(conn)
    if kept:
        logger.warning("0012: %d articles keep their old canonical URL (another article took the "
                       "new key): %s", len(kept), ", ".join(url for (url,) in kept))


def _new_keys(conn: psycopg.Connection, table: str, column: str) -> None:
    """Copy (id, new key) of every row into the temp table `new_keys`, a batch at a time."""
    conn.execute("CREATE TEMP TABLE new_keys (id bigint PRIMARY KEY, key text NOT NULL) "
                 "ON COMMIT DROP")
    select = sql.SQL(
        "SELECT id, {column} FROM {table} WHERE id > %s AND {column} IS NOT NULL "
        "ORDER BY id LIMIT %s").format(column=sql.Identifier(column), table=sql.Identifier(table))
    last = 0
    while rows := conn.execute(select, [last, BATCH]).fetchall():
        with conn.cursor() as cur, cur.copy("COPY new_keys (id, key) FROM STDIN") as copy:
            for row_id, url in rows:
                copy.write_row((row_id, url_key(url)))
        last = rows[-1][0]


def _fill_raw_page_keys(conn: psycopg.Connection) -> None:
    _new_keys(conn, "raw_pages", "url")
    conn.execute("UPDATE raw_pages r SET url_key = k.key FROM new_keys k WHERE k.id = r.id")
    conn.execute("DROP TABLE new_keys")


def _rekey_articles(conn: psycopg.Connection) -> list[tuple[str]]:
    """Re-key canonical_url; returns the canonical URLs of the articles left on the old one."""
    _new_keys(conn, "articles", "canonical_url")
    conn.execute(
        """CREATE TEMP TABLE key_owner ON COMMIT DROP AS
           SELECT DISTINCT ON (k.key) k.key, a.id
             FROM new_keys k JOIN articles a USING (id)
            ORDER BY k.key, a.canonical_url = k.key DESC, a.fetched_at DESC, a.id DESC""")
    conn.execute(
        """UPDATE articles a SET canonical_url = o.key
             FROM key_owner o WHERE o.id = a.id AND a.canonical_url <> o.key""")
    kept = conn.execute(
        """SELECT a.canonical_url FROM articles a JOIN new_keys k USING (id)
            WHERE a.canonical_url <> k.key ORDER BY a.id""").fetchall()
    conn.execute("DROP TABLE new_keys, key_owner")
    return kept


def _rekey_original_urls(conn: psycopg.Connection) -> None:
    _new_keys(conn, "articles", "original_url")
    conn.execute("""UPDATE articles a SET original_url = k.key
                      FROM new_keys k WHERE k.id = a.id AND a.original_url <> k.key""")
    conn.execute("DROP TABLE new_keys")

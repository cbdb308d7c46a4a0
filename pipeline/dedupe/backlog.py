"""The backlog of articles without a story (stored before dedupe existed, or after `reset`),
deduplicated batch by batch, and `reset` for a full rebuild: the `dedupe` command's and the
Airflow upkeep's work, not the process stage's (it dedupes each batch as it loads it)."""

from __future__ import annotations

import psycopg

from pipeline.dedupe.batch import DedupeStats, dedupe_articles, lock
from pipeline.dedupe.config import DedupeConfig


def pending_count(conn: psycopg.Connection) -> int:
    """How many articles have no story yet."""
    return conn.execute("SELECT count(*) FROM articles WHERE story_id IS NULL").fetchone()[0]


def dedupe_pending(
    conn: psycopg.Connection,
    config: DedupeConfig | None = None,
    batch_size: int = 500,
    on_batch=None,
) -> DedupeStats:
    """Dedupe every article without a story (rows stored before dedupe existed, or a rebuild),
    in id order, one transaction per batch."""
    config = config or DedupeConfig.from_env()
    total = DedupeStats()
    while True:
        with conn.transaction():
            lock(conn)
            ids = [r[0] for r in conn.execute(
                "SELECT id FROM articles WHERE story_id IS NULL ORDER BY id LIMIT %s",
                [batch_size])]
            if not ids:
                return total
            total.add(dedupe_articles(conn, ids, config))
        if on_batch:
            on_batch(len(ids))


def reset(conn: psycopg.Connection) -> None:
    """Forget every story, pair and index key (in one transaction); dedupe_pending rebuilds."""
    with conn.transaction():
        lock(conn)
        conn.execute("UPDATE articles SET story_id = NULL WHERE story_id IS NOT NULL")
        conn.execute("TRUNCATE article_bands, duplicate_pairs")
        conn.execute("DELETE FROM stories")

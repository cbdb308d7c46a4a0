"""What the news_maintenance tasks do: reprocess outdated pages, refresh views, prune, analyze.

Plain functions, no Airflow import. Each works from a reference it is given (the extractor
version, the run's data interval end), never from `now()`, so a rerun does the same work.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from psycopg import sql

from pipeline.airflow.child_process import run_newsdesk
from pipeline.db import connect
from pipeline.errors import NewsdeskError

log = logging.getLogger(__name__)

_OUTDATED = """
SELECT count(*) FROM raw_pages
 WHERE processed_at IS NOT NULL AND extractor_version IS DISTINCT FROM %(version)s
"""


def outdated_pages(*, database_url: str | None = None) -> int:
    """How many processed pages an older extractor version produced."""
    from pipeline.extraction.extract import EXTRACTOR_VERSION

    with connect(database_url) as conn:
        return conn.execute(_OUTDATED, {"version": EXTRACTOR_VERSION}).fetchone()[0]


def reprocess_outdated(
    *,
    sources_path: str | Path | None = None,
    database_url: str | None = None,
    workers: int | None = None,
) -> int:
    """Re-extract the pages an older extractor version processed (`newsdesk process
    --reprocess`, a subprocess as in `daily.process_sources`); returns how many."""
    marked = outdated_pages(database_url=database_url)
    args = ["process", "--reprocess"]
    if sources_path:
        args += ["--sources", str(sources_path)]
    if workers:
        args += ["--workers", str(workers)]
    run_newsdesk(args, database_url)
    return marked


_MATVIEWS = """
SELECT v.schemaname, v.matviewname, v.ispopulated,
       EXISTS (SELECT 1 FROM pg_index i
                WHERE i.indrelid = format('%%I.%%I', v.schemaname, v.matviewname)::regclass
                  AND i.indisunique AND i.indpred IS NULL) AS has_unique
  FROM pg_matviews v
 WHERE v.schemaname = current_schema()
 ORDER BY v.matviewname
"""


def refresh_materialized_views(*, database_url: str | None = None) -> list[str]:
    """Refresh every materialised view of the schema, concurrently where a unique index allows.

    Readers are not blocked by a concurrent refresh; a view without a unique index (or never
    populated) gets a plain refresh. Returns the names refreshed.
    """
    refreshed = []
    with connect(database_url, autocommit=True) as conn:
        for schema, name, populated, has_unique in conn.execute(_MATVIEWS).fetchall():
            concurrently = sql.SQL("CONCURRENTLY ") if populated and has_unique else sql.SQL("")
            conn.execute(
                sql.SQL("REFRESH MATERIALIZED VIEW {}{}").format(
                    concurrently, sql.Identifier(schema, name)
                )
            )
            refreshed.append(name)
    log.info("refreshed %d materialised view(s): %s", len(refreshed), ", ".join(refreshed) or "-")
    return refreshed


_PRUNE = """
DELETE FROM raw_pages
 WHERE fetched_at < %(cutoff)s AND processed_at IS NOT NULL
   AND extractor_version IS NOT DISTINCT FROM %(version)s
"""


def prune_raw_pages(
    retention_days: int, reference: datetime, *, database_url: str | None = None
) -> int:
    """Delete processed raw pages fetched more than `retention_days` before `reference`.

    `reference` is the run's data interval end, so a rerun deletes the same set. Pages still
    pending, or processed by an older extractor (waiting for reprocessing), are kept; articles
    keep their rows (their `raw_page_id` becomes null).
    """
    from pipeline.extraction.extract import EXTRACTOR_VERSION

    if retention_days < 1:
        raise NewsdeskError(f"retention must be at least 1 day, not {retention_days}")
    cutoff = reference - timedelta(days=retention_days)
    with connect(database_url) as conn, conn.transaction():
        deleted = conn.execute(_PRUNE, {"cutoff": cutoff, "version": EXTRACTOR_VERSION}).rowcount
    log.info("pruned %d raw page(s) fetched before %s", deleted, cutoff.isoformat())
    return deleted


def analyze(*, database_url: str | None = None) -> None:
    """ANALYZE the database, so the planner's statistics follow the corpus."""
    with connect(database_url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    log.info("analyzed")

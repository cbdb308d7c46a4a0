"""What the news_daily tasks do before the summary: sync the sources, crawl one, process, dedupe.

The DAG files in `dags/` stay thin: each task resolves its settings (database, sources file, run
key) from Airflow and calls one function here (the summary's are in `summary`). Nothing here
imports Airflow, so it is tested and usable without it. Every function is idempotent for a given
run key: the crawl upserts its `crawl_runs` row and skips pages already stored, and processing
only takes pending pages.

The database URL is an argument (Airflow reads it from the `newsdesk_db` connection); it reaches
the crawl subprocess through its environment and is never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.airflow.child_process import database_env, run_newsdesk
from pipeline.db import connect, connect_migrated, redact
from pipeline.db.takedowns import taken_down_sources
from pipeline.errors import NewsdeskError
from pipeline.sources.config import default_sources_path, get_sources, load_sources
from pipeline.sources.sync import sync_sources

log = logging.getLogger(__name__)


class CrawlFailed(NewsdeskError):
    """One source's crawl did not succeed (its task fails, and is retried)."""


def sync_and_select(
    sources_path: str | Path | None = None,
    *,
    only: Sequence[str] = (),
    database_url: str | None = None,
    dry_run: bool = False,
) -> list[str]:
    """Validate the sources file and sync the `sources` table with it, once for the whole run.

    Returns the names to crawl: the active sources, or the `only` ones (each must be in the file;
    an unknown name is an error naming the known ones), less those taken down. A dry run checks
    the file and that the database answers, and writes nothing.
    """
    path = Path(sources_path) if sources_path else default_sources_path()
    sources = load_sources(path)
    picked = get_sources(only, path) if only else [s for s in sources if s.active]
    if dry_run:
        connect(database_url).close()
    else:
        with connect_migrated(database_url) as conn:
            gone = sync_sources(conn, sources)
            taken = taken_down_sources(conn, [s.name for s in picked])
        if gone:
            log.info("sources no longer in the file, deactivated: %s", ", ".join(gone))
        if taken:
            log.warning("sources taken down (newsdesk takedown), not crawled: %s",
                        ", ".join(sorted(taken)))
            picked = [s for s in picked if s.name not in taken]
    names = [s.name for s in picked]
    log.info(
        "sources file %s: %d source(s), %d to crawl: %s",
        path, len(sources), len(names), ", ".join(names) or "none",
    )
    return names


def crawl_source(
    name: str,
    run_key: str,
    *,
    sources_path: str | Path | None = None,
    limit: int | None = None,
    database_url: str | None = None,
) -> dict:
    """Crawl one source in a subprocess (`python -m crawlers`) under `run_key`; return its report.

    The run's `sync_and_select` has synced the sources table already, so the crawler skips its
    own full sync. Raises `CrawlFailed` (one line naming the source and why) when the crawl did
    not succeed, so the source's own task fails and is retried; a rerun upserts the same
    crawl_runs row.
    """
    from pipeline.crawl import run_crawl

    with database_env(database_url):
        reports = run_crawl(
            [name], sources_path=sources_path, run_key=run_key, limit=limit, sync=False
        )
    report = next((r for r in reports if r.get("source") == name), None)
    if report is None:
        raise CrawlFailed(f"{name}: the crawler reported nothing for this source")
    log.info(
        "%s: %s, %d page(s) fetched (%d new, %d updated), %d failed, %d request(s) in %.1fs",
        name, report["status"], report["pages_fetched"], report.get("pages_new", 0),
        report.get("pages_updated", 0), report["pages_failed"], report.get("requests", 0),
        report.get("elapsed_seconds", 0.0),
    )
    if report["status"] != "success":
        raise CrawlFailed(f"{name}: crawl failed: {redact(str(report.get('error')))}")
    return report


def process_sources(
    names: Sequence[str],
    *,
    sources_path: str | Path | None = None,
    database_url: str | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Extract every pending page of the named sources into articles (`newsdesk process`).

    Runs whatever the crawls did: pages a failed crawl fetched are processed too. It runs as a
    subprocess, like the crawl: processing fans out over every core with multiprocessing, which
    cannot start its workers from inside an Airflow task process (its `__main__` is Airflow's).
    Its summary table goes to the task log; per-run counts land in `crawl_runs`.
    """
    if not names:
        log.info("no source to process")
        return {"sources": [], "pending": 0}
    args = ["process", *(a for n in names for a in ("--source", n))]
    if sources_path:
        args += ["--sources", str(sources_path)]
    if workers:
        args += ["--workers", str(workers)]
    run_newsdesk(args, database_url)
    with connect(database_url) as conn:
        pending = conn.execute(_PENDING, {"names": list(names)}).fetchone()[0]
    return {"sources": list(names), "pending": pending}


_PENDING = "SELECT count(*) FROM raw_pages WHERE processed_at IS NULL AND source = ANY(%(names)s)"


def dedupe_pending_articles(*, database_url: str | None = None) -> dict[str, int]:
    """Group into stories every article not yet deduplicated; counts of what was found.

    Processing already dedupes each batch as it loads it; this catches up on articles left
    without a story (stored before dedupe existed, or after a rebuild), so it is usually quick.
    """
    from pipeline.dedupe.backlog import dedupe_pending

    with connect_migrated(database_url) as conn:
        stats = dedupe_pending(conn)
    result = {
        "articles": stats.articles, "exact": stats.exact, "near": stats.near,
        "stories_new": stats.stories_new, "stories_merged": stats.stories_merged,
    }
    log.info("dedupe: %s", result)
    return result

"""What the news_daily tasks do before the summary: sync the sources, crawl, process, dedupe.

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
from pipeline.sources.config import (
    SourcesError,
    default_sources_path,
    get_sources,
    load_sources,
)
from pipeline.sources.sync import sync_sources

log = logging.getLogger(__name__)

#: Airflow's own default queue name (`[operators] default_queue`); the DAG passes the configured.
DEFAULT_QUEUE = "default"


class CrawlFailed(NewsdeskError):
    """One source's crawl did not succeed (its task fails, and is retried)."""


def sync_and_select(
    sources_path: str | Path | None = None,
    *,
    only: Sequence[str] = (),
    queues: Sequence[str] = (DEFAULT_QUEUE,),
    database_url: str | None = None,
    dry_run: bool = False,
) -> dict[str, list[str]]:
    """Validate the sources file and sync the `sources` table with it, once for the whole run.

    Returns the names to crawl, by queue (`queues[0]` is the default one; every queue a key):
    the active sources, or the `only` ones (each must be in the file; an unknown name is an
    error naming the known ones), less those taken down. A source whose queue is not in
    `queues` (the DAG was parsed before the file gained it) is an error too: run elsewhere it
    would break its placement. A dry run checks the file and that the database answers, and
    writes nothing.
    """
    path = Path(sources_path) if sources_path else default_sources_path()
    sources = load_sources(path)
    picked = get_sources(only, path) if only else [s for s in sources if s.active]
    by_queue: dict[str, list[str]] = {queue: [] for queue in queues}
    for source in picked:
        queue = source.queue or queues[0]
        if queue not in by_queue:
            raise SourcesError(
                f"{path}: source '{source.name}': queue '{queue}' has no crawl task in news_daily"
                f" (its queues: {', '.join(queues)}); the DAG gains it when it is next parsed"
                " with this file as NEWSDESK_SOURCES"
            )
        by_queue[queue].append(source.name)
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
            by_queue = {queue: [n for n in names if n not in taken]
                        for queue, names in by_queue.items()}
    for queue, names in by_queue.items():
        log.info(
            "sources file %s: %d source(s), %d to crawl on queue %s: %s",
            path, len(sources), len(names), queue, ", ".join(names) or "none",
        )
    return by_queue


def split_into_batches(names: Sequence[str], max_batches: int) -> list[list[str]]:
    """`names` in at most `max_batches` batches of near-equal size, in order: one name a batch
    when they fit (a task per source), else several (Airflow maps at most `max_map_length`)."""
    count = min(len(names), max_batches)
    size, extra = divmod(len(names), count) if count else (0, 0)
    batches, start = [], 0
    for index in range(count):
        end = start + size + (index < extra)
        batches.append(list(names[start:end]))
        start = end
    return batches


def batch_label(names: Sequence[str]) -> str:
    """How a crawl task is named in the UI: its source, or its first and last and how many."""
    return names[0] if len(names) == 1 else f"{names[0]}..{names[-1]} ({len(names)})"


def crawl_sources(
    names: Sequence[str],
    run_key: str,
    *,
    retry: bool = False,
    sources_path: str | Path | None = None,
    limit: int | None = None,
    database_url: str | None = None,
) -> list[dict]:
    """Crawl a batch of sources in one subprocess (`python -m crawlers`) under `run_key`.

    The run's `sync_and_select` has synced the sources table already, so the crawler skips its
    own full sync. A `retry` (`settings.is_retry`: not the first try since the run started or
    was cleared) leaves out the sources whose crawl already succeeded under this run key (a
    batch retried for one failed source must not crawl the others again). Raises
    `CrawlFailed` (one line naming the failed sources and why) when any crawl did not succeed,
    so the task fails and is retried; a rerun upserts the same crawl_runs rows. Returns the
    reports of the sources it crawled.
    """
    from pipeline.crawl import crawled_ok, run_crawl

    todo = list(names)
    if retry:
        with connect(database_url) as conn:
            done = {n for (n,) in conn.execute(_SUCCEEDED, {"names": todo, "run_key": run_key})}
        if done:
            log.info("already crawled under %s, not again: %s", run_key, ", ".join(sorted(done)))
        todo = [n for n in todo if n not in done]
    if not todo:
        return []
    with database_env(database_url):
        reports = run_crawl(todo, sources_path=sources_path, run_key=run_key, limit=limit,
                            sync=False)
    by_name = {r.get("source"): r for r in reports}
    failed = []
    for name in todo:
        report = by_name.get(name)
        if report is None:
            failed.append(f"{name}: the crawler reported nothing for this source")
            continue
        log.info(
            "%s: %s, %d page(s) fetched (%d new, %d updated), %d failed, %d request(s) in %.1fs",
            name, report["status"], report["pages_fetched"], report.get("pages_new", 0),
            report.get("pages_updated", 0), report["pages_failed"], report.get("requests", 0),
            report.get("elapsed_seconds", 0.0),
        )
        if not crawled_ok(report):
            failed.append(f"{name}: crawl failed: {redact(str(report.get('error')))}")
    if failed:
        raise CrawlFailed("; ".join(failed))
    return [by_name[n] for n in todo]


_SUCCEEDED = """SELECT source FROM crawl_runs
                WHERE run_key = %(run_key)s AND status = 'success' AND source = ANY(%(names)s)"""


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

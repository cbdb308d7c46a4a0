"""What the Airflow tasks do, as plain functions: sync, crawl a source, process, summarise, upkeep.

The DAG files in `dags/` stay thin: each task resolves its settings (database, sources file, run
key) from Airflow and calls one function here. Nothing in this module imports Airflow, so it is
tested and usable without it. Every function is idempotent for a given run key: the crawl
upserts its `crawl_runs` row and skips pages already stored, processing only takes pending pages,
and the upkeep functions work from a reference date they are given, never from `now()`.

The database URL is an argument (Airflow reads it from the `newsdesk_db` connection); it reaches
the crawl subprocess through its environment and is never logged.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from psycopg import sql
from psycopg.conninfo import make_conninfo

from pipeline.db import connect, connect_migrated, redact
from pipeline.db.connection import DATABASE_URL_ENV
from pipeline.errors import NewsdeskError
from pipeline.sources.config import default_sources_path, get_sources, load_sources
from pipeline.sources.sync import sync_source

log = logging.getLogger(__name__)


class CrawlFailed(NewsdeskError):
    """One source's crawl did not succeed (its task fails, and is retried)."""


class RunFailed(NewsdeskError):
    """At least one source of the run failed; the message names them."""


# --- database --------------------------------------------------------------------------------


def conninfo_from_parts(
    *,
    host: str | None = None,
    port: int | None = None,
    login: str | None = None,
    password: str | None = None,
    schema: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """A libpq DSN from the fields of an Airflow connection (schema is the database name).

    Extras that are libpq parameters (sslmode, options, application_name...) are kept; a host
    may be a Unix socket directory.
    """
    params = {
        "host": host or None,
        "port": port or None,
        "user": login or None,
        "password": password or None,
        "dbname": schema or None,
    }
    for key, value in (extra or {}).items():
        if key in _LIBPQ_EXTRAS and value not in (None, ""):
            params[key] = value
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None})


_LIBPQ_EXTRAS = {
    "sslmode", "sslrootcert", "sslcert", "sslkey", "options", "application_name",
    "connect_timeout", "target_session_attrs", "keepalives", "keepalives_idle",
}


@contextlib.contextmanager
def database_env(url: str | None) -> Iterator[None]:
    """Export `url` as NEWSDESK_DATABASE_URL for the block (and the subprocesses it starts)."""
    if not url:
        yield
        return
    before = os.environ.get(DATABASE_URL_ENV)
    os.environ[DATABASE_URL_ENV] = url
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(DATABASE_URL_ENV, None)
        else:
            os.environ[DATABASE_URL_ENV] = before


def run_key_for(logical_date: datetime | None, fallback: datetime) -> str:
    """The run key of a DAG run: its logical date as an ISO date (`2026-03-15`).

    A manual run without a logical date uses the day it was triggered for (`fallback`, the
    run's `run_after`), so it shares that day's crawl_runs rows instead of adding new ones.
    """
    return (logical_date or fallback).date().isoformat()


# --- the daily run ---------------------------------------------------------------------------

_DEACTIVATE_MISSING = """
UPDATE sources SET active = false, updated_at = now()
 WHERE active AND NOT (name = ANY(%(names)s))
"""


def sync_sources(
    sources_path: str | Path | None = None,
    *,
    only: Sequence[str] = (),
    database_url: str | None = None,
    dry_run: bool = False,
) -> list[str]:
    """Validate the sources file, upsert every source into `sources`, deactivate the missing ones.

    Returns the names to crawl: the active sources, or the `only` ones (each must be in the file;
    an unknown name is an error naming the known ones). A dry run checks the file and that the
    database answers, and writes nothing.
    """
    path = Path(sources_path) if sources_path else default_sources_path()
    sources = load_sources(path)
    picked = get_sources(only, path) if only else [s for s in sources if s.active]
    if dry_run:
        connect(database_url).close()
    else:
        with connect_migrated(database_url) as conn, conn.transaction():
            for source in sources:
                sync_source(conn, source)
            conn.execute(_DEACTIVATE_MISSING, {"names": [s.name for s in sources]})
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

    Raises `CrawlFailed` (one line naming the source and why) when the crawl did not succeed,
    so the source's own task fails and is retried; a rerun upserts the same crawl_runs row.
    """
    from pipeline.crawl import run_crawl

    with database_env(database_url):
        reports = run_crawl([name], sources_path=sources_path, run_key=run_key, limit=limit)
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
    _newsdesk(args, database_url)
    with connect(database_url) as conn:
        pending = conn.execute(_PENDING, {"names": list(names)}).fetchone()[0]
    return {"sources": list(names), "pending": pending}


_PENDING = "SELECT count(*) FROM raw_pages WHERE processed_at IS NULL AND source = ANY(%(names)s)"


def _newsdesk(args: Sequence[str], database_url: str | None) -> None:
    """Run `newsdesk ARGS` in a child process against `database_url`; its output is logged."""
    command = [sys.executable, "-m", "pipeline.cli", *args]
    with database_env(database_url):
        completed = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "COLUMNS": "120"},
        )
    output = redact(completed.stdout.strip())
    log.info("newsdesk %s:\n%s", args[0], output)
    if completed.returncode != 0:
        last = output.splitlines()[-1] if output else f"exit status {completed.returncode}"
        raise NewsdeskError(f"newsdesk {args[0]} failed: {last}")


def dedupe_pending_articles(*, database_url: str | None = None) -> dict[str, int]:
    """Group into stories every article not yet deduplicated; counts of what was found.

    Processing already dedupes each batch as it loads it; this catches up on articles left
    without a story (stored before dedupe existed, or after a rebuild), so it is usually quick.
    """
    from pipeline.dedupe.core import dedupe_pending

    with connect_migrated(database_url) as conn:
        stats = dedupe_pending(conn)
    result = {
        "articles": stats.articles, "exact": stats.exact, "near": stats.near,
        "stories_new": stats.stories_new, "stories_merged": stats.stories_merged,
    }
    log.info("dedupe: %s", result)
    return result


_RUN_ROWS = """
SELECT source, status, pages_fetched, pages_failed, articles_new, articles_updated, errors, error,
       started_at, finished_at
  FROM crawl_runs
 WHERE run_key = %(run_key)s AND source = ANY(%(names)s)
 ORDER BY source
"""


def summarise_run(
    run_key: str, names: Sequence[str], *, database_url: str | None = None
) -> dict[str, Any]:
    """Log the run's per-source statistics from `crawl_runs`; raise `RunFailed` naming failures.

    A source with no crawl_runs row for this run key (its crawl never started) counts as failed.
    Returns the summary (small, for XCom) when every source succeeded.
    """
    with connect(database_url) as conn:
        rows = conn.execute(_RUN_ROWS, {"run_key": run_key, "names": list(names)}).fetchall()
    by_source: dict[str, dict[str, Any]] = {}
    for (source, status, fetched, failed, new, updated, errors, error, started, finished) in rows:
        by_source[source] = {
            "status": status, "pages_fetched": fetched, "pages_failed": failed,
            "articles_new": new, "articles_updated": updated, "errors": errors, "error": error,
            "seconds": round((finished - started).total_seconds(), 1) if finished else None,
        }
    for name in names:
        by_source.setdefault(name, {
            "status": "missing", "pages_fetched": 0, "pages_failed": 0, "articles_new": 0,
            "articles_updated": 0, "errors": 0, "error": "no crawl run recorded", "seconds": None,
        })
    totals = {
        key: sum(r[key] for r in by_source.values())
        for key in ("pages_fetched", "pages_failed", "articles_new", "articles_updated", "errors")
    }
    log.info("run %s:\n%s", run_key, _table(
        ["source", "status", "fetched", "failed", "new", "updated", "errors", "seconds", "error"],
        [[n, r["status"], r["pages_fetched"], r["pages_failed"], r["articles_new"],
          r["articles_updated"], r["errors"], r["seconds"] if r["seconds"] is not None else "-",
          r["error"] or ""] for n, r in sorted(by_source.items())]
        + [["total", "", *totals.values(), "", ""]],
    ))
    failed = sorted(n for n, r in by_source.items() if r["status"] != "success")
    summary = {"run_key": run_key, "sources": by_source, "totals": totals, "failed": failed}
    if failed:
        reasons = "; ".join(f"{n}: {by_source[n]['error'] or by_source[n]['status']}"
                            for n in failed)
        raise RunFailed(
            f"run {run_key}: {len(failed)} of {len(names)} source(s) failed: "
            f"{', '.join(failed)} ({redact(reasons)})"
        )
    return summary


REPORT_DIR_ENV = "NEWSDESK_REPORT_DIR"


def report_and_health(day: date, *, database_url: str | None = None) -> dict[str, Any]:
    """Write the day's HTML report and check every source's health.

    Returns the report's path and one line per health alert (yield collapse, completeness drop,
    rising errors, a source gone quiet) for the run's notifier. The report goes to
    `$NEWSDESK_REPORT_DIR`, else `$NEWSDESK_HOME/reports`.
    """
    from pipeline.db.embedded import home
    from pipeline.outputs.report import build_report
    from pipeline.sources.health import check_all

    folder = Path(os.environ.get(REPORT_DIR_ENV) or home() / "reports")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"newsdesk-report-{day.isoformat()}.html"
    with connect(database_url) as conn:
        path.write_text(build_report(conn, day), encoding="utf-8")
        alerts = check_all(conn, today=day)
    for alert in alerts:
        log.warning("source health: %s: %s (%s)", alert.source, alert.message, alert.rule)
    log.info("report for %s written to %s", day, path)
    return {
        "report": str(path),
        "alerts": [f"{alert.source}: {alert.message} ({alert.rule})" for alert in alerts],
    }


# --- upkeep (news_maintenance) ---------------------------------------------------------------

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
    --reprocess`, a subprocess for the same reason as `process_sources`); returns how many."""
    marked = outdated_pages(database_url=database_url)
    args = ["process", "--reprocess"]
    if sources_path:
        args += ["--sources", str(sources_path)]
    if workers:
        args += ["--workers", str(workers)]
    _newsdesk(args, database_url)
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


# --- helpers ---------------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A fixed-width text table that reads well in a task log."""
    cells = [[str(c) for c in header], *([str(c) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


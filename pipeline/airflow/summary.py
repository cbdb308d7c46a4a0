"""The end of a news_daily run: the report, the health alerts, the statistics, the verdict.

`run_outcome` holds the rules that fail a run, checked in order; `summarise_run` is what the
summary task does around them. No Airflow import: the DAG maps `RunFailed` to a task failure.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pipeline.crawl import crawled_ok
from pipeline.db import connect, redact
from pipeline.db.takedowns import TAKEN_DOWN, taken_down_sources
from pipeline.errors import NewsdeskError

log = logging.getLogger(__name__)

REPORT_DIR_ENV = "NEWSDESK_REPORT_DIR"


class RunFailed(NewsdeskError):
    """The run failed (a stage failed, or a source did); the message says which and why."""


def summarise_run(
    run_key: str,
    names: Sequence[str] | None,
    processed: Mapping[str, Any] | None,
    deduped: Mapping[str, Any] | None,
    *,
    alert: Callable[[str], None],
    database_url: str | None = None,
) -> dict[str, Any]:
    """The summary task: report and health alerts (each sent through `alert`), then statistics.

    The report and the alerts come first, since a failing run needs them most. `names`,
    `processed` and `deduped` are the upstream tasks' results, None when that task failed.
    Returns the run's summary, or raises `RunFailed` by the rules of `run_outcome`.
    """
    checked: dict[str, Any] = {}
    statistics = None
    if names is not None:  # else the sync failed: nothing to report on, and run_outcome says so
        checked = report_and_health(date.fromisoformat(run_key), database_url=database_url)
        for line in checked["alerts"]:
            alert(line)
        statistics = run_statistics(run_key, names, database_url=database_url)
    return {**run_outcome(names, processed, deduped, statistics), **checked}


def run_outcome(
    names: Sequence[str] | None,
    processed: Mapping[str, Any] | None,
    deduped: Mapping[str, Any] | None,
    statistics: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Whether the run succeeded: the first of these rules that holds raises `RunFailed`.

    The sync failed (no source list); a source's crawl failed or never ran (all named, with
    why); processing failed; dedupe failed. Else returns the statistics with the dedupe counts.
    `statistics` (from `run_statistics`) is needed whenever there is a source list.
    """
    if names is None:
        raise RunFailed("sync_sources failed: no source list (see its log)")
    if failed := statistics["failed"]:
        by_source = statistics["sources"]
        reasons = "; ".join(f"{n}: {by_source[n]['error'] or by_source[n]['status']}"
                            for n in failed)
        raise RunFailed(
            f"run {statistics['run_key']}: {len(failed)} of {len(names)} source(s) failed: "
            f"{', '.join(failed)} ({redact(reasons)})"
        )
    if processed is None:
        raise RunFailed("process failed: pages were fetched but not all extracted")
    if deduped is None:
        raise RunFailed("dedupe failed: see its log")
    return {**statistics, "dedupe": deduped}


_RUN_ROWS = """
SELECT source, status, pages_fetched, pages_failed, articles_new, articles_updated, errors, error,
       started_at, finished_at
  FROM crawl_runs
 WHERE run_key = %(run_key)s AND source = ANY(%(names)s)
 ORDER BY source
"""


def run_statistics(
    run_key: str, names: Sequence[str], *, database_url: str | None = None
) -> dict[str, Any]:
    """The run's per-source statistics from `crawl_runs`, logged as a table; small, for XCom.

    `failed` lists the sources whose crawl did not succeed, including any with no crawl_runs
    row for this run key (its crawl never started) unless it is taken down: the takedown
    deleted its runs, or landed after the sync chose it and the crawler skipped it.
    """
    with connect(database_url) as conn:
        rows = conn.execute(_RUN_ROWS, {"run_key": run_key, "names": list(names)}).fetchall()
        taken = taken_down_sources(conn, names)
    by_source: dict[str, dict[str, Any]] = {}
    for (source, status, fetched, failed, new, updated, errors, error, started, finished) in rows:
        by_source[source] = {
            "status": status, "pages_fetched": fetched, "pages_failed": failed,
            "articles_new": new, "articles_updated": updated, "errors": errors, "error": error,
            "seconds": round((finished - started).total_seconds(), 1) if finished else None,
        }
    for name in names:
        by_source.setdefault(name, {
            "status": "skipped" if name in taken else "missing", "pages_fetched": 0,
            "pages_failed": 0, "articles_new": 0, "articles_updated": 0, "errors": 0,
            "error": TAKEN_DOWN if name in taken else "no crawl run recorded", "seconds": None,
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
    failed = sorted(n for n, r in by_source.items() if not crawled_ok(r))
    return {"run_key": run_key, "sources": by_source, "totals": totals, "failed": failed}


def report_and_health(day: date, *, database_url: str | None = None) -> dict[str, Any]:
    """Write the day's HTML report and check every source's health.

    Returns the report's path and one line per health alert (yield collapse, completeness drop,
    rising errors, a source gone quiet) for the run's notifier. The report goes to
    `$NEWSDESK_REPORT_DIR`, else `$NEWSDESK_HOME/reports`.
    """
    from pipeline.db.embedded import home
    from pipeline.outputs.report import write_report
    from pipeline.sources.alerts import check_all

    folder = Path(os.environ.get(REPORT_DIR_ENV) or home() / "reports")
    path = folder / f"newsdesk-report-{day.isoformat()}.html"
    with connect(database_url) as conn:
        alerts = check_all(conn, today=day)
        write_report(conn, day, path, alerts)
    for alert in alerts:
        log.warning("source health: %s: %s (%s)", alert.source, alert.message, alert.rule)
    log.info("report for %s written to %s", day, path)
    return {
        "report": str(path),
        "alerts": [f"{alert.source}: {alert.message} ({alert.rule})" for alert in alerts],
    }


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A fixed-width text table that reads well in a task log."""
    cells = [[str(c) for c in header], *([str(c) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)

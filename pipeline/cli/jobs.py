"""The jobs the commands share: the process stage with a progress bar, then search indexing
(`process`, `import-warc`), and the main job, crawl + process + summary (`run`, `demo`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg

from pipeline.cli.console import print_run_summary, progress, stderr
from pipeline.crawl import crawled_ok, start_crawl
from pipeline.db import connect_migrated
from pipeline.outputs.search import index_pending
from pipeline.processing.stage import ProcessStats, count_pending, process_pending
from pipeline.sources.config import Source


@dataclass
class RunResult:
    reports: list[dict]
    stats: ProcessStats

    @property
    def ok(self) -> bool:
        return all(crawled_ok(r) for r in self.reports)


def run_pipeline(
    sources: Sequence[Source],
    *,
    sources_path: str | Path | None = None,
    run_key: str | None = None,
    limit: int | None = None,
    no_delay: bool = False,
    verbose: bool = False,
    workers: int | None = None,
) -> RunResult:
    """Crawl `sources` concurrently in a child process while processing the pages it stores.

    Processing starts with the crawl and claims pages as the crawl commits them, so the
    crawl's work hides behind extraction; it ends once the crawl has exited and nothing is
    pending. Pages of a source whose crawl failed are still processed: one failing source never
    stops the others' articles, and whatever a failed crawl did fetch is not wasted.
    """
    names = [s.name for s in sources]
    connect_migrated().close()
    stderr.print(f"crawling {len(names)} source(s): {', '.join(names)}")
    crawl = start_crawl(
        names,
        sources_path=sources_path,
        run_key=run_key,
        limit=limit,
        no_delay=no_delay,
        verbose=verbose,
    )
    # From here to the end, whatever stops this command (a failure, Ctrl-C, SIGTERM, SIGHUP)
    # stops the crawl too: it runs in a session of its own, out of reach of a group kill.
    with crawl.stopped_on_exit():
        with connect_migrated() as conn:
            stats = process_stage(conn, sources, only=names, workers=workers,
                                  more_coming=crawl.running)
        reports = crawl.finish()
    print_run_summary(reports, stats)
    return RunResult(reports, stats)


def process_stage(
    conn: psycopg.Connection,
    sources: Sequence[Source],
    *,
    only: Sequence[str] | None = None,
    workers: int | None = None,
    more_coming: Callable[[], bool] | None = None,
) -> ProcessStats:
    """Extract, load and dedupe the pending pages, then index the new articles for search.

    `more_coming` says whether a producer (a running crawl) may still store pages: see
    `process_pending`. The progress bar counts against the pages pending at the start (no total
    while a crawl still adds pages). Search indexing runs after the load on purpose: parsing
    text for a tsvector during the load would cut its speed by three quarters (see
    pipeline/outputs/search.py).
    """
    total = None if more_coming else count_pending(conn, only)
    with progress("extracting", "pages", total) as advance:
        stats = process_pending(conn, sources, only=only, workers=workers, on_batch=advance,
                                more_coming=more_coming)
    index_pending(workers=workers)
    return stats

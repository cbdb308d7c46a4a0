"""What the commands show a person: progress on stderr, summary tables on stdout."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import psycopg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pipeline.processing.stage import ProcessStats, count_pending, process_pending
from pipeline.sources.config import Source

stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)


def process_with_progress(
    conn: psycopg.Connection,
    sources: Iterable[Source],
    *,
    only: Sequence[str] | None = None,
    workers: int | None = None,
    more_coming: Callable[[], bool] | None = None,
) -> ProcessStats:
    """`process_pending` with a progress bar over the pages pending when it starts (no total
    while a crawl still adds pages)."""
    total = None if more_coming else count_pending(conn, only)
    with Progress(
        TextColumn("extracting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pages"),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
        refresh_per_second=2,  # rich's default of 10 costs the parent a few percent of a core
    ) as progress:
        task = progress.add_task("extract", total=total)
        return process_pending(
            conn,
            sources,
            only=only,
            workers=workers,
            on_batch=lambda n: progress.advance(task, n),
            more_coming=more_coming,
        )


def print_crawl_reports(reports: Sequence[dict]) -> None:
    table = Table(title="crawl: article pages fetched and failed")
    table.add_column("source", no_wrap=True)
    table.add_column("status")
    table.add_column("fetched", justify="right")
    table.add_column("failed", justify="right")
    table.add_column("run key", no_wrap=True)
    for r in reports:
        table.add_row(
            r["source"], r["status"], str(r["pages_fetched"]), str(r["pages_failed"]), r["run_key"]
        )
    stdout.print(table)


def print_process_stats(stats: ProcessStats) -> None:
    table = Table(title="process: pages extracted, articles new and updated")
    table.add_column("source", no_wrap=True)
    for column in ("pages", "new", "updated", "errors"):
        table.add_column(column, justify="right")
    for name, c in sorted(stats.by_source.items()):
        table.add_row(name, str(c.processed), str(c.new), str(c.updated), str(c.errors))
    if not stats.by_source:
        table.caption = "nothing pending"
    stdout.print(table)


def print_run_summary(reports: Sequence[dict], stats: ProcessStats) -> None:
    """One row per source: what the crawl fetched and what processing made of it."""
    table = Table(title="newsdesk run: pages fetched and failed, articles new and updated")
    table.add_column("source", no_wrap=True)
    table.add_column("status")
    for column in ("fetched", "failed", "new", "updated", "duplicates", "errors"):
        table.add_column(column, justify="right")
    for r in reports:
        c = stats.counts(r["source"])
        table.add_row(
            r["source"], r["status"], str(r["pages_fetched"]), str(r["pages_failed"]),
            str(c.new), str(c.updated), str(c.duplicates), str(c.errors),
        )
    d = stats.dedupe
    table.caption = (
        f"dedupe: {d.exact} exact and {d.near} near-duplicate pairs, "
        f"{d.stories_new} new stories, {d.stories_merged} merged"
    )
    stdout.print(table)

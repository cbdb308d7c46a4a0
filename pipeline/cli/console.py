"""What the commands show a person: progress on stderr, summary tables on stdout."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from pipeline.processing.stage import ProcessStats
from pipeline.text.cleaning import escape_controls


class LiteralConsole(Console):
    """A rich Console that prints every string as the literal text it is, whoever wrote it (a
    page's headline, a learned boilerplate line, a URL): no markup (`[/]` crashed and
    `[link=...]` made a hyperlink), no :emoji: codes, control characters shown as \\xNN."""

    def __init__(self, **kwargs) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, **kwargs)

    def render_str(self, text: str, **kwargs) -> Text:
        """Every str a table cell, title, caption or print() holds is rendered here."""
        return super().render_str(escape_controls(text), **kwargs)


#: Width of what is written to a pipe or file: nothing a row or message holds is folded
#: ("daily/plane/t" across two lines breaks grep and cut, a long URL in a warning too); a
#: terminal keeps its own width.
PIPED_WIDTH = 100_000
stdout = LiteralConsole(width=None if sys.stdout.isatty() else PIPED_WIDTH)
stderr = LiteralConsole(stderr=True, width=None if sys.stderr.isatty() else PIPED_WIDTH)


@contextmanager
def progress(verb: str, unit: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr ("VERB ━━━ done/total UNIT eta"), gone once the work ends;
    yields the callback that advances it by n (a stage's `on_batch`). No total: it only counts."""
    with Progress(
        TextColumn(verb),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
        refresh_per_second=2,  # rich's default of 10 costs the parent a few percent of a core
    ) as bar:
        task = bar.add_task(verb, total=total)
        yield lambda n: bar.advance(task, n)


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

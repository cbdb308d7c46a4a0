"""`newsdesk reprocess`: re-extract stored raw pages without fetching, write only what changed."""

from __future__ import annotations

import argparse

from rich.table import Table

from pipeline.cli.console import progress, stdout
from pipeline.cli.options import (
    add_sources_option,
    parse_since,
    processed_sources,
    worker_count,
)
from pipeline.db import connect_migrated
from pipeline.processing.reprocess import (
    FIELDS,
    ReprocessStats,
    count_pages,
    pruned_utc_dates_note,
    reprocess,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reprocess",
        help="re-extract stored raw pages (no fetching) and update the articles that changed",
    )
    add_sources_option(parser)
    parser.add_argument("--source", action="append", metavar="NAME", help="only this source")
    parser.add_argument("--since", metavar="DATE", type=parse_since,
                        help="only pages fetched on or after DATE (YYYY-MM-DD or ISO 8601, UTC)")
    parser.add_argument(
        "--workers", type=worker_count, metavar="N", help="worker processes (default: all cores)"
    )
    parser.add_argument("--list-bodies", action="store_true",
                        help="also list the URL of every article whose body changed")
    parser.set_defaults(handler=handle)



def handle(args: argparse.Namespace) -> int:
    sources = processed_sources(args)
    with connect_migrated() as conn:
        total = count_pages(conn, args.source, args.since)
        with progress("re-extracting", "pages", total) as advance:
            stats = reprocess(conn, sources, only=args.source, since=args.since,
                              workers=args.workers, on_batch=advance,
                              list_bodies=args.list_bodies)
        note = pruned_utc_dates_note(conn, args.source)
    summary = Table(title="reprocess", show_edge=False)
    for column in ("pages", "articles changed", "unchanged", "new", "no article",
                   "page changed meanwhile"):
        summary.add_column(column, justify="right")
    summary.add_row(*map(str, (stats.pages, stats.changed, stats.unchanged, stats.new,
                               stats.failed, stats.skipped_changed)))
    stdout.print(summary)
    fields = Table(title="fields changed", show_edge=False)
    fields.add_column("field")
    fields.add_column("articles", justify="right")
    for name in FIELDS:
        if stats.fields[name]:
            fields.add_row(name, str(stats.fields[name]))
    if stats.fields:
        stdout.print(fields)
    else:
        stdout.print("no field changed")
    if stats.bodies:
        _print_bodies(stats)
    if note:
        stdout.print(note)
    return 0


def _print_bodies(stats: ReprocessStats) -> None:
    """How many articles' bodies changed per source (what an extractor change moved), and with
    `--list-bodies` which ones."""
    table = Table(title="bodies changed", show_edge=False)
    table.add_column("source")
    table.add_column("articles", justify="right")
    for source in sorted(stats.bodies):
        table.add_row(source, str(stats.bodies[source]))
    stdout.print(table)
    for source, url in sorted(stats.body_urls):
        stdout.print(f"{source} {url}", markup=False, highlight=False, soft_wrap=True)

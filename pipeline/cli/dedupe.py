"""`newsdesk dedupe`: group articles not yet deduplicated into stories, or rebuild every story.

The process stage dedupes each batch as it loads it; this command is for articles stored before
dedupe existed, and for a rebuild after the dedupe settings (NEWSDESK_DEDUPE_*) change.
"""

from __future__ import annotations

import argparse

from rich.table import Table

from pipeline.cli.console import progress, stdout
from pipeline.cli.options import whole_number
from pipeline.db import connect_migrated
from pipeline.dedupe.backlog import dedupe_pending, pending_count, reset
from pipeline.dedupe.config import DedupeConfig
from pipeline.dedupe.stories import stories_with_copies


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dedupe", help="group articles without a story into stories (or --rebuild them all)"
    )
    parser.add_argument(
        "--rebuild", action="store_true",
        help="forget every story, pair and index key first, then regroup the whole corpus",
    )
    parser.add_argument("--batch-size", type=whole_number(1), default=500, metavar="N",
                        help="articles per transaction (default 500)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    config = DedupeConfig.from_env()
    with connect_migrated() as conn:
        if args.rebuild:
            reset(conn)
        total = pending_count(conn)
        conn.commit()
        with progress("deduplicating", "articles", total) as advance:
            stats = dedupe_pending(conn, config, args.batch_size, on_batch=advance)
        copies = stories_with_copies(conn)
    table = Table(title="dedupe: articles grouped into stories")
    for column in ("articles", "exact pairs", "near pairs", "new stories", "merged",
                   "stories with copies", "articles in them"):
        table.add_column(column, justify="right")
    table.add_row(str(stats.articles), str(stats.exact), str(stats.near), str(stats.stories_new),
                  str(stats.stories_merged), str(copies[0]), str(copies[1]))
    stdout.print(table)
    return 0

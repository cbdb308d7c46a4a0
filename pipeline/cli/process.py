"""`newsdesk process`: extract pending raw pages into articles, on every core."""

from __future__ import annotations

import argparse

from pipeline.cli.console import print_process_stats
from pipeline.cli.jobs import process_stage
from pipeline.cli.options import add_sources_option, processed_sources, worker_count
from pipeline.db import connect_migrated
from pipeline.processing.reprocess import pruned_utc_dates_note
from pipeline.processing.stage import mark_for_reprocessing


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("process", help="extract pending raw pages into articles")
    add_sources_option(parser)
    parser.add_argument("--source", action="append", metavar="NAME", help="only this source")
    parser.add_argument(
        "--workers", type=worker_count, metavar="N", help="worker processes (default: all cores)"
    )
    parser.add_argument(
        "--reprocess",
        action="store_true",
        help="first make pages extracted by an older extractor version pending again",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    sources = processed_sources(args)
    with connect_migrated() as conn:
        if args.reprocess:
            print(f"{mark_for_reprocessing(conn, args.source)} page(s) marked for reprocessing")
            if note := pruned_utc_dates_note(conn, args.source):
                print(note)
        stats = process_stage(conn, sources, only=args.source, workers=args.workers)
    print_process_stats(stats)
    return 0

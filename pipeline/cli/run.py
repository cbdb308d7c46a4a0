"""`newsdesk run`: the main job. Crawl the selected sources, then process what was fetched."""

from __future__ import annotations

import argparse

from pipeline.cli.jobs import run_pipeline
from pipeline.cli.options import (
    add_selection_options,
    add_sources_option,
    selected_sources,
    worker_count,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="crawl and process every active source (the job)")
    add_sources_option(parser)
    add_selection_options(parser)
    parser.add_argument("--workers", type=worker_count, metavar="N", help="extraction processes")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    result = run_pipeline(
        selected_sources(args),
        sources_path=args.sources,
        run_key=args.run_key,
        limit=args.limit,
        no_delay=args.no_delay,
        verbose=args.verbose,
        workers=args.workers,
    )
    return 0 if result.ok else 1

"""`newsdesk crawl --source NAME`: the crawl stage alone, fetched pages into raw_pages."""

from __future__ import annotations

import argparse

from pipeline.cli.console import print_crawl_reports
from pipeline.cli.options import add_selection_options, add_sources_option, selected_sources
from pipeline.crawl import crawled_ok, run_crawl
from pipeline.db import connect_migrated


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("crawl", help="fetch new article pages into raw_pages")
    add_sources_option(parser)
    add_selection_options(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    sources = selected_sources(args)
    connect_migrated().close()  # an unreachable database: one clear line, before crawling
    reports = run_crawl(
        [s.name for s in sources],
        sources_path=args.sources,
        run_key=args.run_key,
        limit=args.limit,
        no_delay=args.no_delay,
        verbose=args.verbose,
    )
    print_crawl_reports(reports)
    return 0 if all(crawled_ok(r) for r in reports) else 1

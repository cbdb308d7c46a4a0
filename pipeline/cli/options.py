"""Options several commands share: `--sources PATH`, and the source selection of crawl and run."""

from __future__ import annotations

import argparse

from pipeline.errors import NewsdeskError
from pipeline.sources.config import Source, get_sources, load_sources


def add_sources_option(parser: argparse.ArgumentParser) -> None:
    """The `--sources PATH` option every command that reads sources takes."""
    parser.add_argument(
        "--sources",
        metavar="PATH",
        help="sources YAML file or folder (default: $NEWSDESK_SOURCES, else the packaged one)",
    )


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        action="append",
        metavar="NAME",
        help="only this source (repeatable; default: every active source)",
    )
    parser.add_argument("--run-key", help="identifies the run in crawl_runs (default: a timestamp)")
    parser.add_argument("--limit", type=int, metavar="N", help="at most N article pages per source")
    parser.add_argument(
        "--no-delay", action="store_true", help="no politeness delay (local demo site, benchmarks)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show Scrapy's own log")


def selected_sources(args: argparse.Namespace) -> list[Source]:
    """The sources named with --source, else every active one; an empty selection is an error."""
    if args.source:
        return get_sources(args.source, args.sources)
    sources = [s for s in load_sources(args.sources) if s.active]
    if not sources:
        raise NewsdeskError("no active sources to crawl (check --sources)")
    return sources

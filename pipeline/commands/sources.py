"""`newsdesk sources`: list and validate the configured sources."""

from __future__ import annotations

import argparse

from rich.table import Table

from pipeline.cli import add_sources_option
from pipeline.config import default_sources_path, load_sources
from pipeline.console import stdout


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sources", help="list or validate the configured sources")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every source and how it is discovered")
    add_sources_option(listing)
    listing.set_defaults(handler=_list)
    validate = actions.add_parser("validate", help="check the sources file offline")
    add_sources_option(validate)
    validate.set_defaults(handler=_validate)


def _list(args: argparse.Namespace) -> int:
    table = Table(title=str(args.sources or default_sources_path()))
    for column in ("name", "active", "feeds", "sitemaps", "listings", "language", "homepage"):
        table.add_column(column)
    for s in load_sources(args.sources):
        table.add_row(
            s.name, "yes" if s.active else "no", str(len(s.feeds)), str(len(s.sitemaps)),
            str(len(s.listings)), s.language or "-", s.homepage,
        )
    stdout.print(table)
    return 0


def _validate(args: argparse.Namespace) -> int:
    sources = load_sources(args.sources)
    active = sum(s.active for s in sources)
    path = args.sources or default_sources_path()
    print(f"{path}: {len(sources)} sources valid ({active} active)")
    return 0

"""`newsdesk`: one command, one subcommand per job.

Each subcommand lives in its own module of `pipeline.cli` and exposes
`register(subparsers)`, which adds its parser and sets `handler` to a function taking the parsed
arguments and returning an exit status. This module only wires them up and turns a
`NewsdeskError`, or a database connection lost mid-command, into one line on stderr, so neither a
user mistake nor a restarted server shows a traceback.
"""

from __future__ import annotations

import argparse
import sys

import psycopg

from pipeline import __version__
from pipeline.cli import (
    airflow,
    crawl,
    db,
    dedupe,
    demo,
    demo_site,
    export,
    extract,
    pages,
    process,
    report,
    reprocess,
    run,
    search,
    sources,
    takedown,
)
from pipeline.db.connection import lost_connection
from pipeline.errors import NewsdeskError

# Order here is the order in `newsdesk --help`. Imported by name, not found by importlib, so an
# import cycle or a missing module shows at import time and in the import-graph test.
COMMAND_MODULES = [
    run, crawl, process, reprocess, dedupe, extract, sources, pages, search, export, report, db,
    takedown, demo, demo_site, airflow,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsdesk",
        description="Scheduled news scraping and aggregation into PostgreSQL.",
    )
    parser.add_argument("--version", action="version", version=f"newsdesk {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMAND_MODULES:
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args) or 0
    except NewsdeskError as exc:
        print(f"newsdesk {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:  # the server restarted or went away mid-command
        print(f"newsdesk {args.command}: error: {lost_connection(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"newsdesk {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

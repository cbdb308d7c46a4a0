"""`newsdesk`: one command, one subcommand per job.

Each subcommand lives in its own module of `pipeline.cli` and exposes
`register(subparsers)`, which adds its parser and sets `handler` to a function taking the parsed
arguments and returning an exit status. This module only wires them up and turns any failure
into one line on stderr: a `NewsdeskError` (a user mistake), a database connection lost
mid-command, and anything unexpected, whose traceback `--debug` or NEWSDESK_DEBUG=1 shows. A
reader that leaves early (`| head`) is no failure: the command ends quietly.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback

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
from pipeline.errors import NewsdeskError, ReportedError
from pipeline.text.cleaning import escape_controls

#: Set to 1 (or anything but 0) to show unexpected errors' tracebacks, as `--debug` does.
DEBUG_ENV = "NEWSDESK_DEBUG"

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
    parser.add_argument(
        "--debug", action="store_true",
        help=f"show the traceback of an unexpected error (or set {DEBUG_ENV}=1)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMAND_MODULES:
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status = args.handler(args) or 0
        sys.stdout.flush()  # a reader gone (`| head`) shows here, not at exit as a traceback
        return status
    except BrokenPipeError:
        return reader_gone()
    except KeyboardInterrupt:
        print(f"newsdesk {args.command}: interrupted", file=sys.stderr)
        return 130
    except ReportedError:  # a child process printed its one line: a second would only repeat it
        return 1
    except NewsdeskError as exc:
        message = str(exc)
    except psycopg.OperationalError as exc:  # the server restarted or went away mid-command
        message = lost_connection(exc)
    except Exception as exc:  # a bug, or input no check foresaw: still one line, not a traceback
        first_line = str(exc).strip().partition("\n")[0]
        message = f"unexpected {type(exc).__name__}" + (f": {first_line}" if first_line else "")
        if args.debug or os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            traceback.print_exc()
        else:
            message += f" (--debug or {DEBUG_ENV}=1 shows where)"
    print(f"newsdesk {args.command}: error: {one_line(message)}", file=sys.stderr)
    return 1


def reader_gone() -> int:
    """Exit quietly when the reader of our output left early (`newsdesk ... | head`), as a Unix
    tool killed by SIGPIPE does; 141 (128 + SIGPIPE) is the status its shell would show, so a
    `set -o pipefail` script sees a cut output as it would from `grep` or `cat`. stdout is
    pointed at /dev/null, so Python's flush at exit does not fail again (the Python docs'
    SIGPIPE note)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


def one_line(message: str) -> str:
    """The message with each control character written as an escape: a newline, or a terminal
    escape sequence, in a file name or URL the message quotes stays on the one line, inert."""
    return escape_controls(message.strip(), keep="")


if __name__ == "__main__":
    sys.exit(main())

"""`newsdesk report`: the daily report as one self-contained HTML file."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from pathlib import Path

from pipeline.db import connect
from pipeline.errors import NewsdeskError
from pipeline.outputs.report import write_report


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="write the daily HTML report (charts, health)")
    parser.add_argument("--date", metavar="YYYY-MM-DD",
                        help="the report's day (default: today, UTC)")
    parser.add_argument("--out", metavar="FILE",
                        help="where to write it (default: newsdesk-report-DATE.html)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        day = date.fromisoformat(args.date) if args.date else datetime.now(UTC).date()
    except ValueError:
        raise NewsdeskError(f"--date: not a date (YYYY-MM-DD): {args.date!r}") from None
    out = Path(args.out or f"newsdesk-report-{day}.html")
    with connect() as conn:
        write_report(conn, day, out)
    print(out.resolve())
    return 0

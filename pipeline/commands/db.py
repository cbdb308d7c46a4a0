"""`newsdesk db`: migrate, status, url, stop."""

from __future__ import annotations

import argparse
import os

from pipeline.db import connect, database_url, embedded, redact
from pipeline.db.connection import DATABASE_URL_ENV
from pipeline.db.migrate import migrate, status


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="database: migrate, status, url, stop")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("migrate", help="apply pending migrations").set_defaults(handler=_migrate)
    actions.add_parser("status", help="show applied and pending migrations").set_defaults(
        handler=_status
    )
    actions.add_parser("url", help="print a DSN to paste into psql").set_defaults(handler=_url)
    actions.add_parser("stop", help="stop the embedded PostgreSQL").set_defaults(handler=_stop)


def _migrate(args: argparse.Namespace) -> int:
    with connect() as conn:
        applied = migrate(conn)
    for migration in applied:
        print(f"applied {migration.path.name}")
    print(f"{len(applied)} migration(s) applied; schema is current")
    return 0


def _status(args: argparse.Namespace) -> int:
    url = database_url()
    with connect(url) as conn:
        states = status(conn)
    print(f"database: {redact(url)}")
    for state in states:
        when = f"applied {state.applied_at:%Y-%m-%d %H:%M:%S %Z}" if state.applied_at else "pending"
        print(f"  {state.migration.path.name:<40} {when}")
    pending = sum(1 for s in states if s.applied_at is None)
    print(f"{len(states) - pending} applied, {pending} pending")
    return 0


def _url(args: argparse.Namespace) -> int:
    url = database_url()
    if os.environ.get(DATABASE_URL_ENV):
        print(f"# from {DATABASE_URL_ENV}")
    else:
        print(f"# embedded PostgreSQL in {embedded.data_dir()}")
        print('# open it with: psql "$(newsdesk db url | tail -1)"')
    print(url)
    return 0


def _stop(args: argparse.Namespace) -> int:
    if embedded.stop():
        print(f"stopped the embedded PostgreSQL in {embedded.data_dir()}")
    else:
        print(f"the embedded PostgreSQL in {embedded.data_dir()} is not running")
    return 0

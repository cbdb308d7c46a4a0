"""`newsdesk db`: migrate, status, url, stop, grant-analyst, schema-doc, backup, restore."""

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
    _register_analyst_actions(actions)
    _register_backup_actions(actions)


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


# --- analysts: read-only role and schema reference (issue 7) -----------------------------------


def _register_analyst_actions(actions: argparse._SubParsersAction) -> None:
    grant = actions.add_parser(
        "grant-analyst",
        help="create a role that reads everything and writes nothing, or add reading to a role",
    )
    grant.add_argument("role", metavar="ROLE")
    grant.add_argument("--login", action="store_true",
                       help="the role may log in (default NOLOGIN: grant it to people's roles)")
    grant.add_argument("--password-env", metavar="VAR",
                       help="set the role's password from this environment variable")
    grant.set_defaults(handler=_grant_analyst)
    doc = actions.add_parser("schema-doc", help="write the schema reference from the comments")
    doc.add_argument("--out", metavar="PATH", help="file to write (default: stdout)")
    doc.set_defaults(handler=_schema_doc)


def _grant_analyst(args: argparse.Namespace) -> int:
    import psycopg

    from pipeline.db import connect_migrated
    from pipeline.db.roles import check_role_name, grant_analyst
    from pipeline.errors import NewsdeskError

    check_role_name(args.role)  # before any database work: '' and pg_* are one line
    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if not password:
            raise NewsdeskError(f"--password-env: ${args.password_env} is not set")
    with connect_migrated() as conn:
        try:
            created = grant_analyst(conn, args.role, login=args.login, password=password)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise NewsdeskError(
                f"cannot create or alter role {args.role!r}: {exc.diag.message_primary}"
            ) from None
    if created:
        print(f"created read-only role {args.role!r} ({'LOGIN' if args.login else 'NOLOGIN'}): "
              "SELECT on every table and view, nothing else")
    else:
        print(f"updated role {args.role!r}: SELECT on every table and view granted"
              f"{', LOGIN' if args.login else ''}{', password set' if password else ''}; "
              "nothing it could already do was taken away")
    return 0


def _schema_doc(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pipeline.atomic import atomic_write
    from pipeline.db import connect_migrated
    from pipeline.outputs.schema_doc import generate

    with connect_migrated() as conn:
        text = generate(conn)
    if args.out:
        with atomic_write(Path(args.out)) as tmp:
            tmp.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0


# --- backup and restore ------------------------------------------------------------------------


def _register_backup_actions(actions: argparse._SubParsersAction) -> None:
    backup = actions.add_parser("backup",
                                help="dump the database to a file (pg_dump, custom format)")
    backup.add_argument("file", metavar="FILE",
                        help="where to write the dump (pg_dump's custom format)")
    backup.set_defaults(handler=_backup)
    restore = actions.add_parser(
        "restore", help="replace the database with a backup (restored aside, then swapped in)")
    restore.add_argument("file", metavar="FILE", help="a dump written by `newsdesk db backup`")
    restore.add_argument("--replace", action="store_true",
                         help="replace a database that has data (default: refuse)")
    restore.set_defaults(handler=_restore)


def _backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pipeline.db.backup import backup

    url = database_url()
    tools = backup(url, Path(args.file))
    size = Path(args.file).stat().st_size
    print(f"backed up {redact(url)} to {args.file} ({size:,} bytes) with {tools.version}"
          f" from {tools.bin_dir}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pipeline.db.backup import restore

    url = database_url()
    tools = restore(url, Path(args.file), replace=args.replace)
    print(f"restored {args.file} into {redact(url)} with {tools.version} from {tools.bin_dir}")
    print("run `newsdesk db migrate` if the backup predates this newsdesk's migrations")
    return 0

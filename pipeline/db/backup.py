"""`newsdesk db backup` and `db restore`: pg_dump's custom format, and pg_restore into a fresh
database that then takes the old one's name.

The tools are of the server's own major version: the embedded server's build (pgserver ships
pg_dump and pg_restore beside its postgres) first, then Debian's versioned folder, then PATH.
Older ones cannot serve (pg_dump refuses a newer server, pg_restore a newer archive) and newer
ones break the round trip: a PostgreSQL 17 pg_restore sets `transaction_timeout`, which a 16
server rejects.

Restore never leaves a half-restored database. It restores into a scratch database (one
transaction, stopping at the first error) and swaps it in with two renames in one transaction:
the database is the old one or the whole restored one. Restoring into the live database with
`--single-transaction --clean` would also be atomic, but it drops and recreates every object
under the feet of other sessions and needs the archive to match the live schema; the swap only
needs no one else connected for the instant of the renames.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pipeline.atomic import atomic_write
from pipeline.db import embedded
from pipeline.db.connection import connect
from pipeline.errors import NewsdeskError

#: A table every newsdesk database has: an archive without it is someone else's backup.
_MARKER_TABLE = "TABLE public raw_pages "
_VERSION = re.compile(r"\(PostgreSQL\) (\d+)")


@dataclass(frozen=True)
class Tools:
    """A pg_dump/pg_restore pair from one PostgreSQL build."""

    bin_dir: Path
    version: str  # as `pg_dump --version` prints it: "pg_dump (PostgreSQL) 16.2"

    def run(self, tool: str, args: list[str], url: str) -> None:
        """Run the tool against `url`; its first error line as a NewsdeskError. The password
        goes through the environment, never the command line (which `ps` shows)."""
        params = conninfo_to_dict(url)
        password = params.pop("password", None)
        env = {**os.environ, **({"PGPASSWORD": str(password)} if password else {})}
        command = [str(self.bin_dir / tool), *args, f"--dbname={make_conninfo(**params)}"]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            raise NewsdeskError(lines[0] if lines else f"{tool} exited with {done.returncode}")


def find_tools(server_version: int) -> Tools:
    """The first pg_dump/pg_restore pair of the major version of `server_version` (psycopg's
    number, 160002 for 16.2), else one line naming what was found."""
    major = server_version // 10000
    candidates = [embedded.bin_dir(), Path(f"/usr/lib/postgresql/{major}/bin")]
    on_path = shutil.which("pg_dump")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    found = []
    for bin_dir in candidates:
        if not (bin_dir / "pg_restore").exists():
            continue
        version = subprocess.run([str(bin_dir / "pg_dump"), "--version"], capture_output=True,
                                 text=True).stdout.strip()
        match = _VERSION.search(version)
        if match and int(match[1]) == major:
            return Tools(bin_dir, version)
        found.append(f"{version or 'no version'} in {bin_dir}")
    raise NewsdeskError(f"no pg_dump of PostgreSQL {major}, the server's version (found: "
                        f"{'; '.join(found) or 'none'}); install PostgreSQL {major}'s client "
                        "tools")


def backup(url: str, file: Path) -> Tools:
    """Dump the database at `url` to `file` (custom format), written whole or not at all."""
    if not file.parent.is_dir():
        raise NewsdeskError(f"{file}: no such folder {file.parent}")
    with connect(url) as conn:
        tools = find_tools(conn.info.server_version)
    with atomic_write(file) as tmp:  # a folder or an unwritable path: one line, no dump left
        try:
            tools.run("pg_dump", ["--format=custom", f"--file={tmp}"], url)
        except NewsdeskError as exc:
            raise NewsdeskError(f"{file}: backup failed: {exc}") from None
    return tools


def restore(url: str, file: Path, *, replace: bool = False) -> Tools:
    """Replace the database at `url` with the backup in `file`; one that has data only when
    `replace`. Other sessions on it make the swap fail, and then nothing has changed."""
    if not file.is_file():
        raise NewsdeskError(f"{file}: no such file")
    name = conninfo_to_dict(url).get("dbname") or ""
    with connect(url) as conn:
        tools = find_tools(conn.info.server_version)
        has_data = _has_data(conn)
    _check_archive(tools, file)
    if has_data and not replace:
        raise NewsdeskError(f"the database {name} has data: pass --replace to replace it with "
                            f"{file} (back it up first with `newsdesk db backup`)")
    scratch, old = f"{name}_restoring", f"{name}_replaced"
    with _admin(url) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [old]).fetchone():
            # A restore stopped between its swap and its drop: what it replaced, said once.
            print(f"newsdesk: dropping {old}, the database an interrupted restore replaced",
                  file=sys.stderr)
        for db in (scratch, old):  # leftovers of an interrupted restore
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(db)))
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(
            sql.Identifier(scratch)))
        try:
            tools.run("pg_restore", ["--single-transaction", "--exit-on-error", "--no-owner",
                                     str(file)], make_conninfo(url, dbname=scratch))
            _swap(admin, name, scratch, old)
        except (NewsdeskError, psycopg.Error) as exc:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(scratch)))
            raise NewsdeskError(f"{file}: restore failed, {name} unchanged: "
                                f"{str(exc).splitlines()[0]}") from None
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(old)))
    return tools


def _check_archive(tools: Tools, file: Path) -> None:
    """A one-line error naming `file` unless it is a custom-format newsdesk backup."""
    done = subprocess.run([str(tools.bin_dir / "pg_restore"), "--list", str(file)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["unreadable"])[0].removeprefix(
            "pg_restore: error: ")
        raise NewsdeskError(f"{file}: not a backup pg_restore can read ({why})")
    if _MARKER_TABLE not in done.stdout:
        raise NewsdeskError(f"{file}: not a newsdesk backup (it has no raw_pages table)")


def _has_data(conn: psycopg.Connection) -> bool:
    """True when any table of the schema but the migrations ledger has a row."""
    tables = [t for (t,) in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        " AND tablename <> 'schema_migrations'").fetchall()]
    return any(conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(
        sql.Identifier(t))).fetchone()[0] for t in tables)


def _admin(url: str) -> psycopg.Connection:
    """An autocommit connection to the server's maintenance database (CREATE/DROP DATABASE)."""
    try:
        return psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True,
                               connect_timeout=10)
    except psycopg.OperationalError:
        return connect(make_conninfo(url, dbname="template1"), autocommit=True)


def _swap(admin: psycopg.Connection, name: str, scratch: str, old: str) -> None:
    """Rename `name` to `old` and `scratch` to `name` in one transaction."""
    rename = sql.SQL("ALTER DATABASE {} RENAME TO {}")
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    with admin.transaction():
        if exists:
            admin.execute(rename.format(sql.Identifier(name), sql.Identifier(old)))
        admin.execute(rename.format(sql.Identifier(scratch), sql.Identifier(name)))

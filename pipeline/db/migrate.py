"""Numbered migrations, applied in order, one transaction each, recorded with a checksum.

A migration is a `.sql` file (the schema) or a `.py` file with a `migrate(conn)` function (data
that needs Python to rewrite, such as re-keying URLs with w3lib). Both run under the same advisory
lock, in the same numbered order, each in its own transaction: a `.py` migration must not commit.
An applied migration whose file has since changed is refused: the database and the file no longer
describe the same schema, and silently skipping would hide that. Write a new migration instead.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import ModuleType

import psycopg

from pipeline.errors import NewsdeskError

#: The migration files ship as the data-only package pipeline.db.migrations (sql/migrations in the
#: repository, mapped by pyproject.toml). A folder on disk: pip never installs a package zipped.
MIGRATIONS_DIR = Path(str(resources.files("pipeline.db.migrations")))
_FILENAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(sql|py)$")
# Any fixed number: it only has to be the same in every process that migrates.
_LOCK_KEY = 0x6E657773  # "news"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def kind(self) -> str:
        """"sql" (the file is run as it is) or "py" (its `migrate(conn)` is called)."""
        return self.path.suffix[1:]

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class MigrationState:
    migration: Migration
    applied_at: object | None  # datetime, or None when pending


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    # __init__.py makes the folder a package; every other .sql or .py file is a migration.
    files = [p for p in directory.iterdir() if p.suffix in (".sql", ".py")]
    for path in sorted(p for p in files if p.name != "__init__.py"):
        match = _FILENAME.match(path.name)
        if not match:
            raise NewsdeskError(f"{path}: migration files are named NNNN_lowercase_name.sql or .py")
        migrations.append(Migration(int(match[1]), match[2], path))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise NewsdeskError(f"{directory}: two migrations share a number")
    return migrations


def _ensure_ledger(conn: psycopg.Connection) -> None:
    conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               version    integer PRIMARY KEY,
               name       text NOT NULL,
               checksum   text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )
    conn.execute(
        "COMMENT ON TABLE schema_migrations IS "
        "'Applied migrations from sql/migrations, with the SHA-256 of each file as applied.'"
    )


def _applied(conn: psycopg.Connection) -> dict[int, tuple[str, str, object]]:
    rows = conn.execute("SELECT version, name, checksum, applied_at FROM schema_migrations")
    return {version: (name, checksum, at) for version, name, checksum, at in rows}


def _check_unchanged(migrations: list[Migration], applied: dict) -> None:
    for migration in migrations:
        if migration.version in applied and applied[migration.version][1] != migration.checksum:
            raise NewsdeskError(
                f"{migration.path}: edited after it was applied (checksum differs); "
                "restore it and put the change in a new migration"
            )


def status(conn: psycopg.Connection) -> list[MigrationState]:
    """Every migration file with when it was applied (None if pending); refuses edited ones."""
    migrations = discover()
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]
    applied = _applied(conn) if exists else {}
    _check_unchanged(migrations, applied)
    return [MigrationState(m, applied.get(m.version, (None, None, None))[2]) for m in migrations]


def migrate(conn: psycopg.Connection) -> list[Migration]:
    """Apply every pending migration, each in its own transaction; returns those applied now.

    Safe to run concurrently: a session advisory lock makes a second migrator wait, after which it
    finds nothing pending.
    """
    migrations = discover()
    conn.commit()
    was_autocommit, conn.autocommit = conn.autocommit, True  # transactions are explicit below
    conn.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
    try:
        with conn.transaction():
            _ensure_ledger(conn)
            applied = _applied(conn)
        _check_unchanged(migrations, applied)
        done = []
        for migration in migrations:
            if migration.version not in applied:
                _apply(conn, migration)
                done.append(migration)
        return done
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
        conn.autocommit = was_autocommit


def _apply(conn: psycopg.Connection, migration: Migration) -> None:
    try:
        with conn.transaction():
            if migration.kind == "sql":
                conn.execute(migration.path.read_text(encoding="utf-8"))
            else:
                _load(migration).migrate(conn)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                [migration.version, migration.name, migration.checksum],
            )
    except Exception as exc:  # a .py migration's bug is as much the file's fault as bad SQL
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NewsdeskError(f"{migration.path}: failed to apply: {message}") from None


def _load(migration: Migration) -> ModuleType:
    """The .py migration as a module (its name starts with a digit: no plain import)."""
    spec = importlib.util.spec_from_file_location(
        f"newsdesk_migration_{migration.version:04d}", migration.path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "migrate", None)):
        raise NewsdeskError("a .py migration defines migrate(conn)")
    return module

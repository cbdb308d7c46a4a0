"""Migrations on a real Postgres: fresh, re-run, concurrent, and an edited applied file refused."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import psycopg
import pytest

from pipeline.db import migrate as migrate_module
from pipeline.db.migrate import discover, migrate, status
from pipeline.errors import NewsdeskError


def test_fresh_database_gets_every_migration_then_rerun_applies_nothing(empty_db_url):
    with psycopg.connect(empty_db_url) as conn:
        applied = migrate(conn)
        assert [m.version for m in applied] == [m.version for m in discover()]
        assert migrate(conn) == []
        assert all(state.applied_at is not None for state in status(conn))
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
    assert {"sources", "crawl_runs", "raw_pages", "articles", "schema_migrations"} <= tables


def test_every_table_and_column_is_commented(db_url):
    with psycopg.connect(db_url) as conn:
        missing = conn.execute(
            """SELECT c.relname || COALESCE('.' || a.attname, '')
                 FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
                 LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
                                         AND NOT a.attisdropped
                WHERE c.relkind IN ('r', 'v', 'm') AND c.relname <> 'schema_migrations'
                  AND (a.attname IS NULL AND obj_description(c.oid, 'pg_class') IS NULL
                       OR a.attname IS NOT NULL AND col_description(c.oid, a.attnum) IS NULL)"""
        ).fetchall()
    assert missing == []


def test_concurrent_migrators_apply_each_migration_once(empty_db_url):
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with psycopg.connect(empty_db_url) as conn:
                migrate(conn)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with psycopg.connect(empty_db_url) as conn:
        count = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    assert count == len(discover())


def test_edited_applied_migration_is_refused(db_url, tmp_path: Path, monkeypatch):
    edited = tmp_path / "migrations"
    shutil.copytree(migrate_module.MIGRATIONS_DIR, edited)
    first = sorted(edited.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- an innocent-looking edit\n")
    monkeypatch.setattr(migrate_module, "MIGRATIONS_DIR", edited)
    monkeypatch.setattr(migrate_module.discover, "__defaults__", (edited,))
    with psycopg.connect(db_url) as conn, pytest.raises(NewsdeskError) as caught:
        migrate(conn)
    assert first.name in str(caught.value)
    assert "edited after it was applied" in str(caught.value)


def test_failing_migration_rolls_back_alone_and_names_its_file(empty_db_url, tmp_path, monkeypatch):
    folder = tmp_path / "migrations"
    shutil.copytree(migrate_module.MIGRATIONS_DIR, folder)
    broken = folder / "9999_broken.sql"
    broken.write_text("CREATE TABLE half_done (id int);\nSELECT no_such_function();\n")
    monkeypatch.setattr(migrate_module.discover, "__defaults__", (folder,))
    with psycopg.connect(empty_db_url) as conn:
        with pytest.raises(NewsdeskError, match=r"9999_broken\.sql: failed to apply"):
            migrate(conn)
        assert conn.execute("SELECT to_regclass('half_done')").fetchone()[0] is None
        applied = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    assert applied == len(discover(migrate_module.MIGRATIONS_DIR))

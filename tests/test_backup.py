"""`newsdesk db backup` / `db restore`: a round trip with real rows (raw pages, articles, their
versions, stories, dedupe keys), the refusal to overwrite data, and bad files named."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pipeline.db import embedded
from pipeline.db.backup import find_tools
from pipeline.errors import NewsdeskError
from tests.cli import newsdesk
from tests.dedupe_helpers import add_sources, article, store

BODY = " ".join(f"word{i} of the story told at length in sentence {i}." for i in range(120))


def _contents(url: str) -> dict[str, list]:
    """Every row of every table, sorted: what a round trip must give back."""
    with psycopg.connect(url) as conn:
        tables = [t for (t,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").fetchall()]
        return {t: sorted(map(repr, conn.execute(
            sql.SQL("SELECT * FROM {}").format(sql.Identifier(t))).fetchall())) for t in tables}


@pytest.fixture
def filled(db_url: str) -> dict[str, list]:
    with psycopg.connect(db_url) as conn:
        add_sources(conn)
        store(conn, [article("https://dailyplanet.example/a", BODY, title="First"),
                     article("https://metroherald.example/a", BODY, source="metroherald",
                             published_at=datetime(2026, 3, 16, tzinfo=UTC))])
        conn.execute("UPDATE articles SET title = 'First, edited' WHERE title = 'First'")
        conn.commit()
    contents = _contents(db_url)
    for table in ("raw_pages", "articles", "article_versions", "stories", "article_bands",
                  "duplicate_pairs", "sources", "schema_migrations"):
        assert contents[table], table
    return contents


def test_backup_and_restore_give_back_every_row(db_url, filled, tmp_path):
    file = tmp_path / "newsdesk.dump"
    result = newsdesk("db", "backup", str(file))
    assert result.returncode == 0, result.stderr
    assert "PostgreSQL" in result.stdout and file.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir()] == ["newsdesk.dump"]  # no temporary file left

    with psycopg.connect(db_url) as conn:  # lose everything but the schema
        conn.execute("TRUNCATE sources, raw_pages, articles, stories, article_bands CASCADE")
    restored = newsdesk("db", "restore", str(file))
    assert restored.returncode == 0, restored.stderr  # no data left: nothing to protect
    assert _contents(db_url) == filled


def test_restore_refuses_a_database_with_data_unless_replace(db_url, filled, tmp_path):
    file = tmp_path / "newsdesk.dump"
    assert newsdesk("db", "backup", str(file)).returncode == 0
    with psycopg.connect(db_url) as conn:
        conn.execute("DELETE FROM articles WHERE source = 'metroherald'")
    changed = _contents(db_url)

    refused = newsdesk("db", "restore", str(file))
    assert refused.returncode == 1
    assert "--replace" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert _contents(db_url) == changed

    replaced = newsdesk("db", "restore", str(file), "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert _contents(db_url) == filled


def test_a_busy_database_is_left_whole(db_url, filled, tmp_path):
    """Another session on the database stops the swap; the restored copy is dropped."""
    file = tmp_path / "newsdesk.dump"
    assert newsdesk("db", "backup", str(file)).returncode == 0
    with psycopg.connect(db_url) as other:
        other.execute("DELETE FROM stories")
        other.commit()
        result = newsdesk("db", "restore", str(file), "--replace")
        assert result.returncode == 1
        assert str(file) in result.stderr and "unchanged" in result.stderr
        names = {n for (n,) in other.execute("SELECT datname FROM pg_database").fetchall()}
    assert not any(n.endswith(("_restoring", "_replaced")) for n in names)
    assert _contents(db_url)["stories"] == []


@pytest.mark.parametrize("content", [b"", b"not a dump at all", b"PGDMP\x01garbage"])
def test_a_bad_file_is_one_line_naming_it(db_url, filled, tmp_path, content):
    file = tmp_path / "bad.dump"
    file.write_bytes(content)
    result = newsdesk("db", "restore", str(file), "--replace")
    assert result.returncode == 1
    assert str(file) in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert _contents(db_url) == filled


def test_a_missing_file_or_folder_is_named(db_url, tmp_path):
    missing = tmp_path / "nope.dump"
    result = newsdesk("db", "restore", str(missing))
    assert result.returncode == 1 and str(missing) in result.stderr
    result = newsdesk("db", "backup", str(tmp_path / "no" / "such.dump"))
    assert result.returncode == 1 and "no such folder" in result.stderr


def test_a_leftover_of_an_interrupted_restore_is_named_as_it_is_dropped(db_url, filled,
                                                                         tmp_path):
    file = tmp_path / "newsdesk.dump"
    assert newsdesk("db", "backup", str(file)).returncode == 0
    leftover = f"{conninfo_to_dict(db_url)['dbname']}_replaced"
    with psycopg.connect(make_conninfo(db_url, dbname="postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(leftover)))
        result = newsdesk("db", "restore", str(file), "--replace")
        assert result.returncode == 0, result.stderr
        assert [line for line in result.stderr.splitlines() if leftover in line] == [
            f"newsdesk: dropping {leftover}, the database an interrupted restore replaced"]
        assert not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                 [leftover]).fetchone()


def _tools(folder: Path, version: str) -> Path:
    """A folder whose pg_dump and pg_restore report `version`, as a PostgreSQL build's do."""
    folder.mkdir()
    for tool in ("pg_dump", "pg_restore"):
        script = folder / tool
        script.write_text(f"#!/bin/sh\necho '{tool} (PostgreSQL) {version}'\n")
        script.chmod(0o755)
    return folder


def test_tools_of_the_servers_own_version_win_over_newer_ones(tmp_path, monkeypatch):
    """A PostgreSQL 17 pg_restore sets transaction_timeout, which a 16 server rejects: the
    embedded build's 17 is passed over for the 16 on PATH, and 17 alone is one line naming it."""
    newer = _tools(tmp_path / "pg17", "17.2")
    monkeypatch.setattr(embedded, "bin_dir", lambda: newer)
    monkeypatch.setenv("PATH", str(_tools(tmp_path / "pg16", "16.4")))
    assert find_tools(160002).version.startswith("pg_dump (PostgreSQL) 16.")

    monkeypatch.setenv("PATH", str(newer))
    if Path("/usr/lib/postgresql/16/bin/pg_restore").exists():
        pytest.skip("this machine has PostgreSQL 16's client tools installed")
    with pytest.raises(NewsdeskError) as raised:
        find_tools(160002)
    message = str(raised.value)
    assert "17.2" in message and "PostgreSQL 16" in message and "\n" not in message


def test_a_folder_to_back_up_into_is_one_line_and_leaves_no_dump(db_url, tmp_path):
    """It once dumped the whole database beside the folder, then failed to rename it over."""
    folder = tmp_path / "backups"
    folder.mkdir()
    result = newsdesk("db", "backup", str(folder))
    assert result.returncode == 1
    assert result.stderr == f"newsdesk db: error: {folder}: is a directory (give a file name)\n"
    assert [p.name for p in tmp_path.iterdir()] == ["backups"] and not any(folder.iterdir())

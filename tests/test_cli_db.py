"""`newsdesk db` on a real Postgres, and the one-line errors users see."""

from __future__ import annotations

import psycopg
import pytest

from pipeline.db import embedded, redact
from tests.cli import newsdesk


def test_migrate_status_and_url(empty_db_url):
    first = newsdesk("db", "migrate")
    assert first.returncode == 0, first.stderr
    assert "applied 0001_initial.sql" in first.stdout
    again = newsdesk("db", "migrate")
    assert again.returncode == 0 and "0 migration(s) applied" in again.stdout
    status = newsdesk("db", "status")
    assert status.returncode == 0
    assert "0001_initial.sql" in status.stdout and "0 pending" in status.stdout
    url = newsdesk("db", "url")
    dsn = url.stdout.strip().splitlines()[-1]
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone() == (0,)


def test_unreachable_database_is_one_line_without_password(monkeypatch):
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", "postgresql://analyst:s3cret@127.0.0.1:9/news")
    result = newsdesk("db", "status")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("newsdesk db: error: cannot connect to the database")
    assert "s3cret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_embedded_server_starts_reuses_and_stops(tmp_path, monkeypatch):
    monkeypatch.delenv("NEWSDESK_DATABASE_URL", raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("NEWSDESK_HOME", str(home))
    try:
        first = newsdesk("db", "migrate")
        assert first.returncode == 0, first.stderr
        assert f"started embedded PostgreSQL in {home / 'pgdata'}" in first.stderr
        second = newsdesk("db", "url")
        assert "started" not in second.stderr  # reused, not started again
        with psycopg.connect(second.stdout.strip().splitlines()[-1]) as conn:
            assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] >= 1
            # Sized for this machine at the first start (a restart), not Postgres' defaults.
            wanted = embedded.server_settings(embedded.machine_memory())
            for name in ("shared_buffers", "max_wal_size"):
                assert conn.execute(f"SHOW {name}").fetchone()[0] == wanted[name]
    finally:
        stopped = newsdesk("db", "stop")
    assert "stopped the embedded PostgreSQL" in stopped.stdout
    assert not (home / "pgdata" / "postmaster.pid").exists()


def test_embedded_server_settings_follow_the_machine_memory():
    assert embedded.server_settings(8 * 2**30)["shared_buffers"] == "2048MB"
    assert embedded.server_settings(8 * 2**30)["effective_cache_size"] == "6144MB"
    assert embedded.server_settings(256 * 2**20)["shared_buffers"] == "128MB"  # never below
    assert "shared_buffers" not in embedded.server_settings(None)  # unknown: Postgres' default


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://ana:s3cret@db:5432/news", "postgresql://ana:***@db:5432/news"),
        ("host=db user=ana password=s3cret dbname=x", "host=db user=ana password=*** dbname=x"),
        ("host=db password='two words' dbname=news", "host=db password=*** dbname=news"),
        ("postgresql://postgres:@/newsdesk?host=/tmp", "postgresql://postgres:@/newsdesk?host=/tmp"),
        ("postgresql://ana@db/news", "postgresql://ana@db/news"),
    ],
)
def test_redact_hides_passwords_only(dsn, shown):
    assert redact(dsn) == shown

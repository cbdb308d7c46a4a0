"""Shared fixtures: a throwaway real PostgreSQL, one fresh migrated database per test.

The server is the embedded one (pgserver) in a temporary directory, deleted at the end of the
session, unless NEWSDESK_TEST_DATABASE_URL points at a server the test run may create databases on.
"""

from __future__ import annotations

import logging
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pipeline.db.migrate import migrate

TEMPLATE = "newsdesk_test_template"

# pgserver logs every pg_ctl call at INFO; at interpreter exit, after pytest has closed its
# capture streams, those records only produce "--- Logging error ---" noise.
logging.getLogger("pgserver").setLevel(logging.WARNING)

# A suite started in the background by a non-interactive shell (`cmd &`) inherits SIGINT
# ignored, and Python then never raises KeyboardInterrupt, nor do the children it starts: the
# Ctrl-C tests would fail for how the suite was launched, not for what they test.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _with_dbname(url: str, dbname: str) -> str:
    return make_conninfo(url, dbname=dbname)


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A DSN for a maintenance database on a server the tests own for the session."""
    url = os.environ.get("NEWSDESK_TEST_DATABASE_URL")
    if url:
        yield url
        return
    from pipeline.db import embedded

    pgdata = tmp_path_factory.mktemp("pg") / "pgdata"
    with pytest.MonkeyPatch.context() as patch:
        # Postgres' default sizes, not a quarter of the machine's memory for shared_buffers: a
        # test server shares the machine with the suite (and other test runs), and keeping the
        # defaults saves the restart that applying the larger sizes costs.
        patch.setattr(embedded, "machine_memory", lambda: None)
        # pgserver stops the server and deletes its directory when this process exits.
        dsn = embedded.ensure_server(pgdata, cleanup_mode="delete")
    yield _with_dbname(dsn, "postgres")


@pytest.fixture(scope="session")
def template_db(pg_server_url: str) -> str:
    """A database with every migration applied, cloned for each test (fast: a file copy)."""
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(TEMPLATE)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    with psycopg.connect(_with_dbname(pg_server_url, TEMPLATE)) as conn:
        migrate(conn)
    return TEMPLATE


@pytest.fixture
def db_url(pg_server_url: str, template_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated database for this test; also exported as NEWSDESK_DATABASE_URL."""
    name = f"newsdesk_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template_db)
            )
        )
    url = _with_dbname(pg_server_url, name)
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", url)
    yield url
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="module")
def module_db(pg_server_url: str, template_db: str) -> Iterator[str]:
    """A fresh, migrated database shared by one test module (for a module-scoped crawl)."""
    name = f"newsdesk_module_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template_db)
            )
        )
    yield _with_dbname(pg_server_url, name)
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def empty_db_url(pg_server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database with no migrations applied."""
    name = f"newsdesk_empty_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _with_dbname(pg_server_url, name)
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", url)
    yield url
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's own embedded server or sources from a test."""
    monkeypatch.setenv("NEWSDESK_HOME", str(tmp_path / "newsdesk-home"))
    monkeypatch.delenv("NEWSDESK_SOURCES", raising=False)

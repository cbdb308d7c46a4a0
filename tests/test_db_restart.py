"""Postgres restarted while `newsdesk run` works: once in the crawl stage, once mid-batch in the
process stage. The run fails with one line naming the failure (no traceback, no password); the
rerun completes with every article stored exactly once, nothing pending, no crawl run left
'running', no orphaned rows and no lock left behind.

The server is one of this module's own (pgserver, like the session's), since restarting the
session's server would cut every other test's connections; the DSN carries a password, which the
server's trust authentication ignores, so the tests can look for it in the output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from pipeline.db import embedded
from pipeline.db.migrate import migrate
from pipeline.demo_site import DemoSite, RunningSite, serve_demo_site
from tests.repo import REPO_ROOT
from tests.test_crash_recovery import expected_pages
from tests.test_crawl import write_sources

pytestmark = pytest.mark.slow  # two full runs of the demo site, each interrupted and rerun

PASSWORD = "r3start-s3cret"
DEADLINE = 120  # seconds one `newsdesk run` may take
DOWN_SECONDS = 1.0  # how long the server stays stopped


class Server:
    """An embedded PostgreSQL this module may stop and start."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self.maintenance_dsn = embedded.ensure_server(pgdata, cleanup_mode="delete")

    def restart(self) -> None:
        """Stop it (fast shutdown: sessions are cut mid-statement), wait, start it again."""
        assert embedded.stop(self.pgdata)
        time.sleep(DOWN_SECONDS)
        # pgserver keeps one handle per data directory and starts the server only when it
        # creates it, so the handle is asked directly.
        pgserver, _ = embedded._pgserver()
        pgserver.get_server(self.pgdata).ensure_postgres_running()

    def new_database(self, name: str) -> str:
        with psycopg.connect(self.maintenance_dsn, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        dsn = make_conninfo(self.maintenance_dsn, dbname=name, password=PASSWORD)
        with psycopg.connect(dsn) as conn:
            migrate(conn)
        return dsn


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # pgserver stops the server and deletes its directory when this process exits.
    yield Server(tmp_path_factory.mktemp("restart") / "pgdata")


@pytest.fixture(scope="module")
def site() -> Iterator[RunningSite]:
    with serve_demo_site(DemoSite(seed=11, n_articles=300)) as running:
        yield running


def run_args(sources: Path) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", "run", "--sources", str(sources), "--no-delay",
            "--run-key", "restart", "--workers", "1"]  # fmt: skip


def scalar(dsn: str, query: str) -> int | None:
    """One value, or None while the server is down."""
    try:
        with psycopg.connect(dsn, connect_timeout=2) as conn:
            return conn.execute(query).fetchone()[0]
    except psycopg.OperationalError:
        return None


def restart_when(
    server: Server, proc: subprocess.Popen, ready: Callable[[], bool]
) -> tuple[str, str]:
    """Restart the server as soon as `ready()`, then let `proc` finish; its (stdout, stderr)."""
    end = time.monotonic() + DEADLINE
    while not ready():
        if proc.poll() is not None or time.monotonic() > end:
            proc.kill()
            _, err = proc.communicate()
            pytest.fail(f"never reached the moment to restart the server: {err[-2000:]}")
        time.sleep(0.02)
    server.restart()
    return proc.communicate(timeout=DEADLINE)


def interrupted_then_rerun(
    server: Server, site: RunningSite, tmp_path: Path, name: str, ready: Callable[[str], bool]
) -> tuple[str, subprocess.CompletedProcess[str]]:
    """`newsdesk run` with the server restarted at `ready`, then rerun; (its stderr, the rerun)."""
    dsn = server.new_database(name)
    sources = write_sources(site, tmp_path / "sources.yaml")
    env = os.environ | {"NEWSDESK_DATABASE_URL": dsn}
    proc = subprocess.Popen(run_args(sources), cwd=REPO_ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    out, err = restart_when(server, proc, lambda: ready(dsn))
    assert proc.returncode == 1, err
    assert "Traceback" not in err, err
    assert PASSWORD not in out + err
    rerun = subprocess.run(run_args(sources), cwd=REPO_ROOT, env=env, text=True,
                           capture_output=True, timeout=DEADLINE)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    assert PASSWORD not in rerun.stdout + rerun.stderr
    assert_complete_and_clean(dsn, site)
    return err, rerun


def assert_complete_and_clean(dsn: str, site: RunningSite) -> None:
    with psycopg.connect(dsn) as conn:

        def rows(query: str) -> list[tuple]:
            return conn.execute(query).fetchall()

        raw = [url for (url,) in rows("SELECT url FROM raw_pages")]
        assert len(raw) == len(set(raw)) and set(raw) == expected_pages(site)
        assert rows("SELECT count(*) FROM raw_pages WHERE processed_at IS NULL") == [(0,)]
        # Every real article once (the live page is not an article, the redirect lands on one).
        urls = [url for (url,) in rows("SELECT url FROM articles")]
        assert len(urls) == len(set(urls)) and set(urls) == {t.url for t in site.truth()}
        assert rows("SELECT DISTINCT status FROM crawl_runs") == [("success",)]
        # No orphans: every page belongs to a run, every article to a page, every story has
        # an article and every article whose story is set points at one that exists.
        assert rows("SELECT count(*) FROM raw_pages WHERE crawl_run_id IS NULL") == [(0,)]
        assert rows("SELECT count(*) FROM articles WHERE raw_page_id IS NULL") == [(0,)]
        assert rows(
            "SELECT count(*) FROM stories s WHERE NOT EXISTS"
            " (SELECT 1 FROM articles a WHERE a.story_id = s.id)"
        ) == [(0,)]
        # No lock left behind: no other session holds any (advisory or row) lock.
        assert rows(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()"
        ) == [(0,)]
        assert rows("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == [(0,)]


def test_postgres_restarted_mid_crawl_then_rerun_stores_every_article_exactly_once(
    server: Server, site: RunningSite, tmp_path: Path
) -> None:
    err, _ = interrupted_then_rerun(
        server, site, tmp_path, "restart_crawl",
        lambda dsn: (scalar(dsn, "SELECT count(*) FROM raw_pages") or 0) > 0,
    )  # fmt: skip
    # The restart cuts whoever is talking to the database then: a source's crawl says so on one
    # line (one that had finished before it succeeded), or the process stage, which runs beside
    # the crawl, ends the run with one line. Either way the run exits 1 (checked above).
    crawl_cut = [line for line in err.splitlines() if "failed (database error:" in line]
    process_cut = err.strip().splitlines()[-1].startswith(
        "newsdesk run: error: lost the database connection: ")
    assert crawl_cut or process_cut, err


def test_postgres_restarted_mid_process_batch_then_rerun_stores_every_article_exactly_once(
    server: Server, site: RunningSite, tmp_path: Path
) -> None:
    # Mid-batch: the process stage has claimed a batch (its transaction is open, holding the
    # pages' row locks) and is extracting it.
    claimed = (
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'"
        " AND query LIKE '%FOR UPDATE SKIP LOCKED%' AND pid <> pg_backend_pid()"
    )
    err, _ = interrupted_then_rerun(
        server, site, tmp_path, "restart_process", lambda dsn: (scalar(dsn, claimed) or 0) > 0
    )
    assert err.strip().splitlines()[-1].startswith(
        "newsdesk run: error: lost the database connection: "
    ), err

"""Killed mid-run, rerun, and every article is there exactly once: the crawl and the process stage
SIGKILLed at a moment with work committed and work pending, concurrent runs of the same source,
and a database that is not there at all. Real processes, real HTTP, real Postgres.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from crawlers import queue_dirs
from pipeline.demo_site import DemoSite, RunningSite, serve_demo_site
from tests.repo import REPO_ROOT
from tests.test_crawl import PUBLISHERS, listed, write_sources

DEADLINE = 60  # seconds any one child process may take


@pytest.fixture(scope="module")
def site() -> Iterator[RunningSite]:
    with serve_demo_site(DemoSite(seed=11, n_articles=300)) as running:
        yield running


def expected_pages(site: RunningSite) -> set[str]:
    every = set().union(
        *(listed(site, n, "feed", "sitemap", "news_sitemap", "listing") for n in PUBLISHERS)
    )
    return every - {site.special_urls()["not_found"]}


def crawl_args(sources: Path, run_key: str) -> list[str]:
    return [sys.executable, "-m", "crawlers", *(f"--source={n}" for n in PUBLISHERS),
            "--sources", str(sources), "--no-delay", "--run-key", run_key]  # fmt: skip


# Slow enough to be killed with pages stored and pages to go: one request at a time, 10 ms
# apart, rows written every 10 pages.
SLOW = ["-s", "DOWNLOAD_DELAY=0.01", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "NEWSDESK_BATCH_SIZE=10",
        "-s", "NEWSDESK_BATCH_SECONDS=0.2"]  # fmt: skip


def count(db_url: str, query: str) -> int:
    with psycopg.connect(db_url) as conn:
        return conn.execute(query).fetchone()[0]


def kill_when(proc: subprocess.Popen, ready: callable, timeout: float = DEADLINE) -> None:
    """SIGKILL `proc` as soon as `ready()` is true (fails if it ends first)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"finished before it could be killed: {err[-2000:]}")
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            return
        time.sleep(0.02)
    proc.kill()
    pytest.fail("never reached the moment to kill it")


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=REPO_ROOT, capture_output=True, text=True, timeout=DEADLINE, env=os.environ.copy()
    )


def popen(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        args, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def raw_urls(db_url: str) -> list[str]:
    with psycopg.connect(db_url) as conn:
        return [r[0] for r in conn.execute("SELECT url FROM raw_pages")]


@pytest.mark.slow
def test_crawl_killed_mid_run_then_rerun_stores_every_page_exactly_once(
    site: RunningSite, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = write_sources(site, tmp_path / "sources.yaml")
    temp = tmp_path / "temp"  # the crawls' temp directory, where their request queues go
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    expected = expected_pages(site)
    proc = popen([*crawl_args(sources, "2026-03-15"), *SLOW])
    kill_when(proc, lambda: count(db_url, "SELECT count(*) FROM raw_pages") >= 30)
    before = count(db_url, "SELECT count(*) FROM raw_pages")
    assert 30 <= before < len(expected)
    assert count(db_url, "SELECT count(*) FROM crawl_runs WHERE status = 'running'") >= 1
    left_by_kill = list(temp.glob(queue_dirs.PREFIX + "*"))
    assert left_by_kill

    site.clear_requests()
    rerun = run(crawl_args(sources, "2026-03-15"))
    assert rerun.returncode == 0, rerun.stderr
    urls = raw_urls(db_url)
    assert len(urls) == len(set(urls)) and set(urls) == expected
    with psycopg.connect(db_url) as conn:
        runs = conn.execute(
            "SELECT source, status FROM crawl_runs WHERE run_key = '2026-03-15'"
        ).fetchall()
        orphans = conn.execute(
            "SELECT count(*) FROM raw_pages r LEFT JOIN crawl_runs c ON c.id = r.crawl_run_id"
            " WHERE c.id IS NULL"
        ).fetchone()[0]
    # The killed run's rows were reopened and closed by the rerun of the same key: none stuck.
    assert sorted(runs) == [(n, "success") for n in sorted(PUBLISHERS)]
    assert orphans == 0
    # Pages stored before the kill were not fetched again.
    article_gets = {h.path for h in site.requests() if h.status == 200 and h.path.count("/") >= 5}
    assert len(article_gets) <= len(expected) - before + 5
    # The rerun swept the killed crawl's request queues and removed its own.
    assert list(temp.iterdir()) == []


def test_queue_dir_sweep_removes_only_those_whose_crawl_has_ended(tmp_path: Path) -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    dead = tmp_path / f"{queue_dirs.PREFIX}a-1"
    live = tmp_path / f"{queue_dirs.PREFIX}a-2"
    unclaimed = tmp_path / f"{queue_dirs.PREFIX}a-3"  # being created, or from an older version
    other = tmp_path / "someone-else"
    for path, owner in ((dead, ended.stdout), (live, str(os.getpid())), (unclaimed, None),
                        (other, ended.stdout)):  # fmt: skip
        (path / "requests.queue").mkdir(parents=True)
        if owner is not None:
            (path / queue_dirs.OWNER_FILE).write_text(owner)

    assert queue_dirs.sweep_stale(tmp_path) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [live.name, unclaimed.name, other.name]
    )


@pytest.mark.slow
def test_two_concurrent_crawls_of_the_same_sources_store_each_page_once(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    sources = write_sources(site, tmp_path / "sources.yaml")
    procs = [popen(crawl_args(sources, f"concurrent-{n}")) for n in (1, 2)]
    results = [p.communicate(timeout=DEADLINE) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert all(json.loads(line)["status"] == "success" for line in out.splitlines())
    urls = raw_urls(db_url)
    assert len(urls) == len(set(urls)) and set(urls) == expected_pages(site)


@pytest.mark.slow
def test_two_concurrent_runs_of_the_same_sources_store_each_article_once(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    """Two whole `newsdesk run`s (crawl and process stage) of the same sources at once."""
    sources = write_sources(site, tmp_path / "sources.yaml")
    run = [sys.executable, "-m", "pipeline.cli", "run", "--sources", str(sources), "--no-delay",
           "--workers", "1", "--run-key"]  # fmt: skip
    procs = [popen([*run, f"both-{n}"]) for n in (1, 2)]
    for proc in procs:
        _, err = proc.communicate(timeout=DEADLINE * 3)
        assert proc.returncode == 0, err
    urls = raw_urls(db_url)
    assert len(urls) == len(set(urls)) and set(urls) == expected_pages(site)
    assert count(db_url, "SELECT count(*) FROM raw_pages WHERE processed_at IS NULL") == 0
    # The processors split the pages between them (SKIP LOCKED): each page extracted once, so
    # the articles are the site's, once each, and no page's article was counted twice.
    with psycopg.connect(db_url) as conn:
        articles = [u for (u,) in conn.execute("SELECT url FROM articles")]
        new = conn.execute("SELECT sum(articles_new) FROM crawl_runs").fetchone()[0]
    assert len(articles) == len(set(articles)) == new
    assert set(articles) == {t.url for t in site.truth()}


def _clone(pg_server_url: str, db_url: str) -> tuple[str, str]:
    name = f"newsdesk_clone_{uuid.uuid4().hex[:12]}"
    source = psycopg.conninfo.conninfo_to_dict(db_url)["dbname"]
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(source)
            )
        )
    return name, make_conninfo(pg_server_url, dbname=name)


def processes_with(text: str) -> list[int]:
    """Other processes whose environment holds `text` (Linux /proc: children that outlived a
    killed parent have no other tie to it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with suppress(OSError):
                if text.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
    return found


def _articles(db_url: str) -> list[tuple[str, str]]:
    with psycopg.connect(db_url) as conn:
        return sorted(conn.execute("SELECT canonical_url, content_hash FROM articles").fetchall())


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])  # in-process; a pool with batches in flight
def test_process_killed_mid_batch_then_rerun_stores_every_article_exactly_once(
    site: RunningSite, db_url: str, pg_server_url: str, tmp_path: Path, workers: str
) -> None:
    sources = write_sources(site, tmp_path / "sources.yaml")
    assert run(crawl_args(sources, "process-kill")).returncode == 0
    total = count(db_url, "SELECT count(*) FROM raw_pages")
    assert total > 200  # more than one batch of 200
    clone, clone_url = _clone(pg_server_url, db_url)
    try:
        process = [sys.executable, "-m", "pipeline.cli", "process", "--sources", str(sources),
                   "--workers", workers]  # fmt: skip
        env = os.environ | {"NEWSDESK_DATABASE_URL": clone_url}
        clean = subprocess.run([*process[:-1], "2"], cwd=REPO_ROOT, capture_output=True, text=True,
                               timeout=DEADLINE * 2, env=env)  # fmt: skip
        assert clean.returncode == 0, clean.stderr
        proc = popen(process)
        pending = "SELECT count(*) FROM raw_pages WHERE processed_at IS NULL"
        kill_when(proc, lambda: count(db_url, pending) <= total - 200, timeout=DEADLINE * 2)
        assert 0 < count(db_url, pending) < total  # killed between batches' commits
        # Its worker pool (and forkserver) end with it instead of waiting for work forever.
        end = time.monotonic() + 15
        while processes_with(db_url) and time.monotonic() < end:
            time.sleep(0.2)
        assert processes_with(db_url) == []
        rerun = run(process)
        assert rerun.returncode == 0, rerun.stderr
        assert count(db_url, pending) == 0
        # Locks held by the killed process died with its connection.
        assert count(db_url, "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a"
                     " ON a.pid = l.pid WHERE a.datname = current_database()"
                     " AND a.pid <> pg_backend_pid()") == 0  # fmt: skip
        clean_articles = _articles(clone_url)
        assert clean_articles and _articles(db_url) == clean_articles
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(clone))
            )


@pytest.mark.parametrize(
    "command", [["-m", "crawlers", "--source=dailyplanet"], ["-m", "pipeline.cli", "process"]]
)
def test_database_unreachable_at_start_is_one_line_without_the_password(
    command: list[str], tmp_path: Path
) -> None:
    env = os.environ | {
        "NEWSDESK_DATABASE_URL": "postgresql://newsdesk:s3cr3t-pw@127.0.0.1:1/newsdesk"
        "?connect_timeout=3"
    }
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n- name: dailyplanet\n  homepage: http://127.0.0.1:9/\n"
        "  feeds: [http://127.0.0.1:9/feed/]\n  allow_private_addresses: true\n"
    )
    result = subprocess.run(
        [sys.executable, *command, "--sources", str(sources)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, env=env,
    )  # fmt: skip
    assert result.returncode != 0
    assert "s3cr3t-pw" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr

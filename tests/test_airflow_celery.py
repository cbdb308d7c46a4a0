"""The CeleryExecutor for real: a Redis broker, Airflow on the test PostgreSQL, two Celery workers.

One stack for the module (scheduler, DAG processor, API server from `pipeline.airflow.local`,
workers from `pipeline.airflow.celery_workers`): both listen to the default queue, `worker-a`
also to `us` and `worker-b` also to `eu`, one task at a time each. The first test runs news_daily
over the demo site's three sources (one on `us`, one on `eu`, one on the default queue): the
queues put crawls on both workers by routing, not by chance (left to Celery, one worker once took
all three crawls, one after the other); the second SIGKILLs the worker running
a slow crawl, with every process under it, and sees the crawl retried on the other worker. Task
instances are read from the metadata database (`hostname` is each worker's own name, through
`[core] hostname_callable`), articles from the news database.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable

import psycopg
import pytest
import yaml
from psycopg.conninfo import make_conninfo

from pipeline.demo_site import DemoSite, serve_demo_site
from tests.airflow_support import fast_sources, free_port, redis_server, wait_for


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


pytestmark = [
    pytest.mark.slow,
    # Asked of the installed distributions: finding a submodule of `airflow` would import
    # Airflow at collection, configured for whatever AIRFLOW_HOME the environment has, before
    # the DAG tests' own fixture can configure it.
    pytest.mark.skipif(
        not _installed("apache-airflow-providers-celery"),
        reason="the Celery provider is part of the `airflow` extra",
    ),
]

RUN_TIMEOUT = 300  # seconds for a triggered run to finish
EU_SOURCE = "lecourrier"  # the demo source given `queue: eu`
US_SOURCE = "dailyplanet"  # the demo source given `queue: us`
SLOW_SOURCE = "slowwire"  # a second demo site's publisher, crawled at a polite pace
SLOW_PUBLISHER = "lecourrier"
HEARTBEAT_TIMEOUT = 20  # seconds without a heartbeat before a running task is failed (300)


def _path(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _on_article_pages(paths: Counter[str], truth: set[str]) -> Counter[str]:
    """The counts of `paths` that are `truth`'s article pages."""
    articles = {_path(url) for url in truth}
    return Counter({path: n for path, n in paths.items() if path in articles})


def _served(hits, truth: set[str]) -> Counter[str]:
    """How often each of `truth`'s article pages was served (200 to a GET), by its path."""
    return _on_article_pages(
        Counter(h.path for h in hits if h.method == "GET" and h.status == 200), truth)


class CeleryStack:
    """The running stack and what the tests read from it."""

    def __init__(self, local, stack, env, metadata_dsn, news_dsn, sites):
        self.local, self.stack, self.env = local, stack, env
        self.metadata_dsn, self.news_dsn, self.sites = metadata_dsn, news_dsn, sites
        self.expected_alive = set(stack.processes)  # a killed worker is taken out

    def wait(self, what: str, check: Callable, timeout: float, interval: float = 2.0):
        return wait_for(what, check, timeout, self.stack, interval, self.expected_alive)

    def trigger(self, run_id: str, day: str, conf: dict) -> None:
        triggered = self.local.cli(
            "dags", "trigger", "news_daily", "--logical-date", f"{day}T00:00:00+00:00",
            "--run-id", run_id, "--conf", json.dumps(conf), env=self.env,
        )
        assert triggered.returncode == 0, triggered.stderr[-2000:]

    def metadata(self, query: str, *params) -> list[tuple]:
        with psycopg.connect(self.metadata_dsn) as conn:
            return conn.execute(query, params).fetchall()

    def run_state(self, run_id: str) -> str | None:
        rows = self.metadata("SELECT state FROM dag_run WHERE run_id = %s", run_id)
        return rows[0][0] if rows else None

    def wait_for_run(self, run_id: str) -> str:
        state = self.wait(f"run {run_id} to finish",
                          lambda: self.run_state(run_id) in ("success", "failed"), RUN_TIMEOUT, 3)
        assert state
        return self.run_state(run_id)

    def crawl_attempts(self, run_id: str) -> list[tuple[str, str, int, str, str]]:
        """(task id, source, try number, state, hostname) of every crawl attempt of the run,
        earlier tries (kept in task_instance_history) included."""
        query = """
            SELECT task_id, rendered_map_index, try_number, state, hostname FROM {table}
            WHERE run_id = %s AND task_id LIKE 'crawl%%' ORDER BY 1, 2, 3"""
        return [row for table in ("task_instance", "task_instance_history")
                for row in self.metadata(query.format(table=table), run_id)]  # fmt: skip

    def pages(self, source: str) -> int:
        with psycopg.connect(self.news_dsn) as conn:
            return conn.execute("SELECT count(*) FROM raw_pages WHERE source = %s",
                                [source]).fetchone()[0]

    def stored_pages(self, source: str) -> dict[str, str]:
        """The source's pages stored with a 200: URL key -> the URL it was served at (after
        redirects)."""
        with psycopg.connect(self.news_dsn) as conn:
            return dict(conn.execute(
                "SELECT url, final_url FROM raw_pages WHERE source = %s AND status = 200",
                [source]).fetchall())

    def articles(self, source: str) -> list[str]:
        with psycopg.connect(self.news_dsn) as conn:
            return [u for (u,) in conn.execute("SELECT url FROM articles WHERE source = %s",
                                               [source])]


@pytest.fixture(scope="module")
def celery(module_db, pg_server_url, tmp_path_factory):
    from pipeline.airflow import celery_workers, local

    tmp = tmp_path_factory.mktemp("celery")
    database = f"airflow_celery_{tmp.name[-8:]}".replace("-", "_").lower()
    metadata = local.metadata_url(pg_server_url, database=database)
    port = free_port()
    with (serve_demo_site(DemoSite(seed=5, n_articles=60)) as fast_site,
          serve_demo_site(DemoSite(seed=9, n_articles=90)) as slow_site,
          redis_server(tmp / "redis", free_port()) as broker):
        document = yaml.safe_load(fast_sources(fast_site.sources_yaml()))
        for name, queue in ((EU_SOURCE, "eu"), (US_SOURCE, "us")):
            next(s for s in document["sources"] if s["name"] == name)["queue"] = queue
        slow = next(s for s in yaml.safe_load(slow_site.sources_yaml())["sources"]
                    if s["name"] == SLOW_PUBLISHER)  # fmt: skip
        # One page a second, so that the worker can be killed while the crawl is under way.
        document["sources"].append({**slow, "name": SLOW_SOURCE,
                                    "politeness": {"delay": 1.0, "concurrency": 1}})
        sources = tmp / "sources.yaml"
        sources.write_text(yaml.safe_dump(document, sort_keys=False))
        newsdesk_home = tmp / "newsdesk-home"  # AIRFLOW_HOME is its airflow/, as for the CLI
        env = local.stack_env(
            newsdesk_home / "airflow", metadata=metadata, news_dsn=module_db, port=port,
            sources=sources,
            extra={
                **celery_workers.celery_env(broker),
                "NEWSDESK_HOME": str(newsdesk_home),
                "NEWSDESK_SCHEDULE": "0 0 1 1 *",  # only the triggered runs
                "NEWSDESK_RETRY_DELAY": "2",
                "NEWSDESK_CRAWL_RETRIES": "2",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            },
        )
        local.prepare(env, crawl_slots=4)
        logs = tmp / "logs"
        stack = local.start(env, logs, ("scheduler", "dag-processor", "api-server"))
        try:
            celery_workers.start_worker(stack, env, logs, "worker-a", ["default", "us"])
            # The other as an operator starts one: `newsdesk airflow worker`.
            with (logs / "newsdesk-worker-b.log").open("ab") as log:
                stack.processes["celery-worker-b"] = subprocess.Popen(
                    # The broker is the exported AIRFLOW__CELERY__BROKER_URL (in `env`).
                    [sys.executable, "-m", "pipeline.cli", "airflow", "worker",
                     "--api-server", f"http://127.0.0.1:{port}", "--queues", "default,eu",
                     "--concurrency", "1", "--name", "worker-b", "--log-port", str(free_port()),
                     "--sources", str(sources)],
                    env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            stack.logs["newsdesk-worker-b"] = logs / "newsdesk-worker-b.log"
            stack.logs["celery-worker-b"] = (newsdesk_home / "airflow" / "logs" / "components"
                                             / "celery-worker-b.log")
            running = CeleryStack(local, stack, env, make_conninfo(pg_server_url, dbname=database),
                                  module_db, {"fast": fast_site, "slow": slow_site})
            local.wait_for_api(port, timeout=120, stack=stack)

            def parsed():
                return running.metadata(
                    "SELECT 1 FROM dag WHERE dag_id = 'news_daily' AND NOT is_stale")

            running.wait("the DAG processor to parse news_daily", parsed, 120)
            unpaused = local.cli("dags", "unpause", "news_daily", env=env)
            assert unpaused.returncode == 0, unpaused.stderr[-2000:]
            yield running
        finally:
            stack.stop()
        assert not any(stack.alive().values())


@pytest.mark.timeout(600)
def test_crawl_tasks_spread_over_both_workers_and_eu_stays_on_its_worker(celery):
    fast = celery.sites["fast"]
    names = sorted(p.name for p in fast.publishers)
    celery.trigger("celery_run", "2026-03-15", {"sources": names})
    assert celery.wait_for_run("celery_run") == "success", celery.stack.tail(80)

    attempts = celery.crawl_attempts("celery_run")
    ran_on = {source: host for _, source, _, _, host in attempts}
    assert sorted(ran_on) == names, attempts
    assert set(ran_on.values()) == {"worker-a", "worker-b"}, attempts
    for source, queue, worker in ((EU_SOURCE, "eu", "worker-b"), (US_SOURCE, "us", "worker-a")):
        assert {host for _, name, _, _, host in attempts if name == source} == {worker}
        assert {task for task, name, *_ in attempts if name == source} == {f"crawl_{queue}"}
    # Every task of the run reported a worker's own name, none the machine's.
    hosts = celery.metadata("SELECT DISTINCT hostname FROM task_instance WHERE run_id = %s",
                            "celery_run")
    assert {h for (h,) in hosts} == {"worker-a", "worker-b"}

    for name in names:
        truth = {t.url for t in fast.truth() if t.publisher == name}
        assert set(celery.articles(name)) == truth, name
        # Crawled once, by one worker: each article page served as often as a stored page was
        # fetched from it (twice when an alias redirects to it), no more.
        stored = Counter(_path(final) for final in celery.stored_pages(name).values())
        assert _served(fast.requests(name), truth) == _on_article_pages(stored, truth), name


@pytest.mark.timeout(600)
def test_worker_killed_mid_crawl_the_crawl_is_retried_on_the_other_worker(celery):
    import psutil

    celery.trigger("celery_kill", "2026-03-16", {"sources": [SLOW_SOURCE]})

    def crawling():
        # The run's one crawl (its map index is named after the source only once it ends).
        running = [(host, try_number) for _, _, try_number, state, host
                   in celery.crawl_attempts("celery_kill") if state == "running" and host]
        return running[0] if running and celery.pages(SLOW_SOURCE) >= 3 else None

    host, first_try = celery.wait("the slow crawl to store its first pages", crawling, 180, 1)
    survivor = {"worker-a", "worker-b"} - {host}
    victim = celery.stack.processes[f"celery-{host}"]
    # The worker and everything under it: the task's supervisor puts the task in a process
    # group of its own, and the crawl is the task's subprocess.
    worker = psutil.Process(victim.pid)
    tree = [worker, *worker.children(recursive=True)]
    assert len(tree) >= 4, tree  # worker, its pool process, the task, the crawl
    for process in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(signal.SIGKILL)
    victim.wait(10)
    celery.expected_alive.discard(f"celery-{host}")
    _, alive = psutil.wait_procs(tree, timeout=15)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], alive
    killed_at = time.monotonic()  # the site's access log is timed on this process's clock
    stored_at_kill = celery.stored_pages(SLOW_SOURCE)

    assert celery.wait_for_run("celery_kill") == "success", celery.stack.tail(80)
    attempts = [a for a in celery.crawl_attempts("celery_kill") if a[1] == SLOW_SOURCE]
    final = max(attempts, key=lambda a: a[2])
    assert final[2] > first_try and final[3] == "success" and final[4] in survivor, attempts

    slow = celery.sites["slow"]
    truth = {t.url for t in slow.truth() if t.publisher == SLOW_PUBLISHER}
    # Nothing lost: the retry fetched what the killed crawl had not.
    assert truth - set(stored_at_kill)
    assert set(celery.articles(SLOW_SOURCE)) == truth
    # Nothing twice: after the kill, the site served exactly the pages stored after it (one
    # fetched but not yet stored when the crawl was killed is fetched again, as it must be),
    # none the killed crawl had stored.
    stored_since = Counter(_path(final) for url, final in celery.stored_pages(SLOW_SOURCE).items()
                           if url not in stored_at_kill)  # fmt: skip
    served_since = _served([h for h in slow.requests(SLOW_PUBLISHER) if h.at > killed_at], truth)
    assert served_since and served_since == _on_article_pages(stored_since, truth)

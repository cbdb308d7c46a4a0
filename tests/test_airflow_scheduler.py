"""The real thing: scheduler, DAG processor and API server as processes, the LocalExecutor.

A news_daily run is unpaused with the very command `newsdesk airflow` prints (plain `airflow`
with only AIRFLOW_HOME set), triggered through the `airflow` CLI, waited for through
`airflow dags list-runs`, and its articles are checked in Postgres, and the task logs the workers
wrote are checked for the news database's password. The Airflow metadata lives in
a database of its own on the test PostgreSQL server. Every component runs in its own process
group and is killed at the end, pass or fail; the whole test is bounded by timeouts.
`newsdesk airflow` itself is stopped with SIGTERM, and must leave no process behind.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from pipeline.demo_site import DemoSite, serve_demo_site
from tests.airflow_support import fast_sources, free_port, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("airflow") is None,
        reason="Airflow is the `airflow` extra (part of `dev`)",
    ),
]

RUN_TIMEOUT = 240  # seconds for the triggered run to finish once the DAG is parsed
# In the news database's DSN; the test server trusts local connections, so it is accepted.
PASSWORD = "sch3duler-s3cret"




@pytest.mark.timeout(480)
def test_scheduler_runs_news_daily_triggered_from_the_cli(db_url, pg_server_url, tmp_path):
    from pipeline.airflow import local

    home = tmp_path / "airflow"
    metadata = local.metadata_url(pg_server_url, database=f"airflow_{tmp_path.name[-12:]}"
                                  .replace("-", "_").lower())
    port = free_port()
    with serve_demo_site(DemoSite(seed=5, n_articles=60)) as site:
        sources = tmp_path / "sources.yaml"
        sources.write_text(fast_sources(site.sources_yaml()))
        env = local.stack_env(
            home, metadata=metadata, news_dsn=make_conninfo(db_url, password=PASSWORD),
            port=port, sources=sources,
            extra={
                # No scheduled run of its own during the test: only the triggered one.
                "NEWSDESK_SCHEDULE": "0 0 1 1 *",
                "NEWSDESK_RETRY_DELAY": "2",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            },
        )
        local.prepare(env, crawl_slots=2)
        stack = local.start(env, tmp_path / "logs", ("scheduler", "dag-processor", "api-server"))
        try:
            local.wait_for_api(port, timeout=120, stack=stack)

            def parsed():
                listed = local.cli("dags", "list", "--output", "json", env=env, timeout=60)
                return listed.returncode == 0 and "news_daily" in listed.stdout

            wait_for("the DAG processor to parse news_daily", parsed, 120, stack)
            # The hint `newsdesk airflow` prints works in a shell without the stack's variables:
            # prepare() wrote them into AIRFLOW_HOME/airflow.cfg.
            from pipeline.cli.airflow import unpause_hint

            unpaused = subprocess.run(
                unpause_hint(home), shell=True, capture_output=True, text=True, timeout=180,
                env={"PATH": env["PATH"], "HOME": os.environ.get("HOME", "/root")},
            )
            assert unpaused.returncode == 0, (unpaused.stdout + unpaused.stderr)[-2000:]
            paused = local.cli("dags", "details", "news_daily", "--output", "json", env=env)
            assert '"is_paused": "False"' in paused.stdout, paused.stdout
            triggered = local.cli(
                "dags", "trigger", "news_daily", "--logical-date", "2026-03-15T00:00:00+00:00",
                "--run-id", "cli_test_run", "--conf", json.dumps({"limit": 5}), env=env,
            )
            assert triggered.returncode == 0, triggered.stderr[-2000:]

            def finished():
                runs = local.cli("dags", "list-runs", "news_daily", "--output", "json",
                                 env=env, timeout=60)
                if runs.returncode != 0:
                    return None
                lines = [ln for ln in runs.stdout.splitlines() if ln.startswith(("[{", "[]"))]
                rows = json.loads(lines[-1]) if lines else []
                run = next((r for r in rows if r["run_id"] == "cli_test_run"), None)
                return run if run and run["state"] in ("success", "failed") else None

            run = wait_for("the triggered run to finish", finished, RUN_TIMEOUT, stack, 3)
            assert run["state"] == "success", stack.tail(80)
        finally:
            stack.stop()
        assert not any(stack.alive().values())

    with psycopg.connect(db_url) as conn:
        per_source = dict(conn.execute(
            "SELECT source, count(*) FROM articles GROUP BY source"
        ).fetchall())
        runs = conn.execute(
            "SELECT source, run_key, status FROM crawl_runs ORDER BY source"
        ).fetchall()
    names = sorted(p.name for p in site.publishers)
    # The run's `limit` param reached the crawl: at most 5 pages (not every page is an article).
    assert sorted(per_source) == names and all(1 <= n <= 5 for n in per_source.values())
    assert runs == [(name, "2026-03-15", "success") for name in names]

    # Every task wrote its log under AIRFLOW_HOME/logs; no log (the components' own included)
    # holds the password.
    task_logs = {part for p in (home / "logs").rglob("attempt=*.log") for part in p.parts
                 if part.startswith("task_id=")}  # fmt: skip
    assert {"task_id=crawl", "task_id=process", "task_id=summary"} <= task_logs, task_logs
    for path in [*home.rglob("*.log"), *(tmp_path / "logs").rglob("*")]:
        if path.is_file():
            assert PASSWORD not in path.read_bytes().decode("latin-1"), path


@pytest.mark.timeout(420)
def test_sigterm_stops_newsdesk_airflow_and_every_process_it_started(db_url, tmp_path):
    from importlib import resources

    import psutil

    env = {
        **os.environ, "NEWSDESK_DATABASE_URL": db_url, "NEWSDESK_HOME": str(tmp_path),
        # Free log-server ports: another Airflow on this machine may hold the defaults.
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
    }
    sources = resources.files("pipeline.sources") / "sources.yaml"  # read by no run here
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "airflow", "--sources", str(sources),
         "--port", str(free_port())],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines = []
    try:
        deadline = time.monotonic() + 300
        for line in process.stdout:  # until the stack is up, or the command ends
            lines.append(line)
            if "Ctrl-C" in line or time.monotonic() > deadline:
                break
        assert "Ctrl-C" in lines[-1], "".join(lines)[-3000:]
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) >= 4, children  # the four components, at least
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 130, "".join(lines)
        _, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, [(p.pid, p.cmdline()) for p in alive]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

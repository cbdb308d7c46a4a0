"""The Airflow DAGs on real Airflow 3: parsing, shape, and whole runs with `dag.test()`.

Each run crawls the demo site (served on 127.0.0.1) into a fresh real Postgres; crawls run as
subprocesses, as in production. Airflow's own metadata lives in SQLite in a temporary
AIRFLOW_HOME, migrated once for the module.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import psutil
import psycopg
import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict

from pipeline.demo_site import DemoSite, serve_demo_site
from tests.airflow_support import (
    airflow_cli,
    airflow_env,
    broken_source,
    failing_site,
    fast_sources,
)

# Not `pytest.importorskip`: importing airflow reads its configuration, which the `airflow`
# fixture must set first.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("airflow") is None,
        reason="Airflow is the `airflow` extra (part of `dev`)",
    ),
]

DAY = datetime(2026, 3, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    """Airflow configured for this module (env set before the first `import airflow`)."""
    home = tmp_path_factory.mktemp("airflow-home")
    env = airflow_env(home)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        migrated = airflow_cli("db", "migrate", env=env)
        assert migrated.returncode == 0, migrated.stderr[-2000:]
        from airflow.dag_processing.dagbag import DagBag

        yield DagBag(dag_folder=env["AIRFLOW__CORE__DAGS_FOLDER"])


@pytest.fixture(scope="module")
def demo_site():
    with serve_demo_site(DemoSite(seed=11, n_articles=60)) as running:
        yield running


@pytest.fixture
def sources_file(demo_site, tmp_path, monkeypatch):
    """The demo site's sources, also the file the DAG is parsed with (its `sources` names)."""
    path = tmp_path / "sources.yaml"
    path.write_text(fast_sources(demo_site.sources_yaml()))
    monkeypatch.setenv("NEWSDESK_SOURCES", str(path))
    return path


def expected_urls(demo_site) -> set[str]:
    return {t.url if t.copy_of else t.canonical_url for t in demo_site.truth()}


def parse(bag, dag_id: str = "news_daily"):
    """The DAG freshly parsed, as the DAG processor would with today's NEWSDESK_SOURCES."""
    from airflow.dag_processing.dagbag import DagBag

    fresh = DagBag(dag_folder=bag.dag_folder)
    assert fresh.import_errors == {}
    return fresh.dags[dag_id]


def run_dag(bag, dag_id: str, day: datetime, **conf):
    """One whole DAG run in this process, on a freshly parsed DAG (as a worker would have:
    in-process task runs share their operator objects, and a run's params stick to them)."""
    return parse(bag, dag_id).test(logical_date=day, run_conf=conf)


def states(dag_run) -> dict[tuple[str, int], str]:
    return {(ti.task_id, ti.map_index): ti.state for ti in dag_run.get_task_instances()}


# --- parsing and shape -----------------------------------------------------------------------


def test_dags_import_without_errors(airflow):
    assert airflow.import_errors == {}
    assert {"news_daily", "news_maintenance"} <= set(airflow.dag_ids)


def test_news_daily_shape(airflow):
    from airflow.sdk import CronDataIntervalTimetable, TriggerRule

    dag = airflow.dags["news_daily"]
    assert set(dag.task_ids) == {
        "sync_sources", "batches", "crawl", "process", "dedupe", "summary",
    }
    tasks = dag.task_dict
    assert tasks["sync_sources"].downstream_task_ids == {"batches", "process", "summary"}
    assert tasks["batches"].downstream_task_ids == {"crawl"}
    assert tasks["crawl"].downstream_task_ids == {"process"}
    assert tasks["process"].downstream_task_ids == {"dedupe", "summary"}
    assert tasks["dedupe"].downstream_task_ids == {"summary"}
    assert tasks["summary"].upstream_task_ids == {"sync_sources", "process", "dedupe"}

    crawl = tasks["crawl"]
    assert crawl.is_mapped
    assert crawl.partial_kwargs["pool"] == "newsdesk_crawl"
    assert crawl.partial_kwargs["queue"] == "default"
    assert crawl.partial_kwargs["retry_exponential_backoff"]
    assert crawl.partial_kwargs["execution_timeout"] == timedelta(minutes=60)
    assert crawl.partial_kwargs["retries"] == 1  # NEWSDESK_CRAWL_RETRIES in this test's env
    assert crawl.partial_kwargs["map_index_template"] == "{{ source_name }}"
    for name in ("process", "dedupe", "summary"):
        assert tasks[name].trigger_rule == TriggerRule.ALL_DONE
    assert [a.name for a in tasks["summary"].outlets] == ["newsdesk_articles"]
    assert dag.default_args["retries"] == 1 and dag.default_args["execution_timeout"]
    assert not dag.catchup and dag.max_active_runs == 1

    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.expression == "0 0 * * *"
    assert dag.on_failure_callback is not None

    assert set(dag.params) == {"sources", "limit", "dry_run", "sources_file"}
    assert dag.params["sources"] == [] and dag.params["limit"] is None
    assert dag.params["dry_run"] is False


def test_news_daily_params_are_validated(airflow, sources_file):
    from airflow.sdk.exceptions import ParamValidationError

    params = parse(airflow).params
    good = {"sources": ["metroherald"], "limit": 5, "dry_run": True, "sources_file": "/x.yaml"}
    for key, value in good.items():
        assert params.get_param(key).resolve(value) == value
    for key, value in [("limit", 0), ("limit", "ten"), ("sources", ["Not A Name"]),
                       ("sources", ["nosuchsource"]), ("sources", "metroherald"),
                       ("dry_run", "yes"), ("sources_file", "")]:
        with pytest.raises(ParamValidationError):
            params.get_param(key).resolve(value)


def test_queues_give_one_crawl_task_each_fixed_when_the_dag_is_parsed(
    airflow, db_url, demo_site, tmp_path, monkeypatch
):
    document = yaml.safe_load(fast_sources(demo_site.sources_yaml()))
    document["sources"][0]["queue"] = "eu"
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(document))
    monkeypatch.setenv("NEWSDESK_SOURCES", str(path))
    dag = parse(airflow)
    tasks = dag.task_dict
    assert {"crawl", "crawl_eu", "batches", "batches_eu"} <= set(tasks)
    assert tasks["crawl_eu"].partial_kwargs["queue"] == "eu"
    assert tasks["crawl"].partial_kwargs["queue"] == "default"
    assert tasks["process"].upstream_task_ids == {"sync_sources", "crawl", "crawl_eu"}

    run = dag.test(logical_date=DAY, run_conf={"limit": 2})
    assert run.state == "success", states(run)
    ran = {(ti.task_id, ti.rendered_map_index) for ti in run.get_task_instances()
           if ti.task_id.startswith("crawl")}  # fmt: skip
    eu, *others = [p.name for p in demo_site.publishers]
    assert ran == {("crawl_eu", eu), *(("crawl", name) for name in others)}


def test_a_broken_sources_file_still_parses_and_fails_the_sync_once(
    airflow, db_url, tmp_path, monkeypatch, capfd
):
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - name: ex\n    homepage: [unclosed\n")
    monkeypatch.setenv("NEWSDESK_SOURCES", str(path))
    dag = parse(airflow)
    assert [t for t in dag.task_ids if t.startswith("crawl")] == ["crawl"]
    run = dag.test(logical_date=DAY)
    assert run.state == "failed"
    sync = next(ti for ti in run.get_task_instances() if ti.task_id == "sync_sources")
    assert sync.state == "failed" and sync.try_number == 1  # a config error is not retried
    assert "not valid YAML" in "".join(capfd.readouterr())


# --- whole runs ------------------------------------------------------------------------------


def test_run_stores_articles_and_the_same_day_again_adds_nothing(
    airflow, db_url, demo_site, sources_file
):
    first = run_dag(airflow, "news_daily", DAY, sources_file=str(sources_file))
    assert first.state == "success", states(first)
    publishers = {p.name for p in demo_site.publishers}
    crawl_tis = [ti for ti in first.get_task_instances() if ti.task_id == "crawl"]
    assert len(crawl_tis) == len(publishers)
    assert {ti.rendered_map_index for ti in crawl_tis} == publishers  # one task per source

    with psycopg.connect(db_url) as conn:
        urls = {u for (u,) in conn.execute("SELECT canonical_url FROM articles")}
        runs = conn.execute(
            "SELECT source, run_key, status, pages_fetched, articles_new FROM crawl_runs"
        ).fetchall()
    assert urls == expected_urls(demo_site)
    assert {(s, k, st) for s, k, st, _, _ in runs} == {
        (p, "2026-03-15", "success") for p in publishers
    }
    assert all(fetched > 0 and new > 0 for *_, fetched, new in runs)
    report = Path(os.environ["NEWSDESK_HOME"]) / "reports" / "newsdesk-report-2026-03-15.html"
    assert all(name in report.read_text() for name in publishers)  # the summary wrote it

    again = run_dag(airflow, "news_daily", DAY, sources_file=str(sources_file))
    assert again.state == "success", states(again)
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == len(urls)
        rows = conn.execute(
            "SELECT count(*), sum(pages_fetched), sum(articles_new) FROM crawl_runs"
        ).fetchone()
    assert rows == (len(publishers), 0, 0)


def test_a_cleared_run_crawls_again(airflow, db_url, demo_site, sources_file):
    """Clearing raises try_number as a retry does; the cleared crawls must still crawl (only a
    retry leaves out the sources that already succeeded under the run key)."""
    from airflow.models.taskinstance import clear_task_instances
    from airflow.sdk.definitions.dag import _run_task
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState, TaskInstanceState

    dag = parse(airflow)
    run = dag.test(logical_date=DAY, run_conf={"sources_file": str(sources_file)})
    assert run.state == "success", states(run)
    with psycopg.connect(db_url) as conn:
        before = dict(conn.execute("SELECT source, finished_at FROM crawl_runs").fetchall())
    with create_session() as session:  # Airflow's own clear, as the UI's "Clear" does
        crawls = [t for t in run.get_task_instances(session=session) if t.task_id == "crawl"]
        clear_task_instances(crawls, session, dag_run_state=DagRunState.RUNNING)
        session.commit()
        for ti in crawls:  # what the scheduler does when it schedules a cleared task
            ti.try_number += 1
            ti.state = TaskInstanceState.SCHEDULED
        session.commit()
        for ti in crawls:
            _run_task(ti=ti, task=dag.task_dict["crawl"])
        assert {(t.state, t.try_number) for t in crawls} == {("success", 2)}
    with psycopg.connect(db_url) as conn:
        after = dict(conn.execute("SELECT source, finished_at FROM crawl_runs").fetchall())
    assert before.keys() == after.keys() == {p.name for p in demo_site.publishers}
    assert all(after[name] > before[name] for name in before), (before, after)


def test_a_failing_source_fails_alone_and_the_summary_names_it(
    airflow, db_url, demo_site, tmp_path, capfd, caplog, monkeypatch
):
    with failing_site() as base:
        path = tmp_path / "sources.yaml"
        path.write_text(fast_sources(demo_site.sources_yaml(), [broken_source(base)]))
        monkeypatch.setenv("NEWSDESK_SOURCES", str(path))
        run = run_dag(airflow, "news_daily", DAY, sources_file=str(path))
    output = capfd.readouterr()
    assert run.state == "failed"
    by_source = {
        ti.rendered_map_index: ti for ti in run.get_task_instances() if ti.task_id == "crawl"
    }
    assert by_source["brokenwire"].state == "failed"
    assert by_source["brokenwire"].try_number == 2  # retried once (NEWSDESK_CRAWL_RETRIES=1)
    assert all(ti.state == "success" for name, ti in by_source.items() if name != "brokenwire")
    task_states = states(run)
    assert task_states[("process", -1)] == task_states[("dedupe", -1)] == "success"
    assert task_states[("summary", -1)] == "failed"

    with psycopg.connect(db_url) as conn:
        stored = {u for (u,) in conn.execute("SELECT canonical_url FROM articles")}
        broken = conn.execute(
            "SELECT status, error FROM crawl_runs WHERE source = 'brokenwire'"
        ).fetchone()
    assert stored == expected_urls(demo_site)
    assert broken[0] == "failed" and broken[1]
    log = output.out + output.err
    assert "run 2026-03-15: 1 of 4 source(s) failed: brokenwire" in log
    alerts = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ALERT")]
    assert any("DAG news_daily run" in a and "failed" in a for a in alerts), alerts


def test_backfill_of_three_days_keeps_one_row_per_source_per_day(
    airflow, db_url, demo_site, sources_file
):
    days = [DAY + timedelta(days=i) for i in range(3)]
    for day in days:
        run = run_dag(airflow, "news_daily", day, sources_file=str(sources_file))
        assert run.state == "success", states(run)
    run = run_dag(airflow, "news_daily", days[1], sources_file=str(sources_file))  # clear + rerun
    assert run.state == "success", states(run)
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT source, run_key, count(*) FROM crawl_runs GROUP BY source, run_key"
        ).fetchall()
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    publishers = {p.name for p in demo_site.publishers}
    assert {(s, k) for s, k, _ in rows} == {
        (p, d.date().isoformat()) for p in publishers for d in days
    }
    assert all(n == 1 for *_, n in rows)
    assert articles == len(expected_urls(demo_site))


def test_params_pick_sources_limit_them_and_the_connection_names_the_database(
    airflow, db_url, demo_site, sources_file, monkeypatch
):
    parts = conninfo_to_dict(db_url)
    monkeypatch.setenv("AIRFLOW_CONN_NEWSDESK_DB", json.dumps({
        "conn_type": "postgres", "host": parts.get("host"), "port": parts.get("port"),
        "login": parts.get("user"), "password": parts.get("password"), "schema": parts["dbname"],
    }))
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:9/nowhere")
    monkeypatch.setenv("NEWSDESK_SOURCES", str(sources_file))  # the fallback sources file
    name = demo_site.publishers[1].name
    run = run_dag(airflow, "news_daily", DAY, sources=[name], limit=4)
    assert run.state == "success", states(run)
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT source, count(*) FROM articles GROUP BY source").fetchall()
        active = conn.execute("SELECT count(*) FROM sources WHERE active").fetchone()[0]
    assert rows == [(name, 4)]
    assert active == len(demo_site.publishers)  # every source synced, one crawled


def test_dry_run_crawls_and_stores_nothing(airflow, db_url, sources_file):
    run = run_dag(airflow, "news_daily", DAY, sources_file=str(sources_file), dry_run=True)
    assert run.state == "success", states(run)
    assert {s for (t, _), s in states(run).items()
            if t not in ("sync_sources", "batches")} == {"skipped"}  # fmt: skip
    with psycopg.connect(db_url) as conn:
        for table in ("sources", "crawl_runs", "raw_pages", "articles"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


def test_an_unknown_source_param_is_refused_when_the_run_is_triggered(
    airflow, db_url, sources_file
):
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError, match="nosuchsource"):
        run_dag(airflow, "news_daily", DAY, sources=["nosuchsource"])
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM sources").fetchone()[0] == 0  # no task ran


def test_a_source_gone_from_the_run_file_fails_the_sync_once_with_the_known_names(
    airflow, db_url, demo_site, sources_file, tmp_path, capfd
):
    """The file changed since the DAG was parsed: the name passed the trigger's check, and the
    sync refuses it without retrying (a retry cannot fix a config error)."""
    gone = demo_site.publishers[0].name
    document = yaml.safe_load(sources_file.read_text())
    document["sources"] = [s for s in document["sources"] if s["name"] != gone]
    smaller = tmp_path / "smaller.yaml"
    smaller.write_text(yaml.safe_dump(document))
    run = run_dag(airflow, "news_daily", DAY, sources_file=str(smaller), sources=[gone])
    assert run.state == "failed", states(run)
    sync = next(ti for ti in run.get_task_instances() if ti.task_id == "sync_sources")
    assert sync.state == "failed" and sync.try_number == 1
    assert f"unknown source '{gone}'" in "".join(capfd.readouterr())


class _Hanging(http.server.BaseHTTPRequestHandler):
    """Answers nothing for a minute: a crawl of it outlives any short execution_timeout."""

    requests: ClassVar[list[str]] = []
    released = threading.Event()

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.released.wait(60)

    def log_message(self, *args) -> None:
        pass


def _crawlers_of(source: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if "crawlers" in cmdline and source in cmdline \
                and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process)
    return found


def test_an_execution_timeout_stops_the_crawl_before_the_retry(
    airflow, db_url, tmp_path, monkeypatch
):
    """A real execution_timeout (12 s) on a crawl of a site that never answers: each attempt's
    crawler process is gone when the attempt ends, so the retry never crawls beside it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hanging)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        path = tmp_path / "sources.yaml"
        path.write_text(yaml.safe_dump({"sources": [
            broken_source(f"http://127.0.0.1:{server.server_address[1]}", name="hangingwire"),
        ]}))  # fmt: skip
        monkeypatch.setenv("NEWSDESK_SOURCES", str(path))
        monkeypatch.setenv("NEWSDESK_CRAWL_TIMEOUT", "0.2")  # minutes: time to start crawling
        run = run_dag(airflow, "news_daily", DAY)
        left = _crawlers_of("hangingwire")
    finally:
        _Hanging.released.set()
        server.shutdown()
        server.server_close()
    assert run.state == "failed"
    crawl = next(ti for ti in run.get_task_instances() if ti.task_id == "crawl")
    assert crawl.state == "failed" and crawl.try_number == 2
    assert _Hanging.requests  # the crawler was fetching when it timed out
    assert left == [], [p.info["cmdline"] for p in left]


def test_airflow_cli_lists_the_dags(airflow):
    result = airflow_cli("dags", "list", "--output", "json",
                         env={"AIRFLOW_HOME": os.environ["AIRFLOW_HOME"]})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "news_daily" in result.stdout


def test_maintenance_runs_on_a_fresh_database(airflow, db_url):
    run = run_dag(airflow, "news_maintenance", DAY, retention_days=30)
    assert run.state == "success", states(run)
    assert states(run) == {
        ("reprocess", -1): "skipped",  # nothing processed by an older extractor
        ("refresh_views", -1): "success",
        ("prune_raw_pages", -1): "success",
        ("analyze", -1): "success",
    }


# --- a DSN's password in the task logs -------------------------------------------------------

PASSWORD = "af-s3cret-pw"


def _connection(dsn: str) -> str:
    """The Airflow connection (AIRFLOW_CONN_ form) for a DSN."""
    parts = conninfo_to_dict(dsn)
    return json.dumps({
        "conn_type": "postgres", "host": parts.get("host"), "port": parts.get("port"),
        "login": parts.get("user"), "password": parts.get("password"), "schema": parts["dbname"],
    })  # fmt: skip


def _everything_written(capfd, caplog, *folders: Path) -> str:
    """What the run printed and logged, and every file it left in `folders` (task logs, the
    metadata database, reports), as one text."""
    out, err = capfd.readouterr()
    records = "\n".join(record.getMessage() for record in caplog.records)
    files = [p for folder in folders for p in folder.rglob("*") if p.is_file()]
    return "\n".join([out, err, records, *(p.read_bytes().decode("latin-1") for p in files)])


@pytest.mark.parametrize(
    ("case", "works"),
    [("connection", True), ("unreachable_connection", False), ("malformed_env_url", False)],
)
def test_a_dsn_password_never_reaches_task_logs(
    airflow, db_url, demo_site, sources_file, monkeypatch, capfd, caplog, case, works
):
    """The password of the news database, from the Airflow connection or NEWSDESK_DATABASE_URL,
    in no task's log, output, exception or stored state, when the database works and when not.
    (The test server trusts local connections, so a password in a working DSN is accepted.)"""
    working = psycopg.conninfo.make_conninfo(db_url, password=PASSWORD)
    monkeypatch.delenv("AIRFLOW_CONN_NEWSDESK_DB", raising=False)
    if case == "connection":
        monkeypatch.setenv("AIRFLOW_CONN_NEWSDESK_DB", _connection(working))
    elif case == "unreachable_connection":
        monkeypatch.setenv("AIRFLOW_CONN_NEWSDESK_DB", _connection(
            f"postgresql://newsdesk:{PASSWORD}@127.0.0.1:1/newsdesk"))  # fmt: skip
    else:  # libpq quotes a URL it cannot parse in its error
        monkeypatch.setenv("NEWSDESK_DATABASE_URL", f"postgresql://newsdesk:{PASSWORD}@[::1/nd")
    caplog.set_level("INFO")
    run = run_dag(airflow, "news_daily", DAY, sources_file=str(sources_file),
                  sources=[demo_site.publishers[0].name], limit=2)  # fmt: skip
    assert run.state == ("success" if works else "failed"), states(run)
    written = _everything_written(
        capfd, caplog, Path(os.environ["AIRFLOW_HOME"]), Path(os.environ["NEWSDESK_HOME"])
    )
    assert ("cannot connect" in written or "is malformed" in written) != works
    assert PASSWORD not in written

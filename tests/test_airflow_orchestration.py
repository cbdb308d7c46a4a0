"""The Airflow task functions (pipeline.airflow) and the alert notifier, without a DAG run."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import logging
import os
import signal
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import yaml

from pipeline.airflow import child_process
from pipeline.airflow.daily import (
    CrawlFailed,
    crawl_sources,
    split_into_batches,
    sync_and_select,
)
from pipeline.airflow.maintenance import prune_raw_pages
from pipeline.airflow.settings import conninfo_from_parts, run_key_for
from pipeline.airflow.summary import RunFailed, run_outcome, summarise_run
from pipeline.sources.config import SourcesError
from tests.airflow_support import broken_source, failing_site
from tests.processes import ends_within

SOURCES = """
sources:
  - name: alpha
    homepage: https://alpha.example/
  - name: beta
    homepage: https://beta.example/
    active: false
"""


def test_conninfo_from_airflow_connection_parts():
    dsn = conninfo_from_parts(host="/tmp/sock", port=5433, login="u", password="p w",
                              schema="news", extra={"sslmode": "require", "bogus": "x"})
    assert psycopg.conninfo.conninfo_to_dict(dsn) == {
        "host": "/tmp/sock", "port": "5433", "user": "u", "password": "p w", "dbname": "news",
        "sslmode": "require",
    }


def test_run_key_is_the_logical_date_or_the_run_after_day():
    assert run_key_for(datetime(2026, 3, 15, tzinfo=UTC), datetime(2026, 4, 1)) == "2026-03-15"
    assert run_key_for(None, datetime(2026, 4, 1, 23, 59, tzinfo=UTC)) == "2026-04-01"


def test_sync_upserts_and_deactivates_sources_gone_from_the_file(db_url, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SOURCES)
    assert sync_and_select(path, database_url=db_url) == {"default": ["alpha"]}
    assert sync_and_select(path, only=["beta"], database_url=db_url) == {"default": ["beta"]}
    path.write_text(SOURCES.split("  - name: beta")[0])
    assert sync_and_select(path, database_url=db_url) == {"default": ["alpha"]}
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT name, active FROM sources ORDER BY name").fetchall()
    assert rows == [("alpha", True), ("beta", False)]


@pytest.mark.slow  # starts the crawler subprocess
def test_the_dag_crawl_does_not_resync_the_other_sources(db_url, tmp_path):
    """The run's sync task syncs every source once; a mapped crawl leaves the others' rows."""
    with failing_site() as base:  # a crawl that fails fast: only what it writes matters here
        path = tmp_path / "s.yaml"
        path.write_text(yaml.safe_dump({"sources": [
            broken_source(base), {"name": "other", "homepage": "https://other.example/"},
        ]}))  # fmt: skip
        assert sync_and_select(path, database_url=db_url) == {"default": ["brokenwire", "other"]}
        with psycopg.connect(db_url) as conn:
            conn.execute("UPDATE sources SET homepage = 'https://moved.example/'"
                         " WHERE name = 'other'")  # fmt: skip
        with pytest.raises(CrawlFailed, match="brokenwire: crawl failed"):
            crawl_sources(["brokenwire"], "2026-03-15", sources_path=path, database_url=db_url)
    with psycopg.connect(db_url) as conn:
        homepage = conn.execute("SELECT homepage FROM sources WHERE name = 'other'").fetchone()
        run = conn.execute("SELECT source, status FROM crawl_runs").fetchall()
    assert homepage == ("https://moved.example/",)  # a full re-sync would restore the file's
    assert run == [("brokenwire", "failed")]


@pytest.mark.slow  # starts the crawler subprocess
def test_a_retried_batch_crawls_only_its_sources_not_yet_crawled(db_url, tmp_path):
    with failing_site() as base:
        path = tmp_path / "s.yaml"
        path.write_text(yaml.safe_dump({"sources": [
            broken_source(base), broken_source(base, name="donewire"),
        ]}))  # fmt: skip
        sync_and_select(path, database_url=db_url)
        with psycopg.connect(db_url) as conn:
            conn.execute("""INSERT INTO crawl_runs (source, run_key, status, finished_at)
                            VALUES ('donewire', '2026-03-15', 'success', now())""")
        with pytest.raises(CrawlFailed) as failed:
            crawl_sources(["brokenwire", "donewire"], "2026-03-15", retry=True,
                          sources_path=path, database_url=db_url)  # fmt: skip
    assert str(failed.value).startswith("brokenwire: crawl failed") and "donewire" not in str(
        failed.value)
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT source, status FROM crawl_runs ORDER BY source").fetchall()
    assert rows == [("brokenwire", "failed"), ("donewire", "success")]


QUEUED = SOURCES + """  - name: gamma
    homepage: https://gamma.example/
    queue: eu
"""


def test_sync_groups_the_sources_by_queue_and_refuses_a_queue_the_dag_lacks(db_url, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(QUEUED)
    assert sync_and_select(path, queues=["main", "eu", "us"], database_url=db_url) == {
        "main": ["alpha"], "eu": ["gamma"], "us": [],
    }
    with pytest.raises(SourcesError, match=r"source 'gamma': queue 'eu' has no crawl task in "
                                           r"news_daily \(its queues: main, us\)"):
        sync_and_select(path, queues=["main", "us"], database_url=db_url)


@pytest.mark.parametrize(("count", "most", "sizes"), [
    (3, 1024, [1, 1, 1]), (0, 1024, []), (10, 4, [3, 3, 2, 2]), (5000, 1024, [5] * 904 + [4] * 120),
])
def test_batches_keep_one_source_a_task_until_they_must_share(count, most, sizes):
    names = [f"s{i:05}" for i in range(count)]
    batches = split_into_batches(names, most)
    assert [len(b) for b in batches] == sizes
    assert [n for b in batches for n in b] == names  # each once, in order


def _newsdesk_is(monkeypatch, script: str) -> None:
    """Make run_newsdesk's child this Python script instead of `newsdesk` (its args ignored)."""
    monkeypatch.setattr(child_process, "python_module",
                        lambda *args: [sys.executable, "-c", script])  # fmt: skip


def test_the_childs_lines_reach_the_log_as_they_come_redacted(monkeypatch, tmp_path, caplog):
    """The child prints a line, then waits for the test to have seen it: only a live log lets
    it finish early (read at the end, it would give up after 20 s and say so)."""
    release = tmp_path / "seen"
    _newsdesk_is(monkeypatch, textwrap.dedent(f"""
        import pathlib, time
        print("processing: postgresql://u:hunter2@db/news", flush=True)
        deadline = time.monotonic() + 20
        while not pathlib.Path({str(release)!r}).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        print("released" if pathlib.Path({str(release)!r}).exists() else "never seen live")
    """))

    class Releaser(logging.Handler):
        def emit(self, record):
            if "processing:" in record.getMessage():
                release.touch()

    logger = logging.getLogger(child_process.__name__)
    logger.addHandler(Releaser())
    caplog.set_level("INFO", logger=logger.name)
    try:
        child_process.run_newsdesk(["process"], None)
    finally:
        logger.handlers.clear()
    lines = [r.getMessage() for r in caplog.records if r.name == logger.name]
    assert lines == ["newsdesk process: processing: postgresql://u:***@db/news",
                     "newsdesk process: released"]  # fmt: skip


def test_a_sigterm_stops_the_child_and_what_it_started(monkeypatch, tmp_path):
    pids = tmp_path / "pids"
    _newsdesk_is(monkeypatch, textwrap.dedent(f"""
        import os, subprocess, sys, time
        grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open({str(pids)!r}, "w").write(f"{{os.getpid()}} {{grandchild.pid}}")
        time.sleep(60)
    """))

    def terminate_when_started():
        deadline = time.monotonic() + 20
        while not (pids.exists() and pids.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_when_started, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(SystemExit, match="stopped by signal SIGTERM"):
        child_process.run_newsdesk(["process"], None)
    assert time.monotonic() - started < 20
    for pid in map(int, pids.read_text().split()):
        assert ends_within(pid, 5), pid


def test_ctrl_c_is_passed_on_to_the_child_which_may_finish_cleanly(monkeypatch, tmp_path):
    """The child has a session of its own, so the terminal's Ctrl-C reaches only the parent:
    it is passed on as SIGINT, and the child's own handler runs (a crawl closes its run)."""
    started, cleaned = tmp_path / "started", tmp_path / "cleaned"
    _newsdesk_is(monkeypatch, textwrap.dedent(f"""
        import time
        open({str(started)!r}, "w").close()
        try:
            time.sleep(60)
        except KeyboardInterrupt:
            open({str(cleaned)!r}, "w").close()
    """))

    def interrupt_when_started():
        deadline = time.monotonic() + 20
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_when_started, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        child_process.run_newsdesk(["process"], None)
    assert cleaned.exists()



def test_summary_writes_the_report_then_names_failed_and_missing_sources(
    db_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("NEWSDESK_REPORT_DIR", str(tmp_path / "reports"))
    path = tmp_path / "s.yaml"
    path.write_text(SOURCES)
    sync_and_select(path, database_url=db_url)
    with psycopg.connect(db_url) as conn:
        conn.execute("""INSERT INTO crawl_runs (source, run_key, status, error, finished_at)
                        VALUES ('alpha', '2026-03-15', 'failed', 'HTTP 500', now())""")
    alerts = []
    with pytest.raises(RunFailed) as failed:
        summarise_run("2026-03-15", ["alpha", "beta"], {}, {}, alert=alerts.append,
                      database_url=db_url)  # fmt: skip
    assert str(failed.value).startswith("run 2026-03-15: 2 of 2 source(s) failed: alpha, beta")
    assert "alpha: HTTP 500" in str(failed.value) and "no crawl run recorded" in str(failed.value)
    assert (tmp_path / "reports" / "newsdesk-report-2026-03-15.html").exists()
    assert alerts == []  # no history, so nothing is breaking


def _statistics(*failed: str) -> dict:
    sources = {"alpha": {"status": "success", "error": None}}
    sources |= {name: {"status": "failed", "error": f"{name} broke"} for name in failed}
    return {"run_key": "2026-03-15", "sources": sources, "totals": {}, "failed": list(failed)}


@pytest.mark.parametrize(
    ("names", "processed", "deduped", "statistics", "message"),
    [
        (None, None, None, None, "sync_sources failed: no source list"),
        (["alpha", "beta"], None, None, _statistics("beta"),
         "run 2026-03-15: 1 of 2 source(s) failed: beta (beta: beta broke)"),
        (["alpha"], None, None, _statistics(), "process failed: pages were fetched"),
        (["alpha"], {}, None, _statistics(), "dedupe failed: see its log"),
    ],
    ids=["sync", "sources", "process", "dedupe"],
)
def test_run_outcome_fails_by_the_first_rule_that_holds(
    names, processed, deduped, statistics, message
):
    with pytest.raises(RunFailed) as failed:
        run_outcome(names, processed, deduped, statistics)
    assert str(failed.value).startswith(message)


def test_run_outcome_redacts_the_reasons_and_passes_a_good_run():
    statistics = _statistics("beta")
    statistics["sources"]["beta"]["error"] = "cannot connect to postgresql://u:hunter2@db/news"
    with pytest.raises(RunFailed) as failed:
        run_outcome(["alpha", "beta"], {}, {}, statistics)
    assert "hunter2" not in str(failed.value) and "u:***@db" in str(failed.value)
    good = run_outcome(["alpha"], {"pending": 0}, {"articles": 3}, _statistics())
    assert good == {**_statistics(), "dedupe": {"articles": 3}}


def test_prune_deletes_only_old_processed_pages(db_url, tmp_path):
    from pipeline.extraction.extract import EXTRACTOR_VERSION

    path = tmp_path / "s.yaml"
    path.write_text(SOURCES)
    sync_and_select(path, database_url=db_url)
    now = datetime(2026, 3, 15, tzinfo=UTC)
    with psycopg.connect(db_url) as conn:
        for url, age, processed in [("old", 40, True), ("new", 5, True), ("pending", 40, False)]:
            body = url.encode()
            conn.execute(
                """INSERT INTO raw_pages (source, url, url_key, final_url, status, html_gz,
                       content_sha256, discovered_via, fetched_at, processed_at, extractor_version)
                   VALUES ('alpha', %s, %s, %s, 200, %s, %s, 'feed', %s, %s, %s)""",
                [url, url, url, gzip.compress(body), hashlib.sha256(body).digest(),
                 now - timedelta(days=age), now if processed else None,
                 EXTRACTOR_VERSION if processed else None],
            )
    assert prune_raw_pages(30, now, database_url=db_url) == 1
    assert prune_raw_pages(30, now, database_url=db_url) == 0  # a rerun deletes nothing more
    with psycopg.connect(db_url) as conn:
        left = {u for (u,) in conn.execute("SELECT url FROM raw_pages")}
    assert left == {"new", "pending"}


# Where the alert notifier finds its chat webhook: NEWSDESK_ALERT_WEBHOOK, else the password of
# the `newsdesk_alert_webhook` Connection (here from an AIRFLOW_CONN_ variable, as a secrets backend
# would give it). Kept in this module: a test module sorted before test_airflow_dags.py that imports
# Airflow would configure it for its own AIRFLOW_HOME before that module's fixture can.
WEBHOOK_URL = "https://hooks.example.invalid/services/T1/B2/s3cret"


def test_the_webhook_url_is_the_connection_password_unless_the_env_names_one(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))  # if airflow is not imported yet
    pytest.importorskip("airflow.sdk")
    from pipeline.airflow.notifier import WEBHOOK_ENV, webhook_setting

    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    assert webhook_setting() is None  # nothing configured: alerts are only logged

    connection = {"conn_type": "http", "password": WEBHOOK_URL}
    monkeypatch.setenv("AIRFLOW_CONN_NEWSDESK_ALERT_WEBHOOK", json.dumps(connection))
    assert webhook_setting() == WEBHOOK_URL

    monkeypatch.setenv(WEBHOOK_ENV, "http://127.0.0.1:9/hook")
    assert webhook_setting() == "http://127.0.0.1:9/hook"


def test_an_unreadable_connection_or_the_old_variable_is_a_warning(monkeypatch, tmp_path, caplog):
    """Either way the alert goes only to the log: say why instead of dropping it silently."""
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))  # if airflow is not imported yet
    pytest.importorskip("airflow.sdk")
    from pipeline.airflow.notifier import WEBHOOK_ENV, webhook_setting

    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    monkeypatch.setenv("AIRFLOW_VAR_NEWSDESK_ALERT_WEBHOOK", WEBHOOK_URL)  # where it used to be
    with caplog.at_level("WARNING", logger="pipeline.airflow.notifier"):
        assert webhook_setting() is None
    assert [r.getMessage() for r in caplog.records if r.name == "pipeline.airflow.notifier"] == [
        "alert webhook: the newsdesk_alert_webhook Variable is no longer read; the alert is only"
        " logged. Make the URL the password of the newsdesk_alert_webhook Connection"]

    caplog.clear()
    monkeypatch.delenv("AIRFLOW_VAR_NEWSDESK_ALERT_WEBHOOK")
    monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND", "newsdesk_no_such_module.VaultBackend")
    with caplog.at_level("WARNING", logger="pipeline.airflow.notifier"):
        assert webhook_setting() is None
    (message,) = [r.getMessage() for r in caplog.records if r.name == "pipeline.airflow.notifier"]
    assert message.startswith("alert webhook: the newsdesk_alert_webhook Connection could not be"
                              " read, the alert is only logged: "), message


def test_notifier_posts_a_redacted_alert_to_a_chat_webhook(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))  # if airflow is not imported yet
    pytest.importorskip("airflow.sdk")
    from pipeline.airflow.notifier import NewsdeskAlertNotifier

    received = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("NEWSDESK_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_address[1]}")

        class Run:
            dag_id, run_id = "news_daily", "scheduled__2026-03-15"

        class TI:
            task_id, map_index, rendered_map_index = "crawl", 2, "metroherald"

        NewsdeskAlertNotifier().notify({
            "dag_run": Run(), "ti": TI(),
            "exception": "cannot connect to postgresql://u:hunter2@db/news",
        })
    finally:
        server.shutdown()
        server.server_close()
    assert len(received) == 1
    text = received[0]["text"]
    assert text.startswith(
        "newsdesk: DAG news_daily run scheduled__2026-03-15 failed task crawl[metroherald]"
    )
    assert "hunter2" not in text and "u:***@db" in text


def test_a_dry_run_skips_the_task_with_its_message(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))  # if airflow is not imported yet
    pytest.importorskip("airflow.sdk")
    from airflow.sdk.exceptions import AirflowSkipException

    from pipeline.airflow.settings import skip_if_dry_run

    skip_if_dry_run({"dry_run": False}, "would crawl alpha")  # a real run carries on
    with pytest.raises(AirflowSkipException, match=r"^dry run: would crawl alpha$"):
        skip_if_dry_run({"dry_run": True}, "would crawl alpha")

"""pipeline.airflow.tasks and the alert notifier, without a DAG run."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from pipeline.airflow.tasks import (
    RunFailed,
    conninfo_from_parts,
    prune_raw_pages,
    run_key_for,
    summarise_run,
    sync_sources,
)

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
    assert sync_sources(path, database_url=db_url) == ["alpha"]
    assert sync_sources(path, only=["beta"], database_url=db_url) == ["beta"]
    path.write_text(SOURCES.split("  - name: beta")[0])
    assert sync_sources(path, database_url=db_url) == ["alpha"]
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT name, active FROM sources ORDER BY name").fetchall()
    assert rows == [("alpha", True), ("beta", False)]


def test_summary_names_failed_and_missing_sources(db_url, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SOURCES)
    sync_sources(path, database_url=db_url)
    with psycopg.connect(db_url) as conn:
        conn.execute("""INSERT INTO crawl_runs (source, run_key, status, error, finished_at)
                        VALUES ('alpha', '2026-03-15', 'failed', 'HTTP 500', now())""")
    with pytest.raises(RunFailed) as failed:
        summarise_run("2026-03-15", ["alpha", "beta"], database_url=db_url)
    assert str(failed.value).startswith("run 2026-03-15: 2 of 2 source(s) failed: alpha, beta")
    assert "alpha: HTTP 500" in str(failed.value) and "no crawl run recorded" in str(failed.value)


def test_prune_deletes_only_old_processed_pages(db_url, tmp_path):
    from pipeline.extraction.extract import EXTRACTOR_VERSION

    path = tmp_path / "s.yaml"
    path.write_text(SOURCES)
    sync_sources(path, database_url=db_url)
    now = datetime(2026, 3, 15, tzinfo=UTC)
    with psycopg.connect(db_url) as conn:
        for url, age, processed in [("old", 40, True), ("new", 5, True), ("pending", 40, False)]:
            body = url.encode()
            conn.execute(
                """INSERT INTO raw_pages (source, url, final_url, status, html_gz, content_sha256,
                       discovered_via, fetched_at, processed_at, extractor_version)
                   VALUES ('alpha', %s, %s, 200, %s, %s, 'feed', %s, %s, %s)""",
                [url, url, gzip.compress(body), hashlib.sha256(body).digest(),
                 now - timedelta(days=age), now if processed else None,
                 EXTRACTOR_VERSION if processed else None],
            )
    assert prune_raw_pages(30, now, database_url=db_url) == 1
    assert prune_raw_pages(30, now, database_url=db_url) == 0  # a rerun deletes nothing more
    with psycopg.connect(db_url) as conn:
        left = {u for (u,) in conn.execute("SELECT url FROM raw_pages")}
    assert left == {"new", "pending"}


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

"""The local Airflow's checks and settings that need no running Airflow: the ports it needs, the
airflow.cfg it writes for `airflow` run by hand, its task slots, and the demo site it serves."""

from __future__ import annotations

import configparser
import socket
import stat

import pytest

from pipeline.airflow import celery_workers, local
from pipeline.cli.airflow import worker_hint
from pipeline.cli.main import main
from pipeline.errors import NewsdeskError
from tests.airflow_support import free_port


def _env(tmp_path, port: int, **extra: str) -> dict[str, str]:
    return local.stack_env(
        tmp_path / "airflow", metadata="postgresql+psycopg://u:p%40ss@localhost:5/airflow",
        news_dsn="postgresql://u@localhost/news", port=port, extra=extra,
    )


def test_a_port_in_use_is_refused_in_one_line_before_anything_starts(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        with pytest.raises(NewsdeskError, match=rf"^port {taken} on 127.0.0.1 is in use"):
            local.check_ports(_env(tmp_path, taken))
        # Airflow's own log servers are checked too (moved here so the test can hold one).
        env = _env(tmp_path, free_port(), AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(taken))
        with pytest.raises(NewsdeskError, match=rf"^port {taken} "):
            local.check_ports(env)
    local.check_ports(_env(tmp_path, free_port(), AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT="0",
                           AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT="0"))


@pytest.mark.parametrize("port", [8793, 8794])
def test_the_api_port_may_not_be_a_log_server_port(tmp_path, port):
    with pytest.raises(NewsdeskError, match=rf"^port {port} is Airflow's \[logging\] \w+_port"):
        local.check_ports(_env(tmp_path, port))


def test_airflow_cfg_holds_the_stack_settings_for_the_owner_only(tmp_path):
    env = _env(tmp_path, 8123)
    path = local.write_config(env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = configparser.ConfigParser()  # %-interpolation, as Airflow reads it
    config.read(path)
    assert config.get("database", "sql_alchemy_conn") == env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert config.get("core", "dags_folder") == str(local.dags_folder())
    assert config.get("api", "port") == "8123"
    assert config.get("core", "parallelism") == str(local.default_parallelism())


def test_the_stack_stops_every_group_at_once_killing_what_ignores_sigterm():
    """Each component's group gets SIGTERM together, and SIGKILL after the timeout: two that
    ignore SIGTERM, each with a child, are gone after one timeout, not two."""
    import time

    import psutil

    from pipeline.subprocesses import start_group

    stack = local.Stack({
        name: start_group(["sh", "-c", "trap '' TERM; sleep 60 & wait"])
        for name in ("scheduler", "api-server")
    })
    time.sleep(0.3)  # the children have started
    members = [p for process in stack.processes.values()
               for p in psutil.Process(process.pid).children(recursive=True)]
    assert len(members) == 2
    started = time.monotonic()
    stack.stop(timeout=2)
    assert time.monotonic() - started < 3.5
    assert not any(stack.alive().values())
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in members)


def test_task_slots_follow_the_cores(monkeypatch):
    monkeypatch.setattr(local.os, "cpu_count", lambda: 2)
    assert local.default_parallelism() == 4
    monkeypatch.setattr(local.os, "cpu_count", lambda: 16)
    assert local.default_parallelism() == 32


def test_the_local_airflow_serves_the_demo_sites_urls_and_dates(tmp_path):
    """`newsdesk demo` and `newsdesk airflow` store into one database: the same site (seed,
    ports, dates), or the second one's articles are taken for copies of the first's."""
    import contextlib

    import yaml

    from pipeline.cli.airflow import _serve_demo
    from pipeline.cli.demo import DEMO_PORT, todays_demo_site
    from pipeline.cli.main import build_parser

    demo = build_parser().parse_args(["demo", "--articles", "30"])
    site = todays_demo_site(demo.seed, demo.articles)
    demo_bases = {pub.name: f"http://127.0.0.1:{demo.port + i}"
                  for i, pub in enumerate(site.publishers)}
    with contextlib.ExitStack() as stack:
        served = yaml.safe_load(_serve_demo(stack, tmp_path, 30).read_text())["sources"]
    expected = yaml.safe_load(site.sources_yaml(demo_bases))["sources"]
    assert demo.port == DEMO_PORT
    assert [s.pop("politeness") for s in served]  # the local Airflow crawls with no delay
    for source in expected:
        source.pop("politeness", None)
    assert served == expected

    airflow = build_parser()._subparsers._group_actions[0].choices["airflow"].format_help()
    assert "default: serve the demo site" in " ".join(airflow.split())


# --- `newsdesk airflow worker` ----------------------------------------------------------------

SHARED = {
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg://u:p@metadata/airflow",
    "AIRFLOW__API__SECRET_KEY": "the-api-servers-key",
    "AIRFLOW__API_AUTH__JWT_SECRET": "the-api-servers-jwt-secret",
}


def _worker_env(tmp_path, environ, broker=None):
    return celery_workers.worker_env(tmp_path / "airflow", news_dsn="postgresql://u@db/news",
                                     api="http://api:8080", broker=broker, environ=environ)


def test_a_workers_secrets_and_metadata_exported_by_the_operator_win(tmp_path):
    """A worker on another host must share the API server's secrets: the ones made up in its
    own AIRFLOW_HOME would have its log server refuse the UI's log fetch."""
    broker = "redis://:pw@broker:6379/0"
    env = _worker_env(tmp_path, {**SHARED, celery_workers.BROKER_VARIABLE: broker})
    assert {key: env[key] for key in SHARED} == SHARED
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] == (
        "postgresql+psycopg_async://u:p@metadata/airflow")
    assert env[celery_workers.BROKER_VARIABLE] == broker
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://api:8080/execution/"
    own = _worker_env(tmp_path, {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "x"}, broker=broker)
    assert own["AIRFLOW__API__SECRET_KEY"] not in ("", SHARED["AIRFLOW__API__SECRET_KEY"])
    assert own[celery_workers.BROKER_VARIABLE] == broker


def test_a_worker_without_a_broker_is_one_line(tmp_path):
    with pytest.raises(NewsdeskError, match=r"^no broker: export AIRFLOW__CELERY__BROKER_URL"):
        _worker_env(tmp_path, SHARED)


def test_the_printed_worker_command_keeps_the_broker_password_out(tmp_path):
    hint = worker_hint("redis://:s3cret@broker:6379/0", "/srv/sources.yaml")
    assert hint.startswith("AIRFLOW__CELERY__BROKER_URL=redis://:***@broker:6379/0 newsdesk ")
    assert "s3cret" not in hint and "--broker" not in hint


def test_a_worker_without_queues_takes_airflows_default_queue(tmp_path):
    args = celery_workers.worker_args("w", [], concurrency=1, pid_dir=tmp_path, serve_logs=True)
    assert "--queues" not in args  # Airflow's `[operators] default_queue`, as the DAG's tasks
    args = celery_workers.worker_args("w", ["eu"], concurrency=1, pid_dir=tmp_path,
                                      serve_logs=True)
    assert args[args.index("--queues") + 1] == "eu"


@pytest.mark.parametrize(("option", "value", "error"), [
    ("--concurrency", "0", "must be at least 1 (got 0)"),
    ("--log-port", "0", "must be at least 1 (got 0)"),
    ("--log-port", "65536", "must be at most 65535 (got 65536)"),
])
def test_a_workers_numbers_are_checked_before_it_starts(capsys, option, value, error):
    with pytest.raises(SystemExit) as exited:
        main(["airflow", "worker", option, value])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(f"argument {option}: {error}")

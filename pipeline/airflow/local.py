"""A real Airflow on this machine: scheduler, DAG processor, API server and triggerer as processes.

Used by `newsdesk airflow` (operators trying the DAGs locally) and by the real-scheduler test.
The metadata database is a database of its own (`airflow`) on the same PostgreSQL as the news
(the embedded one by default), the executor is the LocalExecutor, and the DAGs newsdesk ships in
the package are loaded.
Every process starts in its own process group, so `stop` ends it and every task it started.
`prepare` also writes the stack's settings into AIRFLOW_HOME/airflow.cfg, so a plain
`AIRFLOW_HOME=... airflow ...` command in another shell talks to the same metadata database.
"""

from __future__ import annotations

import configparser
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pipeline.errors import NewsdeskError
from pipeline.subprocesses import start_group, stop_group

COMPONENTS = ("scheduler", "dag-processor", "api-server", "triggerer")
CRAWL_POOL = "newsdesk_crawl"
# The auth manager of the compose deployment: users with passwords and roles in the metadata
# database (apache-airflow-providers-fab). `newsdesk airflow` keeps the simple one for trying.
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
# Airflow's own log servers ([logging] worker_log_server_port, trigger_log_server_port): the
# scheduler and the triggerer open them some seconds after starting.
LOG_SERVER_PORTS = {"worker_log_server_port": 8793, "trigger_log_server_port": 8794}


def airflow_bin() -> str:
    """The `airflow` next to this Python (the venv's), else the one on PATH."""
    candidate = Path(sys.executable).parent / "airflow"
    return str(candidate) if candidate.exists() else "airflow"


def dags_folder() -> Path:
    """The DAG files, shipped as the data-only package pipeline.airflow.dags (dags/ in the
    repository, mapped by pyproject.toml): the same folder on every host that installs newsdesk."""
    return Path(str(resources.files("pipeline.airflow.dags")))


def metadata_url(news_dsn: str, database: str = "airflow") -> str:
    """A SQLAlchemy URL (psycopg 3 driver) for `database` on the server of `news_dsn`,
    creating the database when it is missing."""
    import psycopg

    parts = conninfo_to_dict(news_dsn)
    admin = make_conninfo(news_dsn, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    user = urllib.parse.quote(parts.get("user") or "postgres", safe="")
    password = parts.get("password")
    auth = user + (":" + urllib.parse.quote(password, safe="") if password else "")
    host = parts.get("host") or "localhost"
    query = {}
    if host.startswith("/"):  # a Unix socket directory
        netloc = f"{auth}@"
        query["host"] = host
        if parts.get("port"):
            query["port"] = parts["port"]
    else:
        netloc = f"{auth}@{host}" + (f":{parts['port']}" if parts.get("port") else "")
    tail = f"?{urllib.parse.urlencode(query)}" if query else ""
    return f"postgresql+psycopg://{netloc}/{database}{tail}"


def stack_env(
    home: Path,
    *,
    metadata: str,
    news_dsn: str,
    port: int,
    sources: str | Path | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment every component (and `airflow` CLI call) of the stack shares."""
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        # Airflow would pick asyncpg (not installed) for its async engine; psycopg 3 does both.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata.replace(
            "postgresql+psycopg://", "postgresql+psycopg_async://", 1
        ),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": _secret(home, "jwt_secret"),
        "AIRFLOW__API__SECRET_KEY": _secret(home, "api_secret_key"),
        # The local UI: one admin user, password written to AIRFLOW_HOME (simple auth manager).
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__PARALLELISM": str(default_parallelism()),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        # The news database, as the DAGs expect it: the newsdesk_db connection.
        "AIRFLOW_CONN_NEWSDESK_DB": _airflow_conn_json(news_dsn),
        "NEWSDESK_DATABASE_URL": news_dsn,
        # Airflow starts `airflow` by name for some of its children.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    if sources:
        env["NEWSDESK_SOURCES"] = str(sources)
    env.update(extra or {})
    return env


def default_parallelism() -> int:
    """Task slots sized to the machine: the LocalExecutor starts one worker process per slot
    (Airflow's default of 32 left 32 idle processes on 2 cores). Two a core, as a crawl task
    mostly waits on the network; at least 4 so the crawl pool's default 4 slots can all run."""
    return max(4, 2 * (os.cpu_count() or 1))


def fab_auth_env() -> dict[str, str]:
    """Settings for the FAB auth manager (as in docker-compose.yml): `airflow db migrate` then
    creates its user tables, and compose's airflow-init script its admin."""
    return {"AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER}


def check_ports(env: Mapping[str, str]) -> None:
    """Fail in one line when the API port is taken, or is one of Airflow's log-server ports
    (which would fail the stack only when the scheduler opens it, half a minute in)."""
    env = {**os.environ, **env}  # as the components see it
    api = int(env["AIRFLOW__API__PORT"])
    log_ports = {
        name: int(env.get(f"AIRFLOW__LOGGING__{name.upper()}", default))
        for name, default in LOG_SERVER_PORTS.items()
    }
    for name, port in log_ports.items():
        if api == port:
            raise NewsdeskError(
                f"port {api} is Airflow's [logging] {name}: choose another --port"
            )
    for port in (api, *log_ports.values()):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise NewsdeskError(
                    f"port {port} on 127.0.0.1 is in use (needed by the local Airflow): "
                    "stop what holds it or choose another --port"
                ) from None


def write_config(env: Mapping[str, str]) -> Path:
    """AIRFLOW_HOME/airflow.cfg with the stack's AIRFLOW__SECTION__KEY settings (owner-only: it
    holds the metadata password), so `airflow` run by hand with only AIRFLOW_HOME set reaches
    the same metadata database; the environment still wins over the file."""
    config = configparser.RawConfigParser()
    for name, value in sorted(env.items()):
        if not name.startswith("AIRFLOW__"):
            continue  # AIRFLOW_HOME, AIRFLOW_CONN_*, NEWSDESK_*: not airflow.cfg settings
        section, _, key = name.removeprefix("AIRFLOW__").partition("__")
        if not config.has_section(section.lower()):
            config.add_section(section.lower())
        # Airflow reads the file with %-interpolation: a quoted password's % must be doubled.
        config.set(section.lower(), key.lower(), value.replace("%", "%%"))
    path = Path(env["AIRFLOW_HOME"]) / "airflow.cfg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    with path.open("w") as out:
        out.write("# Written by newsdesk (pipeline/airflow/local.py) at each start.\n")
        config.write(out)
    return path


def _airflow_conn_json(dsn: str) -> str:
    import json

    parts = conninfo_to_dict(dsn)
    return json.dumps({
        "conn_type": "postgres",
        "host": parts.get("host"),
        "port": int(parts["port"]) if parts.get("port") else None,
        "login": parts.get("user"),
        "password": parts.get("password"),
        "schema": parts.get("dbname"),
    })


def _secret(home: Path, name: str) -> str:
    """A secret shared by the stack's processes, kept in AIRFLOW_HOME across restarts."""
    path = home / f".{name}"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def cli(*args: str, env: Mapping[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    """Run `airflow ARGS` with the stack's environment; output captured."""
    return subprocess.run(
        [airflow_bin(), *args], env={**os.environ, **env}, capture_output=True, text=True,
        timeout=timeout,
    )


def prepare(env: Mapping[str, str], *, crawl_slots: int = 4) -> None:
    """Write airflow.cfg, migrate the metadata database and create the crawl pool (each
    idempotent)."""
    write_config(env)
    for args in (("db", "migrate"),
                 ("pools", "set", CRAWL_POOL, str(crawl_slots), "newsdesk: concurrent crawls")):
        result = cli(*args, env=env)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise NewsdeskError(f"airflow {' '.join(args)} failed: {' | '.join(tail)}")


@dataclass
class Stack:
    """The running components; `stop()` ends each process group."""

    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    def alive(self) -> dict[str, bool]:
        return {name: p.poll() is None for name, p in self.processes.items()}

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM to every group, SIGKILL to what is left of each after `timeout`: all at once
        (a thread each), so stopping the stack takes the slowest component's time, not the sum."""
        processes = list(self.processes.values())
        if processes:
            with ThreadPoolExecutor(len(processes)) as pool:
                list(pool.map(lambda process: stop_group(process, timeout), processes))

    def tail(self, lines: int = 40) -> str:
        out = []
        for name, path in self.logs.items():
            text = path.read_text(errors="replace").splitlines() if path.exists() else []
            out.append(f"--- {name} ---\n" + "\n".join(text[-lines:]))
        return "\n".join(out)


def start(
    env: Mapping[str, str], log_dir: Path, components: Sequence[str] = COMPONENTS
) -> Stack:
    """Start each component in its own process group, its output in `log_dir/NAME.log`."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack()
    try:
        for name in components:
            path = log_dir / f"{name}.log"
            with path.open("ab") as log:
                stack.processes[name] = start_group(
                    [airflow_bin(), name], env={**os.environ, **env}, stdout=log,
                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
            stack.logs[name] = path
    except BaseException:
        stack.stop()
        raise
    return stack


def wait_for_api(port: int, timeout: float = 120, stack: Stack | None = None) -> None:
    """Wait until the API server answers its health endpoint."""
    import urllib.request

    url = f"http://127.0.0.1:{port}/api/v2/monitor/health"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack and not stack.alive().get("api-server", True):
            raise NewsdeskError(f"the Airflow API server exited; see {stack.logs['api-server']}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise NewsdeskError(f"the Airflow API server did not answer on port {port} in {timeout:.0f}s")

"""A real Airflow on this machine: scheduler, DAG processor, API server and triggerer as processes.

Used by `newsdesk airflow` (operators trying the DAGs locally) and by the real-scheduler test.
The metadata database is a database of its own (`airflow`) on the same PostgreSQL as the news
(the embedded one by default), the executor is the LocalExecutor, and the DAGs newsdesk ships in
the package are loaded.
Every process starts in its own process group, so `stop` ends it and every task it started.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pipeline.errors import NewsdeskError

COMPONENTS = ("scheduler", "dag-processor", "api-server", "triggerer")
CRAWL_POOL = "newsdesk_crawl"


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
    """Migrate the metadata database and create the crawl pool (both idempotent)."""
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
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
            _signal_group(process, signal.SIGKILL)  # whatever is left of the group
            if process.poll() is None:
                process.wait(5)

    def tail(self, lines: int = 40) -> str:
        out = []
        for name, path in self.logs.items():
            text = path.read_text(errors="replace").splitlines() if path.exists() else []
            out.append(f"--- {name} ---\n" + "\n".join(text[-lines:]))
        return "\n".join(out)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


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
                stack.processes[name] = subprocess.Popen(
                    [airflow_bin(), name], env={**os.environ, **env}, stdout=log,
                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    start_new_session=True,
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
            raise NewsdeskError("the Airflow API server exited (see api-server.log)")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise NewsdeskError(f"the Airflow API server did not answer on port {port} in {timeout:.0f}s")

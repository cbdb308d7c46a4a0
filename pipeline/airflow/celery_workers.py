"""The local stack on the CeleryExecutor: its settings, and Celery workers as processes.

`local.py` runs the scheduler and the other components; with `celery_env` added to their
environment they hand tasks to a broker (Redis) instead of running them, and each
`start_worker` process takes the tasks of the queues it listens to. A task records the host it
ran on through `[core] hostname_callable`, which is `worker_hostname` here, so two workers on
one machine tell their tasks apart by name (`NEWSDESK_WORKER_HOSTNAME`, set per worker).
"""

from __future__ import annotations

import os
import socket
import subprocess
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipeline.airflow import local
from pipeline.errors import NewsdeskError
from pipeline.subprocesses import start_group

HOSTNAME_VARIABLE = "NEWSDESK_WORKER_HOSTNAME"
BROKER_VARIABLE = "AIRFLOW__CELERY__BROKER_URL"
METADATA_VARIABLE = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
#: What a worker must share with the API server and scheduler: exported by the operator, each
#: wins over what `local.stack_env` makes up on this host (with a secret key of its own, the
#: worker's log server refuses the UI's log fetch; with a JWT secret of its own, its tasks'
#: tokens are refused). The metadata URL itself is METADATA_VARIABLE, read by `worker_env`.
SHARED_SETTINGS = (
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC",
)


def worker_hostname() -> str:
    """This worker's name as its tasks record it: NEWSDESK_WORKER_HOSTNAME, else the host's FQDN
    (Airflow's own default)."""
    return os.environ.get(HOSTNAME_VARIABLE) or socket.getfqdn()


def celery_env(broker_url: str) -> dict[str, str]:
    """The settings that move a stack (`local.stack_env`) onto the CeleryExecutor with this broker.

    The result backend is Airflow's default, the metadata database itself (no second service).
    """
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.worker_hostname",
    }


def worker_env(
    home: Path,
    *,
    news_dsn: str,
    api: str,
    broker: str | None = None,
    sources: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> dict[str, str]:
    """The environment of a worker for the stack whose API server is `api`, on this host.

    The broker is `broker`, else BROKER_VARIABLE from `environ` (exported, it stays out of
    `ps`); the metadata database is METADATA_VARIABLE, else the `airflow` database beside the
    news one; SHARED_SETTINGS exported in `environ` win over the ones made up for this host.
    """
    broker = broker or environ.get(BROKER_VARIABLE)
    if not broker:
        raise NewsdeskError(f"no broker: export {BROKER_VARIABLE} (or give --broker URL)")
    env = local.stack_env(
        home, metadata=environ.get(METADATA_VARIABLE) or local.metadata_url(news_dsn),
        news_dsn=news_dsn, port=urllib.parse.urlsplit(api).port or 8080, sources=sources,
        extra={**celery_env(broker),
               "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/"},
    )
    env.update({key: environ[key] for key in SHARED_SETTINGS if key in environ})
    return env


def worker_args(name: str, queues: Sequence[str], *, concurrency: int, pid_dir: Path,
                serve_logs: bool) -> list[str]:
    """`airflow celery worker` for one named worker, with its own PID file (Airflow's default one
    in AIRFLOW_HOME would be shared by the workers of one host). Without `queues` it takes
    Airflow's `[operators] default_queue`, as the DAG's tasks do."""
    args = [
        "celery", "worker", "--concurrency", str(concurrency),
        "--celery-hostname", name, "--pid", str(pid_dir / f"worker-{name}.pid"),
    ]
    if queues:
        args += ["--queues", ",".join(queues)]
    return args if serve_logs else [*args, "--skip-serve-logs"]


def start_worker(
    stack: local.Stack,
    env: Mapping[str, str],
    log_dir: Path,
    name: str,
    queues: Sequence[str] = (),
    *,
    concurrency: int = 1,
    log_port: int | None = None,
) -> subprocess.Popen:
    """Start one Celery worker, in its own process group, as `stack`'s component `celery-NAME`
    (its output in `log_dir/celery-NAME.log`, stopped with the stack), taking `queues` (none:
    Airflow's default queue).

    With `log_port` it serves its task logs there (the UI reads a running task's log from
    NAME:PORT; two workers on one host need two ports); without, the logs are only in
    AIRFLOW_HOME/logs.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    component = f"celery-{name}"
    path = log_dir / f"{component}.log"
    own = {HOSTNAME_VARIABLE: name}
    if log_port is not None:
        own["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(log_port)
    with path.open("ab") as log:
        process = start_group(
            [local.airflow_bin(), *worker_args(name, queues, concurrency=concurrency,
                                               pid_dir=log_dir, serve_logs=log_port is not None)],
            env={**os.environ, **env, **own}, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    stack.processes[component] = process
    stack.logs[component] = path
    return process

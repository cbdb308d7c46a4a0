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
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipeline.airflow.local import Stack, airflow_bin

#: The queue every task goes to unless it names another (Airflow's `[operators] default_queue`).
DEFAULT_QUEUE = "default"
HOSTNAME_VARIABLE = "NEWSDESK_WORKER_HOSTNAME"


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


def worker_args(name: str, queues: Sequence[str], *, concurrency: int, pid_dir: Path,
                serve_logs: bool) -> list[str]:
    """`airflow celery worker` for one named worker, with its own PID file (Airflow's default one
    in AIRFLOW_HOME would be shared by the workers of one host)."""
    args = [
        "celery", "worker", "--queues", ",".join(queues), "--concurrency", str(concurrency),
        "--celery-hostname", name, "--pid", str(pid_dir / f"worker-{name}.pid"),
    ]
    return args if serve_logs else [*args, "--skip-serve-logs"]


def start_worker(
    stack: Stack,
    env: Mapping[str, str],
    log_dir: Path,
    name: str,
    queues: Sequence[str] = (DEFAULT_QUEUE,),
    *,
    concurrency: int = 1,
    log_port: int | None = None,
) -> subprocess.Popen:
    """Start one Celery worker, in its own process group, as `stack`'s component `celery-NAME`
    (its output in `log_dir/celery-NAME.log`, stopped with the stack).

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
        process = subprocess.Popen(
            [airflow_bin(), *worker_args(name, queues, concurrency=concurrency, pid_dir=log_dir,
                                         serve_logs=log_port is not None)],
            env={**os.environ, **env, **own}, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    stack.processes[component] = process
    stack.logs[component] = path
    return process

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


def worker_args(
    name: str, queues: Sequence[str], *, concurrency: int, pid_dir: Path, serve_logs: bool
) -> list[str]:
    """`airflow celery worker` for one named worker. Each has its own PID file (Airflow's default
    one in AIRFLOW_HOME is shared); a worker that does not serve its logs leaves the log port free
    for another worker on the same host (the UI then reads the task logs from AIRFLOW_HOME)."""
    args = [
        "celery", "worker", "--queues", ",".join(queues), "--concurrency", str(concurrency),
        "--celery-hostname", name, "--pid", str(pid_dir / f"worker-{name}.pid"),
    ]
    return [*args, "--skip-serve-logs"] if not serve_logs else args


def start_worker(
    stack: Stack,
    env: Mapping[str, str],
    log_dir: Path,
    name: str,
    queues: Sequence[str] = (DEFAULT_QUEUE,),
    *,
    concurrency: int = 1,
    serve_logs: bool = False,
) -> subprocess.Popen:
    """Start one Celery worker, in its own process group, as `stack`'s component `celery-NAME`
    (its output in `log_dir/celery-NAME.log`, stopped with the stack)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    component = f"celery-{name}"
    path = log_dir / f"{component}.log"
    with path.open("ab") as log:
        process = subprocess.Popen(
            [airflow_bin(), *worker_args(name, queues, concurrency=concurrency, pid_dir=log_dir,
                                         serve_logs=serve_logs)],
            env={**os.environ, **env, HOSTNAME_VARIABLE: name}, stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    stack.processes[component] = process
    stack.logs[component] = path
    return process

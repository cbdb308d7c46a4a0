"""What a task reads from its run: the database, the sources file, the run key, the dry-run flag.

Airflow first, then the environment. Read inside a running task only (never at DAG parse time).
The database URL is resolved in the task and handed to the task functions (`daily`, `summary`,
`maintenance`), so it never appears in a rendered template, an XCom or a log line. Airflow is
imported inside the functions that need it, so the pure helpers here are usable without it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from psycopg.conninfo import make_conninfo

from pipeline.db.connection import DATABASE_URL_ENV
from pipeline.errors import NewsdeskError
from pipeline.sources.config import SOURCES_ENV, SourcesError

#: The Airflow connection holding the news database (env form: AIRFLOW_CONN_NEWSDESK_DB).
CONN_ID = "newsdesk_db"
#: The Airflow Variable naming the sources YAML file or folder.
SOURCES_VARIABLE = "newsdesk_sources"


def database_url() -> str | None:
    """The `newsdesk_db` connection as a libpq DSN, else NEWSDESK_DATABASE_URL, else None.

    None lets newsdesk fall back to its embedded server (a local, single-machine setup).
    """
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException, AirflowRuntimeError

    try:
        conn = BaseHook.get_connection(CONN_ID)
    except (AirflowNotFoundException, AirflowRuntimeError):
        return os.environ.get(DATABASE_URL_ENV) or None
    if conn.host is None and conn.schema is None and conn.login is None:
        raise NewsdeskError(f"the Airflow connection {CONN_ID!r} has no host, database or login")
    return conninfo_from_parts(
        host=conn.host, port=conn.port, login=conn.login, password=conn.password,
        schema=conn.schema, extra=conn.extra_dejson,
    )


def conninfo_from_parts(
    *,
    host: str | None = None,
    port: int | None = None,
    login: str | None = None,
    password: str | None = None,
    schema: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """A libpq DSN from the fields of an Airflow connection (schema is the database name).

    Extras that are libpq parameters (sslmode, options, application_name...) are kept; a host
    may be a Unix socket directory.
    """
    params = {
        "host": host or None,
        "port": port or None,
        "user": login or None,
        "password": password or None,
        "dbname": schema or None,
    }
    for key, value in (extra or {}).items():
        if key in _LIBPQ_EXTRAS and value not in (None, ""):
            params[key] = value
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None})


_LIBPQ_EXTRAS = {
    "sslmode", "sslrootcert", "sslcert", "sslkey", "options", "application_name",
    "connect_timeout", "target_session_attrs", "keepalives", "keepalives_idle",
}


def sources_path(param: str | None = None) -> str | None:
    """The sources file: the run's `sources_file` param, the `newsdesk_sources` Variable,
    NEWSDESK_SOURCES, else None (the sources.yaml shipped in the package)."""
    if param:
        return param
    from airflow.sdk import Variable

    value = Variable.get(SOURCES_VARIABLE, default=None)
    return value or os.environ.get(SOURCES_ENV) or None


def run_key(context: dict[str, Any]) -> str:
    """The run key of the running DAG run: its logical date, as an ISO date."""
    dag_run = context["dag_run"]
    return run_key_for(context.get("logical_date"), dag_run.run_after)


def is_retry(ti: Any) -> bool:
    """Whether this try of `ti` is a retry after a failed try, not the first since the run
    started or was last cleared. Clearing raises `try_number` too, and sets `max_tries` to the
    cleared try plus the task's retries: the first try after it is `max_tries - retries + 1`
    (Airflow's own reckoning in `get_first_reschedule_date`)."""
    return ti.try_number > ti.max_tries - (ti.task.retries or 0) + 1


def run_key_for(logical_date: datetime | None, fallback: datetime) -> str:
    """The run key of a DAG run: its logical date as an ISO date (`2026-03-15`).

    A manual run without a logical date uses the day it was triggered for (`fallback`, the
    run's `run_after`), so it shares that day's crawl_runs rows instead of adding new ones.
    """
    return (logical_date or fallback).date().isoformat()


def skip_if_dry_run(params: Mapping[str, Any], what: str) -> None:
    """Skip the task, saying `dry run: <what>`, when the run's `dry_run` param is set."""
    if params["dry_run"]:
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException(f"dry run: {what}")


@contextlib.contextmanager
def failing_at_once_on_config_errors() -> Iterator[None]:
    """Fail the task without its retries on a sources-file error: a retry cannot fix the file,
    and retrying for minutes would hold up the next run (max_active_runs=1)."""
    try:
        yield
    except SourcesError as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from None

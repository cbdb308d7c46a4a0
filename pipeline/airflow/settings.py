"""Where a task finds its database, sources file and run key: Airflow first, then the environment.

Read inside a running task only (never at DAG parse time). The database URL is resolved in the
task and handed to `pipeline.airflow.tasks`, so it never appears in a rendered template, an XCom
or a log line.
"""

from __future__ import annotations

import os
from typing import Any

from pipeline.airflow.tasks import conninfo_from_parts, run_key_for
from pipeline.db.connection import DATABASE_URL_ENV
from pipeline.errors import NewsdeskError
from pipeline.sources.config import SOURCES_ENV

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

"""Running newsdesk in child processes against a task's database.

The database URL reaches the child through its environment (NEWSDESK_DATABASE_URL), never its
command line, and the child's output is redacted, line by line, before it reaches the task log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from collections.abc import Iterator, Sequence

from pipeline.db import redact
from pipeline.db.connection import DATABASE_URL_ENV
from pipeline.errors import NewsdeskError
from pipeline.subprocesses import python_module, start_group, stopped_on_exit

log = logging.getLogger(__name__)


@contextlib.contextmanager
def database_env(url: str | None) -> Iterator[None]:
    """Export `url` as NEWSDESK_DATABASE_URL for the block (and the subprocesses it starts)."""
    if not url:
        yield
        return
    before = os.environ.get(DATABASE_URL_ENV)
    os.environ[DATABASE_URL_ENV] = url
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(DATABASE_URL_ENV, None)
        else:
            os.environ[DATABASE_URL_ENV] = before


def run_newsdesk(args: Sequence[str], database_url: str | None) -> None:
    """Run `newsdesk ARGS` in a child process against `database_url`.

    Its output reaches the task log line by line as it comes (redacted), so a long `process`
    shows its progress live. Anything that ends the task early (execution_timeout, SIGTERM)
    stops the child and all it started (its extraction pool) before the task ends.
    """
    env = {**os.environ, "COLUMNS": "120"}
    if database_url:
        env[DATABASE_URL_ENV] = database_url
    process = start_group(python_module("pipeline.cli", *args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=env)
    last = ""
    with stopped_on_exit(process):
        for line in process.stdout:
            if line := redact(line.rstrip()):
                log.info("newsdesk %s: %s", args[0], line)
                last = line
        returncode = process.wait()
    if returncode != 0:
        raise NewsdeskError(f"newsdesk {args[0]} failed: {last or f'exit status {returncode}'}")

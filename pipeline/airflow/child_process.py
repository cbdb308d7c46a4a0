"""Running newsdesk in child processes against a task's database.

The database URL reaches the child through its environment (NEWSDESK_DATABASE_URL), never its
command line, and the child's output is redacted before it reaches the task log.
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
from pipeline.subprocesses import python_module

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
    """Run `newsdesk ARGS` in a child process against `database_url`; its output is logged."""
    env = {**os.environ, "COLUMNS": "120"}
    if database_url:
        env[DATABASE_URL_ENV] = database_url
    completed = subprocess.run(python_module("pipeline.cli", *args), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=env)
    output = redact(completed.stdout.strip())
    log.info("newsdesk %s:\n%s", args[0], output)
    if completed.returncode != 0:
        last = output.splitlines()[-1] if output else f"exit status {completed.returncode}"
        raise NewsdeskError(f"newsdesk {args[0]} failed: {last}")

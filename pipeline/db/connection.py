"""Which database to use and how to connect, with errors that never show a password."""

from __future__ import annotations

import os
import re

import psycopg

from pipeline.errors import NewsdeskError

DATABASE_URL_ENV = "NEWSDESK_DATABASE_URL"


def database_url(*, start_embedded: bool = True) -> str:
    """`NEWSDESK_DATABASE_URL`, or the embedded server's DSN (started on first use)."""
    url = os.environ.get(DATABASE_URL_ENV)
    if url:
        return url
    if not start_embedded:
        raise NewsdeskError(f"{DATABASE_URL_ENV} is not set and the embedded server is not wanted")
    from pipeline.db import embedded

    try:
        return embedded.ensure_server()
    except Exception as exc:  # pgserver raises bare subprocess/assertion errors
        raise NewsdeskError(
            f"cannot start the embedded PostgreSQL in {embedded.data_dir()}: {_first_line(exc)}"
        ) from exc


def connect(url: str | None = None, *, autocommit: bool = False) -> psycopg.Connection:
    """Open a connection; an unreachable server is a one-line `NewsdeskError`."""
    url = url or database_url()
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise NewsdeskError(
            f"cannot connect to the database {redact(url)}: {_first_line(exc)}"
        ) from None


def sibling(conn: psycopg.Connection) -> psycopg.Connection:
    """Another connection to `conn`'s database, with the same parameters (password included:
    `info.dsn` leaves it out on purpose)."""
    return psycopg.connect(conn.info.dsn, password=conn.info.password, connect_timeout=10)


_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]+@")
_PASSWORD_IN_KV = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide any password in a DSN (URL or key=value form) or in a message quoting one."""
    text = _PASSWORD_IN_URL.sub(r"\1***@", text)
    return _PASSWORD_IN_KV.sub(r"\1***", text)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return redact(lines[0] if lines else type(exc).__name__)

"""Which database to use and how to connect, with errors that never show a password."""

from __future__ import annotations

import os
import re
import time

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


def connect(
    url: str | None = None, *, autocommit: bool = False, wait: float = 0
) -> psycopg.Connection:
    """Open a connection; an unreachable server is a one-line `NewsdeskError`.

    `wait` > 0 keeps trying for that many seconds (backing off up to 2 s between tries), for a
    server that is restarting. psycopg retries only inside its pool, and one connection does
    not need a pool.
    """
    url = url or database_url()
    deadline = time.monotonic() + wait
    pause = 0.1
    while True:
        try:
            return psycopg.connect(url, autocommit=autocommit, connect_timeout=10)
        except psycopg.ProgrammingError as exc:  # libpq could not parse it; may quote it
            raise NewsdeskError(
                f"the database URL {redact(url)} is malformed: {_first_line(exc, url)}"
            ) from None
        except psycopg.OperationalError as exc:
            if time.monotonic() + pause > deadline:
                raise NewsdeskError(
                    f"cannot connect to the database {redact(url)}: {_first_line(exc)}"
                ) from None
        time.sleep(pause)
        pause = min(pause * 2, 2.0)


def lost_connection(exc: psycopg.OperationalError) -> str:
    """The one line for a connection that failed mid-command (server restarted or gone)."""
    return (
        f"lost the database connection: {_first_line(exc)} "
        "(the work committed so far is kept; rerun to finish)"
    )


def sibling(conn: psycopg.Connection) -> psycopg.Connection:
    """Another connection to `conn`'s database, with the same parameters (password included:
    `info.dsn` leaves it out on purpose)."""
    return psycopg.connect(conn.info.dsn, password=conn.info.password, connect_timeout=10)


_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]+@")
# A key=value password may be quoted, with \' and \\ escaped inside (libpq's conninfo syntax).
_PASSWORD_IN_KV = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide any password in a DSN (URL or key=value form) or in a message quoting one."""
    text = _PASSWORD_IN_URL.sub(r"\1***@", text)
    return _PASSWORD_IN_KV.sub(r"\1***", text)


def _first_line(exc: BaseException, url: str | None = None) -> str:
    """The error's first line, passwords hidden; a DSN it quotes whole is replaced by its
    redacted form (libpq quotes a URL it cannot parse, and then `redact` may not find the
    password in it)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    line = lines[0] if lines else type(exc).__name__
    if url:
        line = line.replace(url, redact(url))
    return redact(line)

"""The embedded PostgreSQL used when `NEWSDESK_DATABASE_URL` is unset.

pgserver (PyPI) ships the server binaries, so a fresh machine needs no Postgres installed. The
server listens on a Unix socket only (no TCP port to collide with) and keeps running after the
command that started it, so the next command, and an analyst's psql, reuse it;
`newsdesk db stop` stops it.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import platformdirs

HOME_ENV = "NEWSDESK_HOME"
DATABASE = "newsdesk"


def home() -> Path:
    """Where newsdesk keeps its own state: `NEWSDESK_HOME`, else the user's data directory."""
    return Path(os.environ.get(HOME_ENV) or platformdirs.user_data_dir("newsdesk"))


def data_dir() -> Path:
    return home() / "pgdata"


def _pgserver():
    # pgserver's import-time platformdirs call warns when XDG_RUNTIME_DIR is unset (containers,
    # CI); the fallback it takes is fine, so the warning is noise on every command.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
        from pgserver.utils import PostmasterInfo
    return pgserver, PostmasterInfo


def is_running(pgdata: Path | None = None) -> bool:
    _, postmaster_info = _pgserver()
    info = postmaster_info.read_from_pgdata(pgdata or data_dir())
    return info is not None and info.is_running()


def ensure_server(pgdata: Path | None = None, *, cleanup_mode: str | None = None) -> str:
    """Start (or reuse) the embedded server, create the `newsdesk` database, return its DSN.

    `cleanup_mode=None` leaves the server running for the next command; tests pass "delete".
    """
    import psycopg

    pgdata = pgdata or data_dir()
    pgserver, _ = _pgserver()
    already_running = is_running(pgdata)
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode=cleanup_mode)
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE {DATABASE}")
    if not already_running and cleanup_mode is None:
        print(
            f"newsdesk: started embedded PostgreSQL in {pgdata} (stop it with `newsdesk db stop`)",
            file=sys.stderr,
        )
    return server.get_uri(DATABASE)


def stop(pgdata: Path | None = None) -> bool:
    """Stop the embedded server if it runs; True when there was one to stop."""
    import subprocess

    pgdata = pgdata or data_dir()
    if not is_running(pgdata):
        return False
    _pgserver()  # imports pgserver quietly
    from pgserver._commands import pg_ctl

    user = "pgserver" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata, user=user)
    except subprocess.CalledProcessError:
        return is_running(pgdata)
    return True

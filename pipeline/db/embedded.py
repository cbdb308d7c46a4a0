"""The embedded PostgreSQL used when `NEWSDESK_DATABASE_URL` is unset.

pgserver (PyPI) ships the server binaries, so a fresh machine needs no Postgres installed. The
server listens on a Unix socket only (no TCP port to collide with) and keeps running after the
command that started it, so the next command, and an analyst's psql, reuse it;
`newsdesk db stop` stops it.

Postgres' defaults (128 MB of shared_buffers) suit a server sharing a small machine with other
programs; the embedded server is this machine's database, so it gets the sizes the Postgres
manual suggests for a dedicated server (`server_settings`), set with ALTER SYSTEM when it starts.
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


def bin_dir() -> Path:
    """Where the server's own build keeps its programs (postgres, pg_dump, pg_restore, ...)."""
    _pgserver()  # imports pgserver quietly
    from pgserver._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def machine_memory() -> int | None:
    """Bytes of physical memory, or of the container's limit when lower (cgroup v2)."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):  # no sysconf (Windows) or no such name
        return None
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return memory
    return min(memory, int(limit)) if limit.isdigit() else memory


def server_settings(memory: int | None) -> dict[str, str]:
    """The embedded server's settings on a machine with `memory` bytes (None: unknown).

    A quarter of memory for shared_buffers and three quarters as the planner's cache estimate
    (the manual's starting points for a dedicated server): dedupe's key index is about 1 GB at
    1M articles and every batch touches a random page of it per key, so it must stay cached.
    Loading also wants fewer checkpoints: after each one, the first change to every page writes
    the whole page to the WAL, and random keys change a different page each time. (Not
    wal_compression: pglz barely shrinks pages of random keys and cost more time than it saved.)"""
    settings = {"max_wal_size": "4GB", "checkpoint_timeout": "15min"}
    if memory:
        mb = memory // 2**20
        settings["shared_buffers"] = f"{max(128, mb // 4)}MB"
        settings["effective_cache_size"] = f"{max(4096, mb * 3 // 4)}MB"
    return settings


def _configure(dsn: str) -> bool:
    """ALTER SYSTEM the settings that differ from `server_settings`; True when one of them only
    takes effect after a restart."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as conn:
        stored = dict(conn.execute(
            "SELECT name, setting FROM pg_file_settings"
            " WHERE sourcefile LIKE '%%postgresql.auto.conf' AND error IS NULL"
        ).fetchall())
        restart = False
        for name, value in server_settings(machine_memory()).items():
            if stored.get(name) == value:
                continue
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(
                sql.Identifier(name), sql.Literal(value)))
            context = conn.execute(
                "SELECT context FROM pg_settings WHERE name = %s", [name]).fetchone()[0]
            restart = restart or context == "postmaster"
        conn.execute("SELECT pg_reload_conf()")
    return restart


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
    # Restart only a server this call started: one already running may have clients; it gets
    # the new settings at its next start.
    if _configure(server.get_uri()) and not already_running:
        _pg_ctl(pgdata, "-w", "-l", str(pgdata / "log"), "restart", "-m", "fast")
        server.ensure_postgres_running()  # pgserver re-reads the new postmaster's pid
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
    try:
        _pg_ctl(pgdata, "-w", "stop", "-m", "fast")
    except subprocess.CalledProcessError:
        return is_running(pgdata)
    return True


def _pg_ctl(pgdata: Path, *args: str) -> None:
    _pgserver()  # imports pgserver quietly
    from pgserver._commands import pg_ctl

    user = "pgserver" if os.geteuid() == 0 else None  # as pgserver runs the server under root
    pg_ctl(list(args), pgdata=pgdata, user=user)

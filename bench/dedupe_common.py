"""Shared by the dedupe benchmarks: a throwaway embedded PostgreSQL with the schema applied."""

from __future__ import annotations

import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # for `tests.dedupe_helpers` when run as a script
    sys.path.insert(0, str(ROOT))

from pipeline.db import embedded  # noqa: E402
from pipeline.db.migrate import migrate  # noqa: E402


@contextmanager
def throwaway_database(url: str | None = None):
    """A migrated database: `url` as given, or a fresh embedded server deleted afterwards."""
    if url:
        with psycopg.connect(url) as conn:
            migrate(conn)
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-") as tmp:
        pgdata = Path(tmp) / "pgdata"
        dsn = embedded.ensure_server(pgdata, cleanup_mode="delete")
        url = psycopg.conninfo.make_conninfo(dsn, dbname="postgres")
        with psycopg.connect(url) as conn:
            migrate(conn)
        try:
            yield url
        finally:
            embedded.stop(pgdata)

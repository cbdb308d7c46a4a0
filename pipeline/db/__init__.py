"""The database layer: which Postgres to use, connections, migrations and named queries."""

from pipeline.db.connection import connect, database_url, redact, sibling

__all__ = ["connect", "connect_migrated", "database_url", "redact", "sibling"]


def connect_migrated(url: str | None = None):
    """A connection to a database whose schema is current (pending migrations applied first)."""
    from pipeline.db.migrate import migrate

    conn = connect(url)
    migrate(conn)
    return conn

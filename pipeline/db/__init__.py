"""The database layer: which Postgres to use, connections, migrations and named queries."""

from pipeline.db.connection import connect, database_url, redact

__all__ = ["connect", "database_url", "redact"]

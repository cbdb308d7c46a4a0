"""Keeping the `sources` table in step with the sources YAML."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg.types.json import Jsonb

from pipeline.sources.config import Source

_UPSERT_SOURCE = """
INSERT INTO sources (name, homepage, config, active)
VALUES (%(name)s, %(homepage)s, %(config)s,
        %(active)s AND NOT EXISTS (SELECT 1 FROM takedowns WHERE source = %(name)s))
ON CONFLICT (name) DO UPDATE
   SET homepage = EXCLUDED.homepage, config = EXCLUDED.config, active = EXCLUDED.active,
       updated_at = now()
 WHERE (sources.homepage, sources.config, sources.active)
       IS DISTINCT FROM (EXCLUDED.homepage, EXCLUDED.config, EXCLUDED.active)
"""


def sync_source(conn: psycopg.Connection, source: Source) -> None:
    """Insert the source's row, or update it when its homepage, config or active flag changed.
    A taken-down source (`newsdesk takedown --source`) stays inactive whatever the YAML says.

    Runs in the caller's transaction; `updated_at` moves only on a real change.
    """
    conn.execute(
        _UPSERT_SOURCE,
        {
            "name": source.name,
            "homepage": source.homepage,
            "config": Jsonb(source.model_dump(mode="json")),
            "active": source.active,
        },
    )


_DEACTIVATE_MISSING = """
UPDATE sources SET active = false, updated_at = now()
 WHERE active AND NOT (name = ANY(%s))
RETURNING name
"""


def upsert_sources(conn: psycopg.Connection, sources: Sequence[Source]) -> None:
    """Upsert each source's row in name order, the order every writer of `sources` takes its
    rows in, so that two concurrent writers never deadlock. Runs in the caller's transaction."""
    for source in sorted(sources, key=lambda s: s.name):
        sync_source(conn, source)


def sync_sources(conn: psycopg.Connection, sources: Sequence[Source]) -> list[str]:
    """Make `sources` match the whole YAML: upsert every entry, deactivate the rest.

    A source removed from the YAML is deactivated, never deleted, so its articles keep their
    source. One transaction, rows taken in name order so concurrent syncs never deadlock.
    Returns the names deactivated by this call.
    """
    with conn.transaction():
        upsert_sources(conn, sources)
        rows = conn.execute(_DEACTIVATE_MISSING, ([s.name for s in sources],)).fetchall()
    return sorted(name for (name,) in rows)

"""Keeping the `sources` table in step with the sources YAML."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from pipeline.config import Source

_UPSERT_SOURCE = """
INSERT INTO sources (name, homepage, config, active)
VALUES (%(name)s, %(homepage)s, %(config)s, %(active)s)
ON CONFLICT (name) DO UPDATE
   SET homepage = EXCLUDED.homepage, config = EXCLUDED.config, active = EXCLUDED.active,
       updated_at = now()
 WHERE (sources.homepage, sources.config, sources.active)
       IS DISTINCT FROM (EXCLUDED.homepage, EXCLUDED.config, EXCLUDED.active)
"""


def sync_source(conn: psycopg.Connection, source: Source) -> None:
    """Insert the source's row, or update it when its homepage, config or active flag changed.

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

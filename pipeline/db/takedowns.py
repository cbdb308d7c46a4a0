"""What `newsdesk takedown` keeps out: the named queries the crawl, the sync and import-warc ask.

The deleting itself is `pipeline.processing.takedown` (it recomputes stories); these are the
reads every writer of pages needs, kept in the lowest layer they all import.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

#: Why a taken-down source has no crawl: its `skipped` report's error, and the run summary's.
TAKEN_DOWN = "taken down (newsdesk takedown)"

_SOURCES = "SELECT source FROM takedowns WHERE source = ANY(%s)"
_KEYS = "SELECT url_key FROM takedowns WHERE url_key = ANY(%s)"
_ANY = "SELECT EXISTS (SELECT FROM takedowns)"


def any_taken_down(conn: psycopg.Connection) -> bool:
    """Whether anything is taken down at all (the usual answer, no, spares the lookups)."""
    return conn.execute(_ANY).fetchone()[0]


def taken_down_sources(conn: psycopg.Connection, names: Iterable[str]) -> set[str]:
    """Which of the named sources are taken down."""
    return {name for (name,) in conn.execute(_SOURCES, [list(names)]).fetchall()}


def taken_down_keys(conn: psycopg.Connection, keys: Iterable[str]) -> set[str]:
    """Which of the URL keys are taken down."""
    return {key for (key,) in conn.execute(_KEYS, [list(keys)]).fetchall()}

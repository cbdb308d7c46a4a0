"""Incremental discovery: the age cut-off, "has it changed?", and document state.

The pure functions decide, from what a feed or sitemap says about a link, whether to request it;
`SEEN_QUERY` says which links are stored, skipped or taken down already; the two queries keep
each discovery document's validators (ETag / Last-Modified) in `discovery_documents`, so the
next crawl asks for it conditionally and a 304 costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from pipeline.text.dates import parse_iso8601


def entry_date(meta: dict[str, Any]) -> datetime | None:
    """When the entry was last published or changed, by its document: the newer date it gives."""
    dates = [d for d in map(parse_iso8601, (meta.get("published"), meta.get("modified"))) if d]
    return max(dates) if dates else None


def cutoff(max_age_days: float | None, now: datetime | None = None) -> datetime | None:
    """The oldest date a source still wants, or None for no cut-off."""
    if max_age_days is None:
        return None
    return (now or datetime.now(UTC)) - timedelta(days=max_age_days)


def too_old(meta: dict[str, Any], oldest: datetime | None) -> bool:
    """True when the entry's document dates it before the cut-off (undated entries are kept)."""
    when = entry_date(meta)
    return oldest is not None and when is not None and when < oldest


def changed_since(meta: dict[str, Any], fetched_at: datetime | None) -> bool:
    """True when the feed/sitemap says the page changed after we last fetched it."""
    modified = parse_iso8601(meta.get("modified"))
    return modified is not None and fetched_at is not None and modified > fetched_at


#: The seen-check: each URL key stored (with when it was fetched), skipped for a rule the source
#: still skips (`PageSkips`; when), or taken down (`newsdesk takedown`; None). Read into a dict
#: in this order: the newest fetch of a URL comes last and wins, and a takedown wins over both.
SEEN_QUERY = """
SELECT url_key, fetched_at FROM raw_pages WHERE url_key = ANY(%(keys)s) UNION ALL
SELECT url_key, skipped_at FROM skipped_pages
 WHERE url_key = ANY(%(keys)s) AND page_rules && %(skip)s UNION ALL
SELECT url_key, NULL FROM takedowns WHERE url_key = ANY(%(keys)s)
ORDER BY 2 NULLS LAST"""


# --- discovery_documents ---------------------------------------------------------------------

_LOAD_STATE = """
SELECT url, etag, last_modified FROM discovery_documents
 WHERE source = %s AND (etag IS NOT NULL OR last_modified IS NOT NULL)
"""

_SAVE_STATE = """
INSERT INTO discovery_documents AS d (url, source, kind, etag, last_modified, last_status,
                                      entries, fetched_at, changed_at, not_modified_count)
VALUES (%(url)s, %(source)s, %(kind)s, %(etag)s, %(last_modified)s, %(status)s, %(entries)s,
        %(fetched_at)s, %(fetched_at)s, 0)
ON CONFLICT (url) DO UPDATE SET
    source = EXCLUDED.source, kind = EXCLUDED.kind, last_status = EXCLUDED.last_status,
    fetched_at = EXCLUDED.fetched_at,
    etag = CASE WHEN EXCLUDED.last_status = 304 THEN d.etag ELSE EXCLUDED.etag END,
    last_modified = CASE WHEN EXCLUDED.last_status = 304 THEN d.last_modified
                         ELSE EXCLUDED.last_modified END,
    entries = CASE WHEN EXCLUDED.last_status = 304 THEN d.entries ELSE EXCLUDED.entries END,
    changed_at = CASE WHEN EXCLUDED.last_status = 304 THEN d.changed_at
                      ELSE EXCLUDED.changed_at END,
    not_modified_count = CASE WHEN EXCLUDED.last_status = 304 THEN d.not_modified_count + 1
                              ELSE 0 END
"""


@dataclass
class DocumentState:
    """What one fetch of a discovery document leaves for the next run."""

    url: str
    kind: str
    status: int
    etag: str | None = None
    last_modified: str | None = None
    entries: int = 0
    complete: bool = True  # False: cut short by a limit, or not all it led to safe: no validators
    fetched_at: datetime | None = None

    def row(self, source: str) -> dict[str, Any]:
        full = self.complete or self.status == 304
        return {
            "url": self.url,
            "source": source,
            "kind": self.kind,
            "etag": self.etag if full else None,
            "last_modified": self.last_modified if full else None,
            "status": self.status,
            "entries": self.entries,
            "fetched_at": self.fetched_at or datetime.now(UTC),
        }


async def load_validators(
    conn: psycopg.AsyncConnection, source: str
) -> dict[str, tuple[str | None, str | None]]:
    """url -> (etag, last_modified) of the source's documents that have validators."""
    cursor = await conn.execute(_LOAD_STATE, (source,))
    return {url: (etag, modified) for url, etag, modified in await cursor.fetchall()}


async def save_states(
    conn: psycopg.AsyncConnection, source: str, states: list[DocumentState]
) -> None:
    """Upsert every document's state in one transaction (a 304 keeps the old validators)."""
    if not states:
        return
    async with conn.transaction(), conn.cursor() as cur:
        await cur.executemany(_SAVE_STATE, [s.row(source) for s in states])


def conditional_headers(validators: tuple[str | None, str | None] | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since for a document fetched before."""
    if not validators:
        return {}
    etag, modified = validators
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    return headers

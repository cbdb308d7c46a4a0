"""Deduplicating a batch of stored articles in the caller's transaction: index their keys, find
and confirm candidates, record the pairs and group the batch into stories.

Concurrency: `lock` takes one transaction-scoped advisory lock, so two processes never dedupe at
once and never build two stories for the same copies. The process stage takes it before loading
the batch, so no transaction waits for it while holding article row locks (no deadlock).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import psycopg

from pipeline.article import Article
from pipeline.dedupe import minhash
from pipeline.dedupe.config import DedupeConfig
from pipeline.dedupe.matching import Doc, confirm, index_keys, worth_confirming
from pipeline.dedupe.stories import group_into_stories, update_stories

LOCK_KEY = 0x6E65777364757065  # "newsdupe": the same in every process that dedupes


@dataclass
class DedupeStats:
    """What deduplicating found: pairs, stories made and merged, matched articles per source."""

    articles: int = 0  # articles deduplicated
    exact: int = 0  # new exact duplicate pairs
    near: int = 0  # new near-duplicate pairs
    stories_new: int = 0
    stories_merged: int = 0  # stories folded into another
    duplicates_by_source: dict[str, int] = field(default_factory=dict)  # articles that matched

    def add(self, other: DedupeStats) -> None:
        for name in ("articles", "exact", "near", "stories_new", "stories_merged"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for source, n in other.duplicates_by_source.items():
            self.duplicates_by_source[source] = self.duplicates_by_source.get(source, 0) + n


def lock(conn: psycopg.Connection) -> None:
    """Serialise dedupe across processes until the caller's transaction ends."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


_SET_PROVENANCE = """
UPDATE articles AS a
   SET provenance = d.provenance, original_url = d.original_url, credited_to = d.credited_to
  FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[])
       AS d (id, provenance, original_url, credited_to)
 WHERE a.id = d.id
   AND (a.provenance, a.original_url, a.credited_to)
       IS DISTINCT FROM (d.provenance, d.original_url, d.credited_to)
"""


def dedupe_loaded(
    conn: psycopg.Connection,
    items: Sequence[tuple[int, Article]],
    article_ids: dict[int, int],
    config: DedupeConfig | None = None,
    known_keys: dict[str, list[int]] | None = None,
) -> DedupeStats:
    """Dedupe what `load_articles` just wrote, in the caller's transaction.

    `items` are the batch's (raw_page_id, article) pairs (their extras carry the provenance
    signals); `article_ids` ({raw_page_id: article id}) holds the pages that wrote a row, from
    load_articles' result: only those are deduped.
    `known_keys` ({content_hash: index keys}) are keys already computed (by the process
    stage's workers); bodies missing from it are keyed here.
    """
    if not article_ids:
        return DedupeStats()
    lock(conn)
    extras = {page_id: article.extras for page_id, article in items if page_id in article_ids}
    ids = [article_ids[p] for p in extras]
    conn.execute(_SET_PROVENANCE, [
        ids,
        [extras[p].get("provenance") for p in extras],
        [extras[p].get("original_url") for p in extras],
        [extras[p].get("credited_to") for p in extras],
    ])
    return dedupe_articles(conn, sorted(ids), config, known_keys)


_BATCH_ROWS = """
SELECT id, source, body, content_hash, lower(coalesce(title, '')), story_id
  FROM articles WHERE id = ANY(%s)
"""

_LATEST_OLD_BODIES = """
SELECT DISTINCT ON (v.article_id) v.article_id, v.body, v.content_hash, a.content_hash
  FROM article_versions v JOIN articles a ON a.id = v.article_id
 WHERE v.article_id = ANY(%s)
 ORDER BY v.article_id, v.id DESC
"""

_DELETE_KEYS = """
DELETE FROM article_bands b
 USING unnest(%s::bigint[], %s::bigint[]) AS d (key, article_id)
 WHERE (b.key, b.article_id) = (d.key, d.article_id)
"""

_INSERT_KEYS = """
INSERT INTO article_bands (key, article_id)
SELECT * FROM unnest(%s::bigint[], %s::bigint[])
ON CONFLICT DO NOTHING
"""

# One indexed lookup per key, at most max_per_key rows each (the lowest ids: deterministic),
# each row with the key that found it; exact copies (same content hash) have no key.
_CANDIDATES = """
SELECT q.article_id, c.article_id, q.key
  FROM unnest(%(ids)s::bigint[], %(keys)s::bigint[]) AS q (article_id, key)
 CROSS JOIN LATERAL (
       SELECT b.article_id FROM article_bands b
        WHERE b.key = q.key AND b.article_id <> q.article_id
        ORDER BY b.article_id LIMIT %(limit)s) c
UNION ALL
SELECT q.id, c.id, NULL
  FROM unnest(%(batch)s::bigint[], %(content_hashes)s::text[]) AS q (id, content_hash)
 CROSS JOIN LATERAL (
       SELECT a.id FROM articles a
        WHERE a.content_hash = q.content_hash AND a.id <> q.id
        ORDER BY a.id LIMIT %(limit)s) c
"""

_INSERT_PAIRS = """
INSERT INTO duplicate_pairs (article_id, other_id, kind, jaccard, containment)
SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::real[], %s::real[])
ON CONFLICT DO NOTHING
RETURNING kind
"""


def dedupe_articles(
    conn: psycopg.Connection, ids: Sequence[int], config: DedupeConfig | None = None,
    known_keys: dict[str, list[int]] | None = None,
) -> DedupeStats:
    """Index, match and group stored articles `ids`, in the caller's transaction.

    `known_keys` maps a body's content hash to its `index_keys`, when already computed."""
    config = config or DedupeConfig.from_env()
    stats = DedupeStats(articles=len(ids))
    if not ids:
        return stats
    lock(conn)
    batch = {
        row[0]: Doc(*row) for row in conn.execute(_BATCH_ROWS, [list(ids)]).fetchall()
    }
    _drop_stale_keys(conn, [d.id for d in batch.values() if d.story_id is not None], config)

    key_rows: list[tuple[int, int]] = []
    openings: set[int] = set()
    known_keys = known_keys or {}
    for doc in batch.values():
        keys = known_keys.get(doc.content_hash)
        if keys is None:
            keys = index_keys(doc.body, config)
        key_rows += [(key, doc.id) for key in keys]
        openings.update(keys[config.bands:])
    # In index order: consecutive inserts and lookups then land on the same or neighbouring pages.
    key_rows.sort()
    keys, owners = (list(col) for col in zip(*key_rows, strict=True)) if key_rows else ([], [])
    if key_rows:
        conn.execute(_INSERT_KEYS, [keys, owners])
    found = worth_confirming(conn.execute(_CANDIDATES, {
        "ids": owners, "keys": keys, "limit": config.max_per_key,
        "batch": list(batch), "content_hashes": [d.content_hash for d in batch.values()],
    }).fetchall(), openings, config.max_per_key)

    others = {c for _, c in found if c not in batch}
    docs = dict(batch)
    if others:
        for row in conn.execute(_BATCH_ROWS, [sorted(others)]).fetchall():
            docs[row[0]] = Doc(*row)
    # Shingle sets only for the docs that must be confirmed: most articles have no candidate.
    for doc_id in {i for pair in found for i in pair}:
        doc = docs[doc_id]
        if doc.shingles is None:
            doc.shingles = frozenset(minhash.shingles(doc.body, config.shingle_size))

    pairs: dict[tuple[int, int], tuple[str, float, float]] = {}
    for probe, cand in found:
        key = (min(probe, cand), max(probe, cand))
        if key in pairs:
            continue
        verdict = confirm(docs[probe], docs[cand], config)
        if verdict:
            pairs[key] = verdict
    if pairs:
        cols = [[k[0] for k in pairs], [k[1] for k in pairs], *map(list, zip(*pairs.values(),
                                                                              strict=True))]
        for (kind,) in conn.execute(_INSERT_PAIRS, cols).fetchall():
            setattr(stats, kind, getattr(stats, kind) + 1)
    matched = {i for pair in pairs for i in pair if i in batch}
    for i in matched:
        source = batch[i].source
        stats.duplicates_by_source[source] = stats.duplicates_by_source.get(source, 0) + 1

    grouped = group_into_stories(conn, batch, {i: d.story_id for i, d in docs.items()}, pairs)
    stats.stories_new += grouped.new
    stats.stories_merged += grouped.merged
    update_stories(conn, grouped.touched)
    return stats


def _drop_stale_keys(conn: psycopg.Connection, ids: list[int], config: DedupeConfig) -> None:
    """Remove the index keys of the previous body of articles whose body just changed.

    The article_versions trigger kept that body; keys are deleted by primary key, so
    article_bands needs no index on article_id."""
    if not ids:
        return
    stale: list[tuple[int, int]] = []
    for article_id, old_body, old_hash, new_hash in conn.execute(_LATEST_OLD_BODIES, [ids]):
        if old_hash != new_hash:
            stale += [(key, article_id) for key in index_keys(old_body, config)]
    if stale:
        conn.execute(_DELETE_KEYS, [list(col) for col in zip(*stale, strict=True)])

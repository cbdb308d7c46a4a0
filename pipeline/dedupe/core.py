"""Deduplication: exact and near-duplicate articles grouped into stories, in the load transaction.

Levels (docs/dedupe.md has the reasoning and the measured figures):

1. URL: one article per canonical URL (the loader's upsert).
2. Exact: the same normalised body (`content_hash`) under another URL.
3. Near: MinHash over word shingles, LSH band keys in the indexed `article_bands` table; candidates
   come from one indexed query per batch and are confirmed on the exact shingle sets.

Confirmed pairs go to `duplicate_pairs`; connected articles share a story (`articles.story_id`).
Stories only grow or merge (the lower id survives); `rebuild` regroups everything from scratch.
A story's original is chosen from its members on every change: an explicit signal of the copies
(cross-site rel=canonical, credit line, wire byline) wins over the earliest publication.

Concurrency: `lock` takes one transaction-scoped advisory lock, so two processes never dedupe at
once and never build two stories for the same copies. The process stage takes it before loading
the batch, so no transaction waits for it while holding article row locks (no deadlock).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime

import psycopg

from pipeline.article import Article
from pipeline.dedupe import minhash
from pipeline.errors import NewsdeskError
from pipeline.extraction.provenance import WIRE_SERVICES, source_key
from pipeline.processing.store import Written
from pipeline.text.urls import registered_domain

LOCK_KEY = 0x6E65777364757065  # "newsdupe": the same in every process that dedupes


@dataclass(frozen=True)
class DedupeConfig:
    """Dedupe settings; each can be set with NEWSDESK_DEDUPE_<NAME> (docs/dedupe.md: why these).

    Changing shingle_size, bands, rows or the lead settings changes the index keys: run
    `newsdesk dedupe --rebuild` afterwards.
    """

    shingle_size: int = 5  # words per shingle
    bands: int = 24  # LSH bands ...
    rows: int = 3  # ... of this many MinHash values: 72 permutations, candidates from J ~ 0.3
    jaccard: float = 0.5  # a near-duplicate shares at least half its shingles (Jaccard) ...
    containment: float = 0.8  # ... or 80% of the smaller body is in the larger (teasers, cuts)
    containment_min_jaccard: float = 0.1  # ... and the smaller is at least a tenth of the larger
    min_shingles: int = 60  # shorter bodies only match exactly, and then only with the same title
    min_spread: float = 0.5  # the overlap must reach at least half the smaller body's paragraphs
    lead_paragraphs: int = 3  # opening keys: the first words of the first paragraphs ...
    lead_words: int = 12  # ... this many of them
    max_per_key: int = 10  # candidates read per key; a key that reaches it is common

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> DedupeConfig:
        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = env.get(f"NEWSDESK_DEDUPE_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            kind = int if f.type in ("int", int) else float
            try:
                values[f.name] = kind(raw)
            except ValueError:
                raise NewsdeskError(
                    f"NEWSDESK_DEDUPE_{f.name.upper()}: not a number: {raw!r}") from None
        config = cls(**values)
        if not (config.bands > 0 and config.rows > 0 and config.shingle_size > 0):
            raise NewsdeskError("NEWSDESK_DEDUPE_BANDS, _ROWS and _SHINGLE_SIZE must be positive")
        if config.lead_band > minhash.MAX_BANDS:
            raise NewsdeskError(f"NEWSDESK_DEDUPE_BANDS must be at most {minhash.MAX_BANDS}")
        return config

    @property
    def permutations(self) -> int:
        return self.bands * self.rows

    @property
    def lead_band(self) -> int:
        return self.bands


@dataclass
class DedupeStats:
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


# --- the process stage's entry point --------------------------------------------------------

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
    written: dict[int, Written],
    config: DedupeConfig | None = None,
    known_keys: dict[str, list[int]] | None = None,
) -> DedupeStats:
    """Dedupe what `load_articles` just wrote, in the caller's transaction.

    `items` are the batch's (raw_page_id, article) pairs (their extras carry the provenance
    signals); `written` is load_articles' result: only pages that wrote a row are deduped.
    `known_keys` ({content_hash: index keys}) are keys already computed (by the process
    stage's workers); bodies missing from it are keyed here.
    """
    if not written:
        return DedupeStats()
    lock(conn)
    extras = {page_id: article.extras for page_id, article in items if page_id in written}
    ids = [written[p].article_id for p in extras]
    conn.execute(_SET_PROVENANCE, [
        ids,
        [extras[p].get("provenance") for p in extras],
        [extras[p].get("original_url") for p in extras],
        [extras[p].get("credited_to") for p in extras],
    ])
    return dedupe_articles(conn, sorted(ids), config, known_keys)


# --- the core ----------------------------------------------------------------------------

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

_MEMBERS = """
SELECT a.story_id, a.id, a.source, a.canonical_url, a.url, a.published_at, a.provenance,
       a.original_url, a.credited_to, s.homepage
  FROM articles a LEFT JOIN sources s ON s.name = a.source
 WHERE a.story_id = ANY(%s)
"""

_UPDATE_STORIES = """
UPDATE stories AS s
   SET original_article_id = d.original, original_reason = d.reason,
       article_count = d.articles, source_count = d.sources, first_published_at = d.first,
       updated_at = now()
  FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::int[], %s::int[], %s::timestamptz[])
       AS d (id, original, reason, articles, sources, first)
 WHERE s.id = d.id
   AND (s.original_article_id, s.original_reason, s.article_count, s.source_count,
        s.first_published_at)
       IS DISTINCT FROM (d.original, d.reason, d.articles, d.sources, d.first)
"""


@dataclass
class _Doc:
    id: int
    source: str
    body: str
    content_hash: str
    title: str
    story_id: int | None
    shingles: frozenset[str] | None = None  # computed only when the doc is in a candidate pair


def index_keys(body: str, config: DedupeConfig) -> tuple[frozenset[str], list[int]]:
    """The body's shingle set and its index keys (one per band, then the openings' keys);
    no keys for a short body."""
    sh = frozenset(minhash.shingles(body, config.shingle_size))
    if len(sh) < config.min_shingles:
        return sh, []
    sig = minhash.signature(sh, config.permutations)
    keys = minhash.band_keys(sig, config.bands, config.rows)
    keys += minhash.lead_keys(body, config.lead_paragraphs, config.lead_words, config.lead_band)
    return sh, keys


def confirm(a: _Doc, b: _Doc, config: DedupeConfig) -> tuple[str, float, float] | None:
    """('exact' | 'near', jaccard, containment) when a and b are the same article, else None."""
    short = min(len(a.shingles), len(b.shingles)) < config.min_shingles
    if a.content_hash == b.content_hash:
        # A short body is often a template ("Photos: ...", a paywall stub): the same short text
        # under two URLs is one article only when the headline is the same too.
        if short and a.title != b.title:
            return None
        return "exact", 1.0, 1.0
    if short:
        return None
    sim = minhash.similarity(a.shingles, b.shingles)
    if not (sim.jaccard >= config.jaccard or (
        sim.containment >= config.containment and sim.jaccard >= config.containment_min_jaccard
    )):
        return None
    small, large = (a, b) if len(a.shingles) <= len(b.shingles) else (b, a)
    if minhash.spread(minhash.paragraph_shingles(small.body, config.shingle_size),
                      large.shingles) < config.min_spread:
        return None  # the overlap is one block: boilerplate, not a copy
    return "near", sim.jaccard, sim.containment


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
        row[0]: _Doc(*row) for row in conn.execute(_BATCH_ROWS, [list(ids)]).fetchall()
    }
    _drop_stale_keys(conn, [d.id for d in batch.values() if d.story_id is not None], config)

    key_rows: list[tuple[int, int]] = []
    openings: set[int] = set()
    known_keys = known_keys or {}
    for doc in batch.values():
        keys = known_keys.get(doc.content_hash)
        if keys is None:
            doc.shingles, keys = index_keys(doc.body, config)
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
            docs[row[0]] = _Doc(*row)
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

    touched = _group(conn, batch, docs, pairs, stats)
    update_stories(conn, touched)
    return stats


def worth_confirming(
    rows: Iterable[tuple[int, int, int | None]], openings: set[int], max_per_key: int
) -> list[tuple[int, int]]:
    """The (probe, candidate) pairs to confirm, from the candidate lookup's (probe, candidate,
    key) rows; `openings` are the probes' opening keys (the others are MinHash band keys).

    Confirming costs a body fetch and a shingle set per candidate, so a pair is confirmed only
    when the keys it shares make a copy likely:
    - an exact copy (same content hash, no key), or two shared keys or more: a copy shares about
      3 of the 24 bands at Jaccard 0.5, and its openings;
    - one shared opening (a teaser, a cut copy), unless that opening is common (its lookup hit
      `max_per_key`: a stock sentence, a newsletter box).
    A single shared band is what unrelated bodies sharing a stock phrase (a quote, a sign-off)
    have in common; a copy shares just one band and no opening in 14% of pairs at Jaccard 0.5
    and 2% at 0.6, and then usually meets its story through another member. Skipping those
    keeps the cost per article flat as the corpus, and with it the number of chance
    collisions, grows (docs/dedupe.md).
    """
    rows = list(rows)
    per_lookup = Counter((probe, key) for probe, _, key in rows if key is not None)
    shared: Counter[tuple[int, int]] = Counter()
    kept: set[tuple[int, int]] = set()
    for probe, cand, key in rows:
        if key is None:
            kept.add((probe, cand))
            continue
        shared[probe, cand] += 1
        if key in openings and per_lookup[probe, key] < max_per_key:
            kept.add((probe, cand))
    kept.update(pair for pair, n in shared.items() if n >= 2)
    return sorted(kept)


def _drop_stale_keys(conn: psycopg.Connection, ids: list[int], config: DedupeConfig) -> None:
    """Remove the index keys of the previous body of articles whose body just changed.

    The article_versions trigger kept that body; keys are deleted by primary key, so
    article_bands needs no index on article_id."""
    if not ids:
        return
    stale: list[tuple[int, int]] = []
    for article_id, old_body, old_hash, new_hash in conn.execute(_LATEST_OLD_BODIES, [ids]):
        if old_hash != new_hash:
            stale += [(key, article_id) for key in index_keys(old_body, config)[1]]
    if stale:
        conn.execute(_DELETE_KEYS, [list(col) for col in zip(*stale, strict=True)])


def _group(conn, batch: dict[int, _Doc], docs: dict[int, _Doc], pairs, stats) -> set[int]:
    """Union the batch's articles with their matches' stories; returns the stories touched."""
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(node):
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    def node(article_id: int):
        story = docs[article_id].story_id
        return ("s", story) if story is not None else ("a", article_id)

    for doc in batch.values():
        find(node(doc.id))
    for a, b in pairs:
        union(node(a), node(b))

    components: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for n in list(parent):
        components.setdefault(find(n), []).append(n)

    touched: set[int] = set()
    assign: list[tuple[int, int]] = []  # (article, story)
    storyless: list[list[int]] = []  # components that need a new story
    for members in components.values():
        stories = sorted(i for kind, i in members if kind == "s")
        articles = sorted(i for kind, i in members if kind == "a")
        if not stories:
            storyless.append(articles)
            continue
        target, merged = stories[0], stories[1:]
        if merged:
            conn.execute("UPDATE articles SET story_id = %s WHERE story_id = ANY(%s)",
                         [target, merged])
            conn.execute("DELETE FROM stories WHERE id = ANY(%s)", [merged])
            stats.stories_merged += len(merged)
        assign += [(a, target) for a in articles]
        touched.add(target)
    if storyless:
        # One statement for every new story (most articles have no copy: a story each), handed
        # out in article order so the grouping's ids are deterministic.
        new_ids = sorted(r[0] for r in conn.execute(
            "INSERT INTO stories (article_count) SELECT 1 FROM generate_series(1, %s)"
            " RETURNING id", [len(storyless)]).fetchall())
        storyless.sort()
        for story, articles in zip(new_ids, storyless, strict=True):
            assign += [(a, story) for a in articles]
        touched.update(new_ids)
        stats.stories_new += len(new_ids)
    if assign:
        conn.execute(
            "UPDATE articles AS a SET story_id = d.story"
            " FROM unnest(%s::bigint[], %s::bigint[]) AS d (id, story) WHERE a.id = d.id",
            [[a for a, _ in assign], [s for _, s in assign]])
    return touched


# --- story originals ------------------------------------------------------------------------

@dataclass(frozen=True)
class Member:
    """What choosing a story's original needs to know about one of its articles."""

    id: int
    source: str
    canonical_url: str
    url: str
    published_at: datetime | None
    provenance: str | None = None
    original_url: str | None = None
    credited_to: str | None = None
    homepage: str | None = None

    def source_keys(self) -> set[str]:
        keys = {source_key(self.source)}
        if self.homepage:
            keys.add(source_key(registered_domain(self.homepage).split(".")[0]))
            keys.add(source_key(registered_domain(self.homepage)))
        return keys - {""}

    def credit_keys(self) -> set[str]:
        if not self.credited_to:
            return set()
        name = self.credited_to.casefold().strip()
        return {source_key(name), WIRE_SERVICES.get(name, "")} - {""}


_REASON_RANK = {"rel-canonical": 0, "credit-line": 1, "wire-byline": 2}


def choose_original(members: Iterable[Member]) -> tuple[int, str]:
    """(article id, reason): the member the others' explicit signals point at, else the earliest.

    A member is pointed at when another member's declared original URL is its URL, or another
    member credits its source by name. Members that declare themselves copies come after the
    others; ties go to the earliest publication, then the lowest id (deterministic)."""
    members = list(members)
    reasons: dict[int, str] = {}
    for m in members:
        urls = {m.canonical_url, m.url}
        keys = m.source_keys()
        for x in members:
            if x.id == m.id or x.provenance is None:
                continue
            pointed = (x.original_url in urls) or (
                x.source != m.source and bool(x.credit_keys() & keys))
            if pointed and (m.id not in reasons
                            or _REASON_RANK[x.provenance] < _REASON_RANK[reasons[m.id]]):
                reasons[m.id] = x.provenance

    def is_copy(m: Member) -> bool:
        return m.provenance is not None and not (m.credit_keys() & m.source_keys())

    def rank(m: Member) -> tuple:
        when = m.published_at.timestamp() if m.published_at else float("inf")
        return (_REASON_RANK.get(reasons.get(m.id), 9), is_copy(m), when, m.id)

    best = min(members, key=rank)
    return best.id, reasons.get(best.id, "earliest")


def update_stories(conn: psycopg.Connection, story_ids: Iterable[int]) -> None:
    """Recompute original, counts and first publication of the given stories."""
    story_ids = sorted(set(story_ids))
    if not story_ids:
        return
    by_story: dict[int, list[Member]] = {}
    for story_id, *values in conn.execute(_MEMBERS, [story_ids]).fetchall():
        by_story.setdefault(story_id, []).append(Member(*values))
    cols: list[list] = [[], [], [], [], [], []]
    for story_id, members in by_story.items():
        original, reason = choose_original(members)
        dates = [m.published_at for m in members if m.published_at is not None]
        for col, value in zip(cols, (story_id, original, reason, len(members),
                                     len({m.source for m in members}),
                                     min(dates) if dates else None), strict=True):
            col.append(value)
    conn.execute(_UPDATE_STORIES, cols)


# --- maintenance ----------------------------------------------------------------------------

def pending_count(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM articles WHERE story_id IS NULL").fetchone()[0]


def dedupe_pending(
    conn: psycopg.Connection,
    config: DedupeConfig | None = None,
    batch_size: int = 500,
    on_batch=None,
) -> DedupeStats:
    """Dedupe every article without a story (rows stored before dedupe existed, or a rebuild),
    in id order, one transaction per batch."""
    config = config or DedupeConfig.from_env()
    total = DedupeStats()
    while True:
        with conn.transaction():
            lock(conn)
            ids = [r[0] for r in conn.execute(
                "SELECT id FROM articles WHERE story_id IS NULL ORDER BY id LIMIT %s",
                [batch_size])]
            if not ids:
                return total
            total.add(dedupe_articles(conn, ids, config))
        if on_batch:
            on_batch(len(ids))


def reset(conn: psycopg.Connection) -> None:
    """Forget every story, pair and index key (in one transaction); dedupe_pending rebuilds."""
    with conn.transaction():
        lock(conn)
        conn.execute("UPDATE articles SET story_id = NULL WHERE story_id IS NOT NULL")
        conn.execute("TRUNCATE article_bands, duplicate_pairs")
        conn.execute("DELETE FROM stories")

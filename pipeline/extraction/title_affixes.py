"""Per-source title furniture learning: a prefix or suffix that many of one source's titles share.

One page cannot tell a site's title furniture from its headline when the furniture is not the
site's name: "Russia hits Kyiv with ballistic missile - National", "How to help babies sleep |
Patient Education | UC Davis Health", "WATCH: Council approves budget". Many pages of one source
can: a segment that starts or ends a large share of its titles at a separator is not part of any
one headline.

How: after each process run, for every source that had pages processed, the stored titles of its
most recent articles (the same sample and thresholds as `boilerplate`) are cut at every
separator; a suffix (from a separator to the end) or prefix (from the start to a separator) found
in at least `MIN_SHARE` of them, and in at least `MIN_PAGES`, is stored in `source_title_affixes`
and removed from those stored titles. The next run hands each worker its source's affixes, and
the extractor removes them from every title candidate (`pipeline.extraction.titles.strip_learned`).
Learned affixes stay until deleted by hand, like learned boilerplate lines.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

from pipeline.extraction.boilerplate import (
    MIN_PAGES,
    MIN_SHARE,
    SAMPLE,
    recurrence_threshold,
    refresh_each,
    sample_recent,
)
from pipeline.extraction.titles import strip_learned

# Where a suffix may start: a spaced separator, or an unspaced bar or full-width colon (CJK).
_SUFFIX_START = re.compile(r"\s+[|\-\u2013\u2014·•»~/]\s+|\s*[|\uff5c\u3163\uff1a]\s*")
# Where a prefix may end: the same, or a colon ("WATCH: ", "Opinion: ").
_PREFIX_END = re.compile(r"\s+[|\-\u2013\u2014·•»~/]\s+|:\s+|\s*[|\uff5c\u3163\uff1a]\s*")

Affixes = tuple[tuple[str, str], ...]  # (("prefix" | "suffix", text), ...), longest first


def common_affixes(titles: list[str], threshold: int) -> Counter[tuple[str, str]]:
    """The (position, affix) pairs that at least `threshold` of `titles` carry, with their
    counts. An affix has two letters or more besides its separator, and is never a whole title."""
    counts: Counter[tuple[str, str]] = Counter()
    for title in titles:
        found = {("suffix", title[m.start():]) for m in _SUFFIX_START.finditer(title)
                 if m.start() > 0}
        found |= {("prefix", title[:m.end()]) for m in _PREFIX_END.finditer(title)
                  if m.end() < len(title)}
        counts.update(pair for pair in found if sum(c.isalpha() for c in pair[1]) >= 2)
    return Counter({pair: n for pair, n in counts.items() if n >= threshold})


def _ordered(pairs: Iterable[tuple[str, str]]) -> Affixes:
    # Longest first: " | Patient Education | UC Davis Health" goes before " | UC Davis Health".
    return tuple(sorted(pairs, key=lambda pair: (-len(pair[1]), pair)))


def load(conn: psycopg.Connection, sources: Iterable[str] | None = None) -> dict[str, Affixes]:
    """{source: learned affixes}, for the given sources (all when None)."""
    names = list(sources) if sources is not None else None
    rows = conn.execute(
        "SELECT source, position, affix FROM source_title_affixes"
        " WHERE %(names)s::text[] IS NULL OR source = ANY(%(names)s)",
        {"names": names},
    ).fetchall()
    conn.commit()
    learned: dict[str, list[tuple[str, str]]] = {}
    for source, position, affix in rows:
        learned.setdefault(source, []).append((position, affix))
    return {source: _ordered(pairs) for source, pairs in learned.items()}


@dataclass
class Learned:
    source: str
    sample: int = 0  # titles counted
    new_affixes: int = 0  # affixes learned for the first time by this refresh
    cleaned: int = 0  # stored articles whose title lost an affix


def learn(conn: psycopg.Connection, source: str, *, sample: int = SAMPLE,
          min_share: float = MIN_SHARE, min_pages: int = MIN_PAGES) -> Learned:
    """Count the source's recent titles, store shared affixes, strip them from those titles.

    One transaction: the learned affixes and the cleaned titles commit together.
    """
    result = Learned(source)
    with conn.transaction():
        rows = sample_recent(conn, source, "title", sample)
        result.sample = len(rows)
        threshold = recurrence_threshold(len(rows), min_share, min_pages)
        if threshold is None:
            return result
        found = common_affixes([title for _, title in rows], threshold)
        if found:
            cur = conn.execute(
                """INSERT INTO source_title_affixes AS t (source, position, affix, pages, sample)
                   SELECT %s, p, a, n, %s
                     FROM unnest(%s::text[], %s::text[], %s::int[]) AS u (p, a, n)
                   ON CONFLICT (source, position, affix) DO UPDATE
                      SET pages = EXCLUDED.pages, sample = EXCLUDED.sample, last_seen_at = now()
                   RETURNING (t.xmax = 0)""",
                (source, len(rows), [p for p, _ in found], [a for _, a in found],
                 list(found.values())),
            )
            result.new_affixes = sum(1 for (inserted,) in cur.fetchall() if inserted)
        affixes = load_one(conn, source)
        updates = [(stripped, article_id) for article_id, title in rows
                   if (stripped := strip_learned(title, affixes)) != title]
        if updates:
            with conn.cursor() as cur:
                cur.executemany(
                    "UPDATE articles SET title = %s, updated_at = now() WHERE id = %s", updates)
        result.cleaned = len(updates)
    return result


def load_one(conn: psycopg.Connection, source: str) -> Affixes:
    rows = conn.execute("SELECT position, affix FROM source_title_affixes WHERE source = %s",
                        (source,)).fetchall()
    return _ordered((position, affix) for position, affix in rows)


def refresh(conn: psycopg.Connection, sources: Iterable[str]) -> list[Learned]:
    """`learn` for each source (see `pipeline.extraction.boilerplate.refresh_each`)."""
    return refresh_each(conn, sources, learn, "title affixes")

"""Per-source boilerplate learning: body lines that recur across many pages of one source.

trafilatura removes most page furniture, but not the lines a site puts inside or right after its
article container on every page ("Exit mobile version", "Sign up for our morning briefing",
"© 2026 Daily Planet Media"). A pipeline that sees many pages of one source can: a line found in
a large share of the source's recent articles is not part of any one story.

How: after each process run, for every source that had pages processed, the lines of its most
recent `SAMPLE` stored bodies are counted (one count per article, lines compared after NFKC,
case-folding and whitespace folding); a line in at least `MIN_SHARE` of them (and in at least
`MIN_PAGES`) is stored in `source_boilerplate` and removed from those stored bodies. The next run
hands each worker its source's learned lines, and the extractor drops them from new bodies.
Learned lines stay until deleted by hand (`DELETE FROM source_boilerplate WHERE ...`):
once removed from the bodies they can no longer be counted there.
"""

from __future__ import annotations

import hashlib
import math
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import psycopg
from psycopg import sql

from pipeline.text.cleaning import content_hash, word_count

SAMPLE = 200  # most recent articles of a source that are counted
MIN_SAMPLE = 10  # fewer stored articles than this: too few to tell furniture from news
MIN_PAGES = 5
MIN_SHARE = 0.3

T = TypeVar("T")


def line_key(line: str) -> str:
    """The compare key of a body line: NFKC, case-folded, whitespace-folded, hashed."""
    folded = " ".join(unicodedata.normalize("NFKC", line).casefold().split())
    return hashlib.blake2b(folded.encode("utf-8"), digest_size=8).hexdigest()


def strip_lines(body: str, keys: frozenset[str] | set[str]) -> tuple[str, int]:
    """`body` without the lines whose key is in `keys`, and how many lines went. A body that
    would be left empty is returned whole: then the learned lines are the page, not furniture."""
    if not keys or not body:
        return body, 0
    kept = [line for line in body.split("\n") if line_key(line) not in keys]
    removed = body.count("\n") + 1 - len(kept)
    if not removed or not kept:
        return body, 0
    return "\n".join(kept), removed


def load(conn: psycopg.Connection, sources: Iterable[str] | None = None
         ) -> dict[str, frozenset[str]]:
    """{source: learned line keys}, for the given sources (all when None)."""
    names = list(sources) if sources is not None else None
    rows = conn.execute(
        "SELECT source, line_key FROM source_boilerplate"
        " WHERE %(names)s::text[] IS NULL OR source = ANY(%(names)s)",
        {"names": names},
    ).fetchall()
    conn.commit()
    learned: dict[str, set[str]] = {}
    for source, key in rows:
        learned.setdefault(source, set()).add(key)
    return {source: frozenset(keys) for source, keys in learned.items()}


@dataclass
class Learned:
    source: str
    sample: int = 0  # articles counted
    new_lines: int = 0  # lines learned for the first time by this refresh
    cleaned: int = 0  # stored articles whose body lost learned lines


def learn(conn: psycopg.Connection, source: str, *, sample: int = SAMPLE,
          min_share: float = MIN_SHARE, min_pages: int = MIN_PAGES) -> Learned:
    """Count the source's recent bodies, store recurring lines, strip them from those bodies.

    One transaction: the learned lines and the cleaned bodies commit together.
    """
    result = Learned(source)
    with conn.transaction():
        rows = sample_recent(conn, source, "body", sample)
        result.sample = len(rows)
        threshold = recurrence_threshold(len(rows), min_share, min_pages)
        if threshold is None:
            return result
        counts: Counter[str] = Counter()
        example: dict[str, str] = {}
        for _, body in rows:
            keys = {}
            for line in body.split("\n"):
                keys.setdefault(line_key(line), line)
            counts.update(keys.keys())
            for key, line in keys.items():
                example.setdefault(key, line)
        recurring = {key: n for key, n in counts.items() if n >= threshold}
        if recurring:
            cur = conn.execute(
                """INSERT INTO source_boilerplate AS b (source, line_key, line, pages, sample)
                   SELECT %s, k, l, p, %s
                     FROM unnest(%s::text[], %s::text[], %s::int[]) AS t (k, l, p)
                   ON CONFLICT (source, line_key) DO UPDATE
                      SET pages = EXCLUDED.pages, sample = EXCLUDED.sample, last_seen_at = now()
                   RETURNING (b.xmax = 0)""",
                (source, len(rows), list(recurring), [example[k][:2000] for k in recurring],
                 list(recurring.values())),
            )
            result.new_lines = sum(1 for (inserted,) in cur.fetchall() if inserted)
        keys = load_one(conn, source) | set(recurring)
        updates = []
        for article_id, body in rows:
            stripped, removed = strip_lines(body, keys)
            if removed:
                updates.append((stripped, word_count(stripped), content_hash(stripped),
                                article_id))
        if updates:
            with conn.cursor() as cur:
                cur.executemany(
                    "UPDATE articles SET body = %s, word_count = %s, content_hash = %s,"
                    " updated_at = now() WHERE id = %s",
                    updates,
                )
        result.cleaned = len(updates)
    return result


def load_one(conn: psycopg.Connection, source: str) -> set[str]:
    rows = conn.execute("SELECT line_key FROM source_boilerplate WHERE source = %s",
                        (source,)).fetchall()
    return {key for (key,) in rows}


def refresh(conn: psycopg.Connection, sources: Iterable[str]) -> list[Learned]:
    """`learn` for each source (see `refresh_each`)."""
    return refresh_each(conn, sources, learn, "boilerplate")


# --- shared with title_affixes: what one source repeats across its recent articles ---

def sample_recent(conn: psycopg.Connection, source: str, column: str,
                  sample: int) -> list[tuple[int, str]]:
    """(id, `column`) of the source's `sample` most recently fetched articles."""
    query = sql.SQL(
        "SELECT id, {column} FROM articles WHERE source = %s AND {column} IS NOT NULL"
        " ORDER BY fetched_at DESC, id DESC LIMIT %s"
    ).format(column=sql.Identifier(column))
    return conn.execute(query, (source, sample)).fetchall()


def recurrence_threshold(sampled: int, min_share: float, min_pages: int) -> int | None:
    """In how many of `sampled` articles something must recur to be furniture; None when too
    few were sampled to tell furniture from news."""
    if sampled < MIN_SAMPLE:
        return None
    return max(min_pages, math.ceil(min_share * sampled))


def refresh_each(conn: psycopg.Connection, sources: Iterable[str],
                 learn_one: Callable[[psycopg.Connection, str], T], what: str) -> list[T]:
    """`learn_one` for each source; a source that cannot be learned from is skipped (with one
    line on stderr naming `what` and the source), never failing the run that stored its
    articles."""
    done = []
    for name in sources:
        try:
            done.append(learn_one(conn, name))
        except (psycopg.Error, ValueError) as exc:
            print(f"{what}: {name}: not refreshed: {exc}".splitlines()[0], file=sys.stderr)
    return done

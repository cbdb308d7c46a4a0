"""Stories: articles connected by confirmed pairs share one, and each story's original is chosen
from its members (an explicit signal of the copies wins over the earliest publication).

Stories only grow or merge (the lower id survives); `backlog.reset` and a rebuild regroup
everything from scratch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import psycopg

from pipeline.extraction.provenance import WIRE_SERVICES, source_key
from pipeline.text.urls import registered_domain

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


class Grouped(NamedTuple):
    """What grouping changed: the stories to recompute, and how many were made and merged."""

    touched: set[int]
    new: int
    merged: int


def group_into_stories(
    conn: psycopg.Connection, batch: Iterable[int], story_of: dict[int, int | None],
    pairs: Iterable[tuple[int, int]],
) -> Grouped:
    """Union the `batch` articles with their matches' stories (`pairs` of article ids; each
    article's current story in `story_of`) and store the result, in the caller's transaction."""
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
        story = story_of[article_id]
        return ("s", story) if story is not None else ("a", article_id)

    for article_id in batch:
        find(node(article_id))
    for a, b in pairs:
        union(node(a), node(b))

    components: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for n in list(parent):
        components.setdefault(find(n), []).append(n)

    touched: set[int] = set()
    new = merged_count = 0
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
            merged_count += len(merged)
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
        new = len(new_ids)
    if assign:
        conn.execute(
            "UPDATE articles AS a SET story_id = d.story"
            " FROM unnest(%s::bigint[], %s::bigint[]) AS d (id, story) WHERE a.id = d.id",
            [[a for a, _ in assign], [s for _, s in assign]])
    return Grouped(touched, new, merged_count)


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


def stories_with_copies(conn: psycopg.Connection) -> tuple[int, int]:
    """(stories of more than one article, articles in them): how much of the corpus is copies."""
    return conn.execute(
        "SELECT count(*), coalesce(sum(article_count), 0) FROM stories"
        " WHERE article_count > 1").fetchone()

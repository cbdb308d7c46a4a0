"""Helpers for the dedupe tests and benchmarks: store articles the way the process stage does."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

import psycopg

from pipeline.article import Article
from pipeline.dedupe.batch import DedupeStats, dedupe_loaded, lock
from pipeline.demo_site.dupes import SOURCES, EvalItem
from pipeline.processing.store import load_articles
from pipeline.text.cleaning import content_hash, word_count

FETCHED = datetime(2026, 3, 15, 13, 0, tzinfo=UTC)


def add_sources(conn: psycopg.Connection, names: Iterable[str] = SOURCES) -> None:
    for name in names:
        conn.execute(
            "INSERT INTO sources (name, homepage, config) VALUES (%s, %s, '{}')"
            " ON CONFLICT DO NOTHING",
            [name, f"https://{name}.example/"],
        )
    conn.commit()


def article(url: str, body: str, *, source: str = "dailyplanet", title: str = "A headline",
            published_at: datetime | None = None, fetched_at: datetime = FETCHED,
            extras: dict | None = None, authors: Iterable[str] = ()) -> Article:
    return Article(
        url=url, canonical_url=url, source=source, title=title, description=None,
        authors=list(authors), published_at=published_at, modified_at=None, date_source=None,
        language="en", section=None, tags=[], image_url=None, body=body,
        word_count=word_count(body), is_paywalled=False, content_hash=content_hash(body),
        fetched_at=fetched_at, extractor_version="test", extras=dict(extras or {}),
    )


def from_item(item: EvalItem) -> Article:
    return article(item.url, item.body, source=item.source, title=item.title,
                   published_at=item.published_at, authors=item.authors)


def _raw_page(conn: psycopg.Connection, art: Article) -> int:
    html = f"<html><body>{art.url}</body></html>".encode()
    return conn.execute(
        """INSERT INTO raw_pages (source, url, url_key, final_url, status, html_gz,
                                  content_sha256, discovered_via, fetched_at)
           VALUES (%(url)s, %(fetch)s, %(fetch)s, %(final)s, 200, %(html)s, %(sha)s, 'import',
                   %(at)s)
           ON CONFLICT (url_key) DO UPDATE SET fetched_at = EXCLUDED.fetched_at
           RETURNING id""",
        {"url": art.source, "fetch": art.url + f"#{art.fetched_at.timestamp()}",
         "final": art.url, "html": gzip.compress(html), "sha": hashlib.sha256(html).digest(),
         "at": art.fetched_at},
    ).fetchone()[0]


def store(conn: psycopg.Connection, articles: Iterable[Article]) -> DedupeStats:
    """Load and dedupe one batch in one transaction, as the process stage does."""
    with conn.transaction():
        lock(conn)
        items = [(_raw_page(conn, a), a) for a in articles]
        written = load_articles(conn, items)
        return dedupe_loaded(conn, items, {p: w.article_id for p, w in written.items()})


def story_of(conn: psycopg.Connection) -> dict[str, int]:
    """{canonical_url: story_id}"""
    return dict(conn.execute("SELECT canonical_url, story_id FROM articles").fetchall())


def partition(conn: psycopg.Connection) -> set[frozenset[str]]:
    """The grouping as a set of sets of canonical URLs (independent of story ids)."""
    groups: dict[int, set[str]] = {}
    for url, story in story_of(conn).items():
        groups.setdefault(story, set()).add(url)
    return {frozenset(g) for g in groups.values()}

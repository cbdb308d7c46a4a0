"""The loader builds each article's search vector in its upsert (migration 0016, issue 22): a
stored article is searchable at once, its vector follows its text, and a change of text by any
other writer still leaves it pending for `newsdesk_index_search()`."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from pipeline.outputs.search import count_unindexed, index_pending, search
from tests.dedupe_helpers import FETCHED, add_sources, article, store

BODY = "The harbour council delayed its budget vote after engineers warned about the sea wall."
_DOCUMENT_IS_CURRENT = """
SELECT search_vector = newsdesk_search_document(language, title, description, body)
  FROM articles WHERE canonical_url = %s"""
URL = "https://dailyplanet.example/harbour"


@pytest.fixture
def conn(db_url):
    with psycopg.connect(db_url) as conn:
        add_sources(conn)
        yield conn


def test_a_stored_article_is_indexed_by_the_load_itself(conn):
    store(conn, [article(URL, BODY, title="Harbour budget vote delayed")])
    assert count_unindexed(conn) == 0
    assert conn.execute(_DOCUMENT_IS_CURRENT, [URL]).fetchone() == (True,)
    assert [h.canonical_url for h in search(conn, "engineers")] == [URL]


def test_a_refetched_article_is_indexed_by_its_new_text_in_the_same_write(conn):
    store(conn, [article(URL, BODY)])
    store(conn, [article(URL, BODY + " Lighthouse keepers object.",
                         fetched_at=FETCHED + timedelta(hours=1))])
    assert count_unindexed(conn) == 0
    assert conn.execute(_DOCUMENT_IS_CURRENT, [URL]).fetchone() == (True,)
    assert [h.canonical_url for h in search(conn, "lighthouse")] == [URL]


def test_another_writer_changing_the_text_leaves_the_article_pending(conn, db_url):
    store(conn, [article(URL, BODY)])
    conn.execute("UPDATE articles SET title = 'Zyxwv marmalade' WHERE canonical_url = %s",
                 [URL])
    conn.commit()
    assert count_unindexed(conn) == 1
    assert index_pending(db_url, workers=1) == 1
    assert conn.execute(_DOCUMENT_IS_CURRENT, [URL]).fetchone() == (True,)
    assert [h.canonical_url for h in search(conn, "marmalade")] == [URL]

"""Full-text search after a demo run: a headline's words find that article first."""

from __future__ import annotations

import psycopg
import pytest

from pipeline.outputs.search import count_unindexed, index_pending, search
from tests.cli import newsdesk
from tests.test_views import demo_run, truth_by_key

__all__ = ["demo_run"]


def _headline_cases(site, n: int = 12):
    """(stored key, headline) for originals whose headline no other article shares."""
    truth = truth_by_key(site)
    copied = {t.copy_of for t in truth.values() if t.copy_of}
    titles = [t.title.lower() for t in truth.values()]
    cases = [
        (key, t.title) for key, t in sorted(truth.items())
        if not t.copy_of and t.canonical_url not in copied and titles.count(t.title.lower()) == 1
    ]
    assert len(cases) >= n
    return cases[:: max(1, len(cases) // n)][:n]


def _check_headlines_rank_first(url, site):
    with psycopg.connect(url) as conn:
        for key, title in _headline_cases(site):
            hits = search(conn, title, limit=5)
            assert hits and hits[0].canonical_url == key, (title, [h.title for h in hits])
            assert hits[0].snippet


def _forget_index(url: str) -> int:
    """Make every article pending for search again, as the loader leaves new ones."""
    with psycopg.connect(url) as conn:
        return conn.execute("UPDATE articles SET search_vector = NULL").rowcount


@pytest.mark.slow
def test_headline_finds_its_article_first_before_indexing(demo_run):
    url, site, _ = demo_run
    _forget_index(url)
    with psycopg.connect(url) as conn:
        assert count_unindexed(conn) > 0
    _check_headlines_rank_first(url, site)


@pytest.mark.slow
def test_headline_finds_its_article_first_after_indexing(demo_run):
    url, site, _ = demo_run
    total = _forget_index(url)
    assert index_pending(url, workers=2) == total
    with psycopg.connect(url) as conn:
        assert count_unindexed(conn) == 0
        # the GIN index can serve the query (the demo table is too small for the planner to
        # prefer it unprompted)
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT id FROM articles WHERE search_vector @@ newsdesk_tsquery('rocade')"))
    assert "articles_search" in plan, plan
    _check_headlines_rank_first(url, site)


@pytest.mark.slow
def test_stemming_follows_the_article_language(demo_run):
    url, _, _ = demo_run
    with psycopg.connect(url) as conn:
        # "targeting" stems to "target" in English; "gouvernements" to "gouvern" in French
        en = search(conn, "targeting", limit=100)
        fr = search(conn, "gouvernements", limit=100)
    assert en and {h.language for h in en} == {"en"}
    assert fr and {h.language for h in fr} == {"fr"}


@pytest.mark.slow
def test_edited_article_is_searched_by_its_new_text(demo_run):
    url, _, _ = demo_run
    with psycopg.connect(url) as conn:
        article_id = conn.execute("SELECT min(id) FROM articles").fetchone()[0]
        conn.execute("UPDATE articles SET title = 'Zyxwv quantum marmalade' WHERE id = %s",
                     [article_id])
        assert [h.article_id for h in search(conn, "marmalade zyxwv")] == [article_id]
        conn.rollback()


@pytest.mark.slow
def test_cli_search_prints_ranked_hits_and_filters(demo_run):
    url, site, _ = demo_run
    key, title = _headline_cases(site)[0]
    source = truth_by_key(site)[key].publisher
    env = {"NEWSDESK_DATABASE_URL": url}
    result = newsdesk("search", title, "--limit", "3", env=env)
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()
    first_row = next(line for line in rows if line.strip(" │").startswith("1"))
    assert source in first_row
    other = next(p.name for p in site.publishers if p.name != source)
    filtered = newsdesk("search", title, "--source", other, "--limit", "50", env=env)
    assert filtered.returncode == 0 and source not in filtered.stdout
    future = newsdesk("search", title, "--since", "2099-01-01", env=env)
    assert future.returncode == 0 and "no hits" in future.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--source", "nosuch"], "unknown source 'nosuch'"),
        ([], "give a query, or --index to index pending articles"),
    ],
)
def test_cli_search_user_errors_are_one_line(db_url, args, message):
    result = newsdesk("search", *args)
    assert result.returncode == 1
    assert result.stderr.strip() == f"newsdesk search: error: {message}"

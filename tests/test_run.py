"""`newsdesk run` end to end: the demo site crawled, extracted and stored twice, no duplicates."""

from __future__ import annotations

import psycopg
import pytest

from pipeline.demo_site import DemoSite, serve_demo_site
from tests.cli import newsdesk


@pytest.fixture(scope="module")
def demo_site():
    with serve_demo_site(DemoSite(seed=11, n_articles=150)) as running:
        yield running


@pytest.fixture
def demo_sources(demo_site, tmp_path):
    path = tmp_path / "demo-sources.yaml"
    path.write_text(demo_site.sources_yaml())
    return path


@pytest.mark.slow
def test_run_twice_stores_every_article_once(db_url, demo_site, demo_sources):
    first = newsdesk("run", "--sources", str(demo_sources), "--no-delay")
    assert first.returncode == 0, first.stderr
    # A syndicated copy points its rel=canonical at another site; newsdesk keeps it as an
    # article of its own (identity stays on the source's site) for dedupe to group later.
    truth = {t.url if t.copy_of else t.canonical_url: t for t in demo_site.truth()}
    with psycopg.connect(db_url) as conn:
        stored = dict(conn.execute("SELECT canonical_url, source FROM articles").fetchall())
        runs = conn.execute(
            "SELECT source, status, pages_fetched, articles_new FROM crawl_runs ORDER BY source"
        ).fetchall()
        unindexed = conn.execute(
            "SELECT count(*) FROM articles WHERE search_vector IS NULL"
        ).fetchone()[0]
    assert unindexed == 0  # the run indexes for search what it loaded
    assert set(stored) == set(truth)
    assert all(stored[url] == t.publisher for url, t in truth.items())
    assert {source for source, *_ in runs} == {p.name for p in demo_site.publishers}
    assert all(status == "success" and fetched > 0 and new > 0 for _, status, fetched, new in runs)
    for publisher in demo_site.publishers:
        assert publisher.name in first.stdout  # the summary table has a row per source

    second = newsdesk("run", "--sources", str(demo_sources), "--no-delay")
    assert second.returncode == 0, second.stderr
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == len(truth)
        new_pages, new_articles = conn.execute(
            """SELECT sum(pages_fetched), sum(articles_new) FROM crawl_runs
                WHERE run_key = (SELECT max(run_key) FROM crawl_runs)"""
        ).fetchone()
    assert (new_pages, new_articles) == (0, 0)


@pytest.mark.slow
def test_run_selects_one_source_and_limits_it(db_url, demo_site, demo_sources):
    name = demo_site.publishers[2].name
    result = newsdesk("run", "--sources", str(demo_sources), "--no-delay", "--source", name,
                      "--limit", "7")
    assert result.returncode == 0, result.stderr
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT source, count(*) FROM articles GROUP BY source").fetchall()
    assert rows == [(name, 7)]


def test_unknown_source_is_one_clear_line(db_url, demo_sources):
    result = newsdesk("run", "--sources", str(demo_sources), "--source", "nosuchsource")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "unknown source 'nosuchsource'" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_sources_file_names_the_file(db_url, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - name: x\n    homepage: https://x.org/\n    feeds: [not-a-url]\n")
    result = newsdesk("run", "--sources", str(bad))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"newsdesk run: error: {bad}: source 'x': feeds[0]: not an http(s) URL"
    )


def test_unreachable_database_fails_before_crawling(demo_sources, monkeypatch):
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", "postgresql://u:pw@127.0.0.1:9/none")
    result = newsdesk("run", "--sources", str(demo_sources), "--no-delay")
    assert result.returncode == 1
    assert result.stderr.startswith("newsdesk run: error: cannot connect to the database")
    assert "crawling" not in result.stderr and ":pw@" not in result.stderr

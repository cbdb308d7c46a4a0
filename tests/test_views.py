"""The analyst views after a demo run, checked against the demo site's ground truth."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from pipeline.demo_site import DemoSite, serve_demo_site
from tests.cli import newsdesk
from tests.conftest import _with_dbname
from tests.repo import REPO_ROOT


@contextlib.contextmanager
def demo_database(pg_server_url: str, template_db: str, home: Path, site: DemoSite):
    """(database URL, running demo site, sources file): `newsdesk run` over the served `site`
    into a fresh database, dropped afterwards."""
    name = f"newsdesk_demo_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template_db)))
    url = _with_dbname(pg_server_url, name)
    try:
        with serve_demo_site(site) as running:
            sources = home / "demo-sources.yaml"
            sources.write_text(running.sources_yaml())
            result = subprocess.run(
                [sys.executable, "-m", "pipeline.cli", "run", "--sources", str(sources),
                 "--no-delay"],
                cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                env={**os.environ, "NEWSDESK_DATABASE_URL": url, "NEWSDESK_HOME": str(home)},
            )
            assert result.returncode == 0, result.stderr
            yield url, running, sources
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


@pytest.fixture(scope="module")
def demo_run(pg_server_url, template_db, tmp_path_factory):
    """One demo run (see demo_database), shared by a module's tests.

    Module-scoped because a crawl takes seconds; tests using it only read (or copy) the data.
    """
    site = DemoSite(seed=5, n_articles=90)
    with demo_database(pg_server_url, template_db, tmp_path_factory.mktemp("home"), site) as run:
        yield run


def truth_by_key(site) -> dict:
    """Ground truth keyed as newsdesk stores it (a syndicated copy keeps its own URL)."""
    return {t.url if t.copy_of else t.canonical_url: t for t in site.truth()}


@pytest.mark.slow
def test_v_articles_is_every_article_with_its_true_fields(demo_run):
    url, site, _ = demo_run
    truth = truth_by_key(site)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """SELECT canonical_url, source, source_homepage, title, published_at, published_date,
                      language, authors FROM v_articles"""
        ).fetchall()
    assert {r[0] for r in rows} == set(truth)
    for key, source, homepage, title, published_at, day, language, authors in rows:
        t = truth[key]
        assert (source, title, published_at, language, tuple(authors)) == (
            t.publisher, t.title, t.published_at, t.language, t.authors
        ), key
        assert homepage.startswith(site.bases[source])
        assert day == t.published_at.date()  # the publisher's calendar day


@pytest.mark.slow
def test_v_articles_gives_each_article_its_story(demo_run):
    """A syndicated copy shares its original's story; every other article is a story of one."""
    url, site, _ = demo_run
    truth = truth_by_key(site)
    copies = Counter(t.copy_of for t in truth.values() if t.copy_of)
    assert copies, "the demo site should syndicate at least one article"
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """SELECT canonical_url, id, story_id, story_original_id, story_relation,
                      story_article_count, story_source_count, provenance FROM v_articles"""
        ).fetchall()
    by_key = {r[0]: r[1:] for r in rows}
    for key, t in truth.items():
        article_id, story, original_id, relation, n_articles, n_sources, provenance = by_key[key]
        if t.copy_of:
            original_article_id, original_story, *_ = by_key[t.copy_of]
            assert (story, original_id) == (original_story, original_article_id), key
            assert relation in ("exact", "near") and provenance == "rel-canonical", key
            assert (n_articles, n_sources) == (copies[t.copy_of] + 1, 2), key
        else:
            spread = copies[key]
            assert (original_id, relation, provenance) == (article_id, "original", None), key
            assert (n_articles, n_sources) == (spread + 1, 2 if spread else 1), key
    assert len({story for _, story, *_ in by_key.values()}) == len(truth) - copies.total()


@pytest.mark.slow
def test_v_daily_counts_match_the_ground_truth(demo_run):
    """Counted on the publisher's calendar day; the deprecated compat view on the UTC day."""
    url, site, _ = demo_run
    truths = truth_by_key(site).values()
    by_view = {
        "v_daily_counts": Counter(
            (t.published_at.date(), t.publisher, t.language) for t in truths),
        "v_daily_counts_utc_days": Counter(
            (t.published_at.astimezone(UTC).date(), t.publisher, t.language) for t in truths),
    }
    assert by_view["v_daily_counts"] != by_view["v_daily_counts_utc_days"]  # the test can tell
    with psycopg.connect(url) as conn:
        for view, expected in by_view.items():
            rows = conn.execute(
                sql.SQL("SELECT day, source, language, articles FROM {}").format(
                    sql.Identifier(view))).fetchall()
            assert {(d, s, lang): n for d, s, lang, n in rows} == dict(expected), view


@pytest.mark.slow
def test_v_source_health_after_a_good_run(demo_run):
    url, site, _ = demo_run
    per_source = Counter(t.publisher for t in truth_by_key(site).values())
    with psycopg.connect(url) as conn:
        conn.row_factory = psycopg.rows.dict_row
        rows = {r["source"]: r for r in conn.execute("SELECT * FROM v_source_health")}
    assert set(rows) == set(per_source)
    for name, row in rows.items():
        assert row["last_run_status"] == "success" and row["last_success_at"] is not None
        assert row["articles_total"] == row["articles_7d"] == per_source[name]
        assert row["days_since_new_article"] == 0
        assert row["runs_7d"] == 1 and row["requests_7d"] > row["pages_fetched_7d"] > 0
        assert row["blocked_7d"] == 0
        # the demo's traps: a withdrawn story (404) and a live-blog shell with no body
        assert row["error_rate_7d"] < 0.1 and row["extract_error_rate_7d"] < 0.1


@pytest.mark.slow
def test_v_field_completeness_and_v_source_daily(demo_run):
    url, site, _ = demo_run
    per_source = Counter(t.publisher for t in truth_by_key(site).values())
    with psycopg.connect(url) as conn:
        completeness = conn.execute(
            """SELECT source, sum(articles), sum(with_title), sum(with_published_at),
                      sum(with_authors), sum(with_language) FROM v_field_completeness
                GROUP BY source"""
        ).fetchall()
        daily = conn.execute(
            "SELECT source, sum(runs), sum(articles_new) FROM v_source_daily GROUP BY source"
        ).fetchall()
    assert {s: tuple(rest) for s, *rest in completeness} == {
        s: (n, n, n, n, n) for s, n in per_source.items()
    }
    assert {s: (runs, new) for s, runs, new in daily} == {s: (1, n) for s, n in per_source.items()}


def test_grant_analyst_role_reads_everything_and_writes_nothing(db_url):
    role = f"Analyst {uuid.uuid4().hex[:6]}"  # a space and capitals: identifiers are quoted
    first = newsdesk("db", "grant-analyst", role)
    second = newsdesk("db", "grant-analyst", role, "--login")
    try:
        assert first.returncode == 0, first.stderr
        assert "created read-only role" in first.stdout
        assert second.returncode == 0 and f"updated role {role!r}" in second.stdout
        with psycopg.connect(db_url, autocommit=True) as conn:
            assert conn.execute(
                "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", [role]).fetchone() == (True,)
            conn.execute(
                "INSERT INTO sources (name, homepage, config) VALUES ('s', 'https://s/', '{}')"
            )
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
            for relation in ("articles", "raw_pages", "crawl_runs", "sources", "v_articles",
                             "v_daily_counts", "v_source_health", "v_field_completeness",
                             "v_source_daily"):
                conn.execute(sql.SQL("SELECT * FROM {} LIMIT 1").format(sql.Identifier(relation)))
            conn.execute("SELECT * FROM search_articles('anything')").fetchall()
            for statement in (
                "INSERT INTO sources (name, homepage, config) VALUES ('x', 'https://x/', '{}')",
                "UPDATE sources SET active = false",
                "DELETE FROM sources",
                "TRUNCATE crawl_runs CASCADE",
                "CREATE TABLE mine (id int)",
                "CREATE VIEW mine AS SELECT 1",
                "ALTER TABLE articles ADD COLUMN x int",
                "DROP VIEW v_articles",
                "SELECT newsdesk_index_search()",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                    conn.execute(statement)
            conn.execute("RESET ROLE")
            # tables created later (by the migrating user) are readable too: default privileges
            conn.execute("CREATE TABLE later (id int)")
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
            conn.execute("SELECT * FROM later").fetchall()
            conn.execute("RESET ROLE")
            conn.execute("DROP TABLE later")
    finally:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))

"""`newsdesk takedown`: every row of a URL or a source deleted in one transaction, stories
recomputed, and the crawl and import-warc refusing them afterwards.

The fast tests store articles the way the process stage does (real loader, real dedupe); the
slow one crawls the demo site for real, takes down, and crawls it again.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

import psycopg
import pytest

from pipeline.db.takedowns import taken_down_keys
from pipeline.demo_site import DemoSite, serve_demo_site
from pipeline.processing.takedown import take_down_urls
from pipeline.text.urls import url_key
from tests.cli import newsdesk, run_demo
from tests.dedupe_helpers import add_sources, article, store

BODY = " ".join(f"word{i} of the story told at length in sentence {i}." for i in range(120))
OTHER = " ".join(f"another{i} tale entirely unlike the first, line {i}." for i in range(120))

#: Tables a takedown never touches: the ledger, the source list, and the takedowns themselves.
UNRELATED = {"schema_migrations", "sources", "takedowns"}


def _rows_of(conn: psycopg.Connection, article_ids: list[int], keys: list[str],
             source: str | None) -> dict[str, int]:
    """Rows left, per table, that belong to the articles, URL keys or source given. Every table
    of the schema is asked (bar UNRELATED): a table added later fails here until it is."""
    checks = {
        "raw_pages": ("SELECT count(*) FROM raw_pages WHERE url_key = ANY(%(keys)s)"
                      " OR source = %(source)s"),
        "articles": ("SELECT count(*) FROM articles WHERE id = ANY(%(ids)s)"
                     " OR canonical_url = ANY(%(keys)s) OR source = %(source)s"),
        "article_versions": "SELECT count(*) FROM article_versions WHERE article_id = ANY(%(ids)s)",
        "article_bands": "SELECT count(*) FROM article_bands WHERE article_id = ANY(%(ids)s)",
        "duplicate_pairs": ("SELECT count(*) FROM duplicate_pairs"
                            " WHERE article_id = ANY(%(ids)s) OR other_id = ANY(%(ids)s)"),
        "stories": ("SELECT count(*) FROM stories s WHERE original_article_id = ANY(%(ids)s)"
                    " OR NOT EXISTS (SELECT 1 FROM articles a WHERE a.story_id = s.id)"),
        "skipped_pages": ("SELECT count(*) FROM skipped_pages WHERE url_key = ANY(%(keys)s)"
                          " OR source = %(source)s"),
        "crawl_runs": "SELECT count(*) FROM crawl_runs WHERE source = %(source)s",
        "discovery_documents": "SELECT count(*) FROM discovery_documents WHERE source = %(source)s",
        "source_boilerplate": "SELECT count(*) FROM source_boilerplate WHERE source = %(source)s",
        "source_title_affixes": ("SELECT count(*) FROM source_title_affixes"
                                 " WHERE source = %(source)s"),
    }
    tables = {t for (t,) in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()}
    assert tables - UNRELATED == set(checks), "a table the takedown test does not know"
    params = {"ids": article_ids, "keys": keys, "source": source}
    return {table: conn.execute(query, params).fetchone()[0] for table, query in checks.items()}


@pytest.fixture
def stored(db_url: str) -> dict[str, int]:
    """Three articles: an exact copy pair across two sources (one story) and one alone, the
    first edited once (a version), and a skipped page; {canonical URL: article id}."""
    with psycopg.connect(db_url) as conn:
        add_sources(conn)
        first = article("https://dailyplanet.example/a", BODY, title="First")
        store(conn, [first, article("https://metroherald.example/a-copy", BODY,
                                    source="metroherald", title="Copy",
                                    published_at=datetime(2026, 3, 16, tzinfo=UTC))])
        store(conn, [article("https://dailyplanet.example/b", OTHER, title="Alone")])
        # Stored under their own URLs' keys, as the crawl stores them (the helper makes its own).
        conn.execute("UPDATE raw_pages SET url = final_url, url_key = final_url")
        conn.execute("UPDATE articles SET title = 'First, edited' WHERE title = 'First'")
        conn.execute(
            "INSERT INTO skipped_pages (url_key, url, source, page_rules, skipped_at)"
            " VALUES (%s, %s, 'dailyplanet', '{noindex}', now())",
            [url_key("https://dailyplanet.example/b"), "https://dailyplanet.example/b"])
        conn.commit()
        return dict(conn.execute("SELECT canonical_url, id FROM articles").fetchall())


def test_takedown_of_urls_removes_every_row_and_recomputes_the_story(db_url, stored):
    taken = ["https://dailyplanet.example/a", "https://dailyplanet.example/b"]
    ids = [stored[url] for url in taken]
    keys = [url_key(u) for u in taken]
    with psycopg.connect(db_url) as conn:
        before = _rows_of(conn, ids, keys, None)
        (story,) = conn.execute("SELECT story_id FROM articles WHERE id = %s", [ids[0]]).fetchone()
    assert all(before[t] for t in ("raw_pages", "articles", "article_versions", "article_bands",
                                   "duplicate_pairs", "skipped_pages")), before

    result = newsdesk("takedown", *taken, "--reason", "request 42")
    assert result.returncode == 0, result.stderr
    assert "articles" in result.stdout and "refused from now on: 2 URL key(s) (2 new)" \
        in result.stdout

    with psycopg.connect(db_url) as conn:
        assert not any(_rows_of(conn, ids, keys, None).values())
        # The copy's story survives, recomputed: one article, its own original.
        copy = stored["https://metroherald.example/a-copy"]
        assert conn.execute(
            "SELECT id, original_article_id, article_count, source_count FROM stories"
            " WHERE id = %s", [story]).fetchone() == (story, copy, 1, 1)
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
        assert sorted(conn.execute("SELECT url_key, reason FROM takedowns").fetchall()) == \
            [(k, "request 42") for k in sorted(keys)]

    again = newsdesk("takedown", *taken)
    assert again.returncode == 0, again.stderr
    assert "(0 new)" in again.stdout
    assert all(line.split()[-1] == "0" for line in again.stdout.splitlines()
               if line.startswith("  "))


def test_takedown_of_a_source_removes_every_row_and_keeps_it_inactive(db_url, stored, tmp_path):
    with psycopg.connect(db_url) as conn:
        ids = [i for (i,) in conn.execute(
            "SELECT id FROM articles WHERE source = 'dailyplanet'").fetchall()]
        conn.execute("INSERT INTO crawl_runs (source, run_key) VALUES ('dailyplanet', 'r1')")
        conn.commit()
    result = newsdesk("takedown", "--source", "dailyplanet")
    assert result.returncode == 0, result.stderr
    with psycopg.connect(db_url) as conn:
        assert not any(_rows_of(conn, ids, [], "dailyplanet").values())
        assert conn.execute("SELECT active FROM sources WHERE name = 'dailyplanet'"
                            ).fetchone() == (False,)
        assert conn.execute("SELECT count(*) FROM articles WHERE source = 'metroherald'"
                            ).fetchone() == (1,)
    again = newsdesk("takedown", "--source", "dailyplanet")
    assert again.returncode == 0 and "already recorded" in again.stdout


AMP = "https://dailyplanet.example/amp/story"
STORY = "https://dailyplanet.example/story"


def _store_story(conn: psycopg.Connection, *pages: tuple[str, str, datetime]) -> None:
    """Each (address, title, fetched) stores the article with canonical STORY from that
    address's raw page, keyed as the crawl keys it; the upsert links whichever pages changed it."""
    add_sources(conn)
    for url, title, fetched in pages:
        store(conn, [replace(article(url, BODY, title=title, fetched_at=fetched),
                             canonical_url=STORY)])
        conn.execute("UPDATE raw_pages SET url = final_url, url_key = final_url"
                     " WHERE final_url = %s", [url])
    conn.commit()


def _left_after_amp_takedown(conn: psycopg.Connection) -> tuple[list, list, set[str]]:
    removed = take_down_urls(conn, [AMP])
    return (conn.execute("SELECT canonical_url FROM articles").fetchall(),
            conn.execute("SELECT url FROM raw_pages").fetchall(),
            set(removed.keys))


def test_takedown_of_an_amp_address_takes_down_the_canonical_one_and_its_pages(db_url):
    """Stored from the AMP page; the canonical page fetched later, unchanged, fed nothing."""
    later = datetime(2026, 3, 15, 14, 0, tzinfo=UTC)
    with psycopg.connect(db_url) as conn:
        _store_story(conn, (AMP, "Story", datetime(2026, 3, 15, 13, 0, tzinfo=UTC)),
                     (STORY, "Story", later))
        assert conn.execute("SELECT count(*) FROM raw_pages").fetchone() == (2,)
        articles, pages, keys = _left_after_amp_takedown(conn)
        assert (articles, pages) == ([], [])
        assert keys == {url_key(AMP), url_key(STORY)}
        assert taken_down_keys(conn, [url_key(STORY)]) == {url_key(STORY)}


def test_takedown_of_an_amp_address_finds_an_article_that_a_later_page_updated(db_url):
    """The article's raw_page_id points at the canonical page; only its earlier version
    remembers the AMP page."""
    with psycopg.connect(db_url) as conn:
        _store_story(conn, (AMP, "Story", datetime(2026, 3, 15, 13, 0, tzinfo=UTC)),
                     (STORY, "Story, updated", datetime(2026, 3, 15, 14, 0, tzinfo=UTC)))
        assert conn.execute("SELECT count(*) FROM article_versions").fetchone() == (1,)
        articles, pages, keys = _left_after_amp_takedown(conn)
        assert (articles, pages) == ([], [])
        assert keys == {url_key(AMP), url_key(STORY)}


def test_bad_input_is_one_line_and_changes_nothing(db_url, stored):
    for args, culprit in ((["ftp://dailyplanet.example/a"], "ftp://dailyplanet.example/a"),
                          (["--source", "nosuch"], "nosuch"), ([], "URL"),
                          (["--source", "dailyplanet", "--sources", "/nonexistent.yaml"],
                           "/nonexistent.yaml")):
        result = newsdesk("takedown", *args)
        assert result.returncode in (1, 2)  # 2: argparse's usage error, usage line included
        errors = [line for line in result.stderr.splitlines() if "error:" in line]
        assert len(errors) == 1 and culprit in errors[0], result.stderr
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone() == (3,)
        assert conn.execute("SELECT count(*) FROM takedowns").fetchone() == (0,)


def test_processing_refuses_an_article_brought_back_under_another_address(db_url, stored):
    """A new page whose canonical URL was taken down, or any page of a taken-down source that
    a running crawl stored, writes no article."""
    assert newsdesk("takedown", "https://dailyplanet.example/b").returncode == 0
    assert newsdesk("takedown", "--source", "metroherald").returncode == 0
    with psycopg.connect(db_url) as conn:
        store(conn, [article("https://dailyplanet.example/b", OTHER, title="Back again"),
                     article("https://metroherald.example/new", OTHER + " more", title="New",
                             source="metroherald"),
                     article("https://dailyplanet.example/c", BODY + " fresh", title="Kept")])
        conn.commit()
        titles = {t for (t,) in conn.execute("SELECT title FROM articles").fetchall()}
    assert titles == {"First, edited", "Kept"}


def test_import_warc_refuses_taken_down_urls(db_url, stored, tmp_path):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = tmp_path / "pages.warc.gz"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url in ("https://dailyplanet.example/a", "https://dailyplanet.example/new"):
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                       protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(b"<html><body>page</body></html>"),
                http_headers=headers))
    assert newsdesk("takedown", "https://dailyplanet.example/a").returncode == 0
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n- name: dailyplanet\n  homepage: https://dailyplanet.example/\n"
                       "  feeds: [https://dailyplanet.example/feed]\n")
    result = newsdesk("import-warc", str(path), "--sources", str(sources))
    assert result.returncode == 0, result.stderr
    with psycopg.connect(db_url) as conn:
        urls = {u for (u,) in conn.execute("SELECT url FROM raw_pages").fetchall()}
    assert "https://dailyplanet.example/new" in urls
    assert "https://dailyplanet.example/a" not in urls


@pytest.mark.slow
def test_a_crawl_after_a_takedown_fetches_none_of_it(db_url, tmp_path):
    with serve_demo_site(DemoSite(seed=5, n_articles=60)) as site:
        path = run_demo(site, tmp_path)
        with psycopg.connect(db_url) as conn:
            (url,) = conn.execute(
                "SELECT url FROM raw_pages WHERE source = 'metroherald' ORDER BY id LIMIT 1"
            ).fetchone()
            ids = [i for (i,) in conn.execute(
                "SELECT id FROM articles WHERE source = 'dailyplanet'").fetchall()]
        assert newsdesk("takedown", url).returncode == 0
        assert newsdesk("takedown", "--source", "dailyplanet").returncode == 0
        with psycopg.connect(db_url) as conn:
            assert not any(_rows_of(conn, ids, [url_key(url)], "dailyplanet").values())
            stories = conn.execute("SELECT count(*) FROM stories").fetchone()[0]
            assert stories == conn.execute(
                "SELECT count(DISTINCT story_id) FROM articles").fetchone()[0]

            # Every feed and sitemap read in full again (no 304), so the taken-down URL is
            # listed to the crawl, as it would be once its feed changes.
            conn.execute("DELETE FROM discovery_documents")
        site.clear_requests()
        result = newsdesk("run", "--sources", str(path), "--no-delay")
        assert result.returncode == 0, result.stderr
        assert "source dailyplanet is taken down" in result.stderr
        assert site.requests("dailyplanet") == []
        assert urlsplit(url).path not in {h.path for h in site.requests("metroherald")}
        with psycopg.connect(db_url) as conn:
            assert not any(_rows_of(conn, ids, [url_key(url)], "dailyplanet").values())
            (stats,) = conn.execute(
                "SELECT stats FROM crawl_runs WHERE source = 'metroherald' ORDER BY id DESC"
                " LIMIT 1").fetchone()
            assert stats["skipped_taken_down"] >= 1
            assert conn.execute("SELECT active FROM sources WHERE name = 'dailyplanet'"
                                ).fetchone() == (False,)


def test_a_taken_down_source_is_not_selected_and_stays_inactive(db_url, tmp_path, caplog):
    """Airflow's sync_and_select: the source is synced inactive and left out, with a warning."""
    from pipeline.airflow.daily import sync_and_select

    path = tmp_path / "s.yaml"
    path.write_text("sources:\n- name: alpha\n  homepage: https://alpha.example/\n"
                    "- name: beta\n  homepage: https://beta.example/\n")
    assert sync_and_select(path, database_url=db_url) == {"default": ["alpha", "beta"]}
    assert newsdesk("takedown", "--source", "beta", "--sources", str(path)).returncode == 0
    assert sync_and_select(path, database_url=db_url) == {"default": ["alpha"]}
    assert sync_and_select(path, only=["beta"], database_url=db_url) == {"default": []}
    assert "taken down" in caplog.text and "beta" in caplog.text
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT name, active FROM sources ORDER BY name").fetchall()
    assert rows == [("alpha", True), ("beta", False)]


def test_a_source_taken_down_after_the_sync_is_skipped_not_failed(db_url, tmp_path):
    """Airflow syncs and selects, then a takedown lands before the crawl task: the crawler
    reports the source skipped (no retry for nothing), and the run summary does not fail it."""
    from pipeline.airflow.daily import crawl_sources, sync_and_select
    from pipeline.airflow.summary import run_statistics

    path = tmp_path / "s.yaml"
    path.write_text("sources:\n- name: beta\n  homepage: https://beta.example/\n")
    assert sync_and_select(path, database_url=db_url) == {"default": ["beta"]}
    assert newsdesk("takedown", "--source", "beta").returncode == 0

    (report,) = crawl_sources(["beta"], "2026-12-07", sources_path=path, database_url=db_url)
    assert (report["status"], report["error"]) == ("skipped", "taken down (newsdesk takedown)")
    statistics = run_statistics("2026-12-07", ["beta"], database_url=db_url)
    assert statistics["failed"] == [] and statistics["sources"]["beta"]["status"] == "skipped"

    result = newsdesk("crawl", "--source", "beta", "--sources", str(path))
    assert result.returncode == 0, result.stderr
    assert "source beta is taken down" in result.stderr and "skipped" in result.stdout

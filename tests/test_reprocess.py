"""`newsdesk reprocess`: stored raw pages re-extracted after an extractor change, no fetching,
only changed articles written, per-field change counts and the changed bodies by source
reported; a page a crawl stores again meanwhile is left to the process stage; dedupe keys and
stories follow the rewritten bodies."""

from __future__ import annotations

import gzip
import hashlib
import random
import re

import psycopg
import pytest
import yaml

from pipeline.dedupe.backlog import dedupe_pending, reset
from pipeline.demo_site import DemoSite, serve_demo_site
from pipeline.processing.reprocess import reprocess
from pipeline.processing.stage import process_pending
from pipeline.sources.config import Source, load_sources
from pipeline.text.urls import url_key
from tests.cli import newsdesk, run_demo
from tests.dedupe_helpers import add_sources, partition


@pytest.fixture(scope="module")
def demo_site():
    with serve_demo_site(DemoSite(seed=3, n_articles=60)) as running:
        yield running


@pytest.fixture
def crawled(db_url, demo_site, tmp_path):
    path = run_demo(demo_site, tmp_path)
    demo_site.clear_requests()
    return path


def with_override(path, tmp_path, source: str, **rules):
    """The same sources, with an `extraction:` override for one of them (the extractor change)."""
    document = yaml.safe_load(path.read_text())
    for entry in document["sources"]:
        if entry["name"] == source:
            entry["extraction"] = rules
    changed = tmp_path / "changed-sources.yaml"
    changed.write_text(yaml.safe_dump(document))
    return changed


def titles(conn, source):
    return dict(conn.execute("SELECT id, title FROM articles WHERE source = %s", (source,)))


@pytest.mark.slow  # reprocesses a crawl of the demo site
def test_extractor_change_applied_to_stored_pages_without_requests(db_url, demo_site, crawled,
                                                                   tmp_path):
    with psycopg.connect(db_url) as conn:
        before = titles(conn, "dailyplanet")
        others = titles(conn, "metroherald")
        stamps = dict(conn.execute("SELECT id, updated_at FROM articles"))
    # The change: Daily Planet's headline is now read from its category link.
    changed = with_override(crawled, tmp_path, "dailyplanet", title="span.cat-links a")
    result = newsdesk("reprocess", "--sources", str(changed), "--source", "dailyplanet",
                      "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert demo_site.requests() == []  # nothing fetched
    with psycopg.connect(db_url) as conn:
        after = titles(conn, "dailyplanet")
        assert titles(conn, "metroherald") == others
        new_stamps = dict(conn.execute("SELECT id, updated_at FROM articles"))
    changed_ids = {i for i in before if after[i] != before[i]}
    assert len(changed_ids) == len(before) > 0
    assert all(len(title.split()) <= 2 for title in after.values())  # a section name now
    # Only the changed rows were written.
    assert {i for i in stamps if new_stamps[i] != stamps[i]} == changed_ids
    assert re.search(rf"^\s*title\s*\W\s*{len(before)}\s*$", result.stdout, re.M), result.stdout

    again = newsdesk("reprocess", "--sources", str(changed), "--source", "dailyplanet")
    assert again.returncode == 0, again.stderr
    assert "no field changed" in again.stdout


@pytest.mark.slow  # reprocesses a crawl of the demo site
def test_reprocess_in_process_counts_and_since(db_url, crawled):
    sources = load_sources(crawled)
    with psycopg.connect(db_url) as conn:
        stored = conn.execute("SELECT count(*) FROM raw_pages WHERE processed_at IS NOT NULL"
                              ).fetchone()[0]
        stats = reprocess(conn, sources, workers=1)
        assert stats.pages == stored
        assert (stats.changed, stats.new) == (0, 0)  # same extractor: nothing to write
        from datetime import UTC, datetime, timedelta
        later = reprocess(conn, sources, since=datetime.now(UTC) + timedelta(days=1), workers=1)
        assert later.pages == 0


@pytest.mark.slow  # reprocesses a crawl of the demo site
def test_bad_since_and_unknown_source_are_one_line(db_url, crawled):
    bad = newsdesk("reprocess", "--sources", str(crawled), "--since", "yesterday-ish")
    assert bad.returncode == 2 and "not a date" in bad.stderr
    unknown = newsdesk("reprocess", "--sources", str(crawled), "--source", "nosuch")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().startswith("newsdesk reprocess: error: unknown source 'nosuch'")


# Hand-made pages with two texts: an `extraction: body:` override picks which is the body, so
# changing it is an extractor change that rewrites bodies (no crawl needed).
WORDS = ("river", "council", "budget", "school", "harbour", "train", "market", "festival",
         "storm", "library", "election", "bridge", "museum", "farmers", "hospital")


def source(body: str) -> Source:
    return Source(name="dailyplanet", homepage="https://dailyplanet.example/",
                  extraction={"body": body})


def text(seed: int) -> str:
    rng = random.Random(seed)
    return "".join(f"<p>{' '.join(rng.choice(WORDS) for _ in range(40)).capitalize()}.</p>"
                   for _ in range(6))


def page_html(a: int, b: int) -> bytes:
    return (f'<html lang="en"><head><title>Harbour news</title></head><body><article>'
            f'<h1>Harbour news</h1><div class="a">{text(a)}</div><div class="b">{text(b)}</div>'
            f"</article></body></html>").encode()


def store_page(conn: psycopg.Connection, url: str, html: bytes) -> None:
    """Store a page as a crawl does: new content makes it pending again."""
    conn.execute(
        """INSERT INTO raw_pages AS r (source, url, url_key, final_url, status, html_gz,
                                       content_sha256, discovered_via, fetched_at)
           VALUES ('dailyplanet', %(url)s, %(key)s, %(url)s, 200, %(html_gz)s, %(sha)s, 'import',
                   now())
           ON CONFLICT (url_key) DO UPDATE SET
               html_gz = EXCLUDED.html_gz, content_sha256 = EXCLUDED.content_sha256,
               fetched_at = EXCLUDED.fetched_at,
               processed_at = NULL, process_error = NULL, extractor_version = NULL
           WHERE r.content_sha256 IS DISTINCT FROM EXCLUDED.content_sha256""",
        {"url": url, "key": url_key(url), "html_gz": gzip.compress(html),
         "sha": hashlib.sha256(html).digest()})
    conn.commit()


def processed(conn: psycopg.Connection, pages: dict[str, bytes], body: str) -> None:
    """The pages stored and processed with `body` as the body selector."""
    add_sources(conn, ["dailyplanet"])
    for url, html in pages.items():
        store_page(conn, url, html)
    process_pending(conn, [source(body)], workers=1)


def body_of(conn: psycopg.Connection, url: str) -> str:
    return conn.execute("SELECT body FROM articles WHERE url = %s", [url]).fetchone()[0]


def is_processed(conn: psycopg.Connection, url: str) -> bool:
    return conn.execute("SELECT processed_at IS NOT NULL FROM raw_pages WHERE url = %s",
                        [url]).fetchone()[0]


def first_words(seed: int) -> str:
    return text(seed)[3:40]


def test_page_stored_again_during_reprocess_is_left_to_the_process_stage(db_url):
    x, y = "https://dailyplanet.example/x", "https://dailyplanet.example/y"
    with psycopg.connect(db_url) as conn, psycopg.connect(db_url) as crawl:
        processed(conn, {x: page_html(1, 2), y: page_html(3, 4)}, "div.a")
        assert first_words(1) in body_of(conn, x)

        def refetch_x(page_ids):  # the crawl stores x's new content after reprocess read it
            store_page(crawl, x, page_html(5, 6))

        stats = reprocess(conn, [source("div.b")], workers=1, before_write=refetch_x)
        # x keeps its article until its new content is processed, never the stale extraction.
        assert first_words(1) in body_of(conn, x)
        assert not is_processed(conn, x)
        assert first_words(4) in body_of(conn, y) and is_processed(conn, y)
        assert (stats.pages, stats.skipped_changed, stats.changed) == (2, 1, 1)
        assert stats.bodies == {"dailyplanet": 1}  # what moved, by source
        assert stats.body_urls == []  # the URLs only when asked
        process_pending(conn, [source("div.b")], workers=1)
        assert first_words(6) in body_of(conn, x) and is_processed(conn, x)


def dedupe_state(conn: psycopg.Connection) -> tuple:
    """Everything dedupe stores, independent of story ids: groups, keys, pairs, originals."""
    return (
        partition(conn),
        set(conn.execute("SELECT key, article_id FROM article_bands").fetchall()),
        set(conn.execute("SELECT article_id, other_id, kind FROM duplicate_pairs").fetchall()),
        set(conn.execute("SELECT original_article_id, article_count, source_count"
                         " FROM stories").fetchall()),
    )


def test_rewritten_bodies_move_dedupe_keys_and_stories_as_a_rebuild_would(db_url):
    x, y, z = (f"https://dailyplanet.example/{name}" for name in "xyz")
    with psycopg.connect(db_url) as conn:
        # Three different bodies; with the other selector x and y are the same text.
        processed(conn, {x: page_html(1, 7), y: page_html(2, 7), z: page_html(3, 8)}, "div.a")
        assert partition(conn) == {frozenset({x}), frozenset({y}), frozenset({z})}
        stale_keys = set(conn.execute("SELECT key, article_id FROM article_bands").fetchall())

        stats = reprocess(conn, [source("div.b")], workers=1, list_bodies=True)
        assert stats.changed == 3
        assert sorted(stats.body_urls) == [("dailyplanet", u) for u in (x, y, z)]
        after = dedupe_state(conn)
        assert after[0] == {frozenset({x, y}), frozenset({z})}  # x and y are copies now
        assert not after[1] & stale_keys  # the old bodies' keys are gone
        assert {kind for *_, kind in after[2]} == {"exact"}
        reset(conn)
        dedupe_pending(conn)
        assert dedupe_state(conn) == after


def test_the_changed_bodies_are_counted_and_listed_by_source(db_url, tmp_path):
    x, y = "https://dailyplanet.example/x", "https://dailyplanet.example/y"
    with psycopg.connect(db_url) as conn:
        processed(conn, {x: page_html(1, 2), y: page_html(3, 4)}, "div.a")
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [
        {"name": "dailyplanet", "homepage": "https://dailyplanet.example/",
         "extraction": {"body": "div.b"}}]}))
    result = newsdesk("reprocess", "--sources", str(sources), "--workers", "1", "--list-bodies")
    assert result.returncode == 0, result.stderr
    assert re.search(r"bodies changed.*^\s*dailyplanet\s*\W\s*2\s*$", result.stdout, re.M | re.S)
    listed = [line.split() for line in result.stdout.splitlines() if "https://" in line]
    assert sorted(listed) == [["dailyplanet", x], ["dailyplanet", y]]

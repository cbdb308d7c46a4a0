"""`newsdesk reprocess`: stored raw pages re-extracted after an extractor change, no fetching,
only changed articles written, per-field change counts reported."""

from __future__ import annotations

import re

import psycopg
import pytest
import yaml

from pipeline.demo_site import DemoSite, serve_demo_site
from pipeline.processing.reprocess import reprocess
from pipeline.sources.config import load_sources
from tests.cli import newsdesk, run_demo

pytestmark = pytest.mark.slow  # every test reprocesses a crawl of the demo site


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


def test_bad_since_and_unknown_source_are_one_line(db_url, crawled):
    bad = newsdesk("reprocess", "--sources", str(crawled), "--since", "yesterday-ish")
    assert bad.returncode == 2 and "not a date" in bad.stderr
    unknown = newsdesk("reprocess", "--sources", str(crawled), "--source", "nosuch")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().startswith("newsdesk reprocess: error: unknown source 'nosuch'")

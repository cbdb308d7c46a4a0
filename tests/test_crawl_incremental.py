"""Incremental, polite crawling, asserted on the demo server's own access log.

Real `python -m crawlers` (or `scrapy crawl`) in a child process, real HTTP on 127.0.0.1 and a
real Postgres. Each test serves its own small demo site so quirks and logs never leak.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import yaml

from pipeline.demo_site import DemoSite, RunningSite, serve_demo_site
from tests.repo import REPO_ROOT
from tests.test_crawl import crawl, stored

pytestmark = pytest.mark.slow


@pytest.fixture
def site() -> Iterator[RunningSite]:
    with serve_demo_site(DemoSite(seed=11, n_articles=180)) as running:
        yield running


def one_source(site: RunningSite, path: Path, name: str = "lecourrier", **fields: object) -> Path:
    """The demo's entry for one publisher (feeds and sitemaps, no listings), with changes."""
    (entry,) = [s for s in yaml.safe_load(site.sources_yaml())["sources"] if s["name"] == name]
    entry["listings"] = []
    entry.update(fields)
    path.write_text(yaml.safe_dump({"sources": [entry]}))
    return path


def article_hits(site: RunningSite, name: str) -> list:
    pattern = site.publisher(name).article_pattern
    return [h for h in site.requests(name) if re.search(pattern, h.path)]


def path_of(url: str) -> str:
    return urlsplit(url).path


def run_stats(db_url: str, source: str) -> dict:
    with psycopg.connect(db_url) as conn:
        (stats,) = conn.execute(
            "SELECT stats FROM crawl_runs WHERE source = %s ORDER BY id DESC LIMIT 1", (source,)
        ).fetchone()
    return stats


def test_second_run_is_conditional_and_requests_no_article(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    sources = one_source(site, tmp_path / "s.yaml")
    args = ["--source", "lecourrier", "--sources", str(sources), "--no-delay"]
    first = crawl(*args, "--run-key", "one")
    assert first.returncode == 0, first.stderr
    fetched = len(stored(db_url))
    assert fetched > 0 and len(article_hits(site, "lecourrier")) == fetched
    # The honest User-Agent names the project and a contact URL.
    assert all(h.headers["user-agent"].startswith("newsdesk/") and "(+https://" in
               h.headers["user-agent"] for h in site.requests("lecourrier"))  # fmt: skip
    # No Referer (a site learns nothing from which of its pages led to a request), no cookies.
    assert not any("referer" in h.headers or "cookie" in h.headers
               for h in site.requests("lecourrier"))  # fmt: skip
    with psycopg.connect(db_url) as conn:
        documents = conn.execute(
            "SELECT url, kind, etag, last_status FROM discovery_documents"
        ).fetchall()
    assert documents and all(etag and status == 200 for _, _, etag, status in documents)

    site.clear_requests()
    second = crawl(*args, "--run-key", "two")
    assert second.returncode == 0, second.stderr
    assert article_hits(site, "lecourrier") == []
    entry = yaml.safe_load(sources.read_text())["sources"][0]
    configured = {path_of(u) for u in entry["feeds"] + entry["sitemaps"]}
    hits = {h.path: h for h in site.requests("lecourrier") if h.path != "/robots.txt"}
    # The configured feed and sitemaps answer 304; an unchanged index's children are not asked.
    assert set(hits) == configured
    assert all(h.status == 304 and "if-none-match" in h.headers for h in hits.values())
    assert len(stored(db_url)) == fetched
    report = json.loads(second.stdout)
    assert report["documents_not_modified"] == len(configured) and report["pages_fetched"] == 0
    with psycopg.connect(db_url) as conn:
        counts = dict(conn.execute("SELECT url, not_modified_count FROM discovery_documents"))
    assert {path_of(u) for u, n in counts.items() if n == 1} == configured


def test_a_changed_entry_is_refetched_and_recorded(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    sources = one_source(site, tmp_path / "s.yaml", feeds=[])  # sitemaps carry lastmod
    args = ["--source", "lecourrier", "--sources", str(sources), "--no-delay"]
    assert crawl(*args).returncode == 0
    pages = stored(db_url)
    changed = sorted(pages)[0]
    with psycopg.connect(db_url) as conn:
        # As if fetched long before its sitemap lastmod, with other content, and processed.
        conn.execute(
            "UPDATE raw_pages SET fetched_at = '2000-01-01', content_sha256 = '\\x00',"
            " processed_at = now() WHERE url = %s",
            (changed,),
        )
        conn.execute("DELETE FROM discovery_documents")  # the sitemaps must be read again
    site.clear_requests()
    result = crawl(*args)
    assert result.returncode == 0, result.stderr
    assert [h.path for h in article_hits(site, "lecourrier")] == [path_of(changed)]
    stats = run_stats(db_url, "lecourrier")
    assert stats["refetched_changed"] == 1 and stats["raw_pages_updated"] == 1
    with psycopg.connect(db_url) as conn:
        fetched_at, processed_at, discovery = conn.execute(
            "SELECT fetched_at, processed_at, discovery FROM raw_pages WHERE url = %s", (changed,)
        ).fetchone()
    assert fetched_at.year > 2000 and processed_at is None and discovery["changed"] is True


def test_items_older_than_the_cutoff_cause_no_request(db_url: str, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with serve_demo_site(DemoSite(seed=5, n_articles=300, anchor=now - timedelta(hours=1))) as site:
        sources = one_source(site, tmp_path / "s.yaml", limits={"max_age_days": 2})
        result = crawl("--source", "lecourrier", "--sources", str(sources), "--no-delay")
        assert result.returncode == 0, result.stderr
        requested = {h.path for h in article_hits(site, "lecourrier")}
        truth = {path_of(t.url): t for t in site.truth() if t.publisher == "lecourrier"}
    margin = timedelta(minutes=5)
    young = {
        p
        for p, t in truth.items()
        if (t.modified_at or t.published_at) > now - timedelta(days=2) + margin
    }
    old = {
        p
        for p, t in truth.items()
        if (t.modified_at or t.published_at) < now - timedelta(days=2) - margin
    }
    assert old and young
    assert requested & old == set()
    assert young <= requested
    stats = run_stats(db_url, "lecourrier")
    assert stats["skipped_old"] > 0


def test_robots_disallow_crawl_delay_and_retry_after(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    # The first feed items, which --limit 5 keeps.
    feed_urls = [u for u, _ in site.site.renderer("lecourrier", site.bases).feed_entries()]
    forbidden, limited = path_of(feed_urls[0]), path_of(feed_urls[1])
    site.quirks.robots_extra["lecourrier"] = (
        f"User-agent: newsdesk\nCrawl-delay: 0.4\nDisallow: {forbidden}\n"
    )
    site.quirks.rate_limited[("lecourrier", limited)] = [1, 1]
    sources = one_source(site, tmp_path / "s.yaml", sitemaps=[])
    result = crawl("--source", "lecourrier", "--sources", str(sources), "--no-delay",
                   "--limit", "5")  # fmt: skip
    assert result.returncode == 0, result.stderr
    hits = [h for h in site.requests("lecourrier") if h.path != "/robots.txt"]
    assert forbidden not in {h.path for h in hits}
    gaps = [b.at - a.at for a, b in itertools.pairwise(hits)]
    assert gaps and min(gaps) >= 0.4 - 0.05, gaps
    limited_hits = [h for h in hits if h.path == limited]
    assert [h.status for h in limited_hits] == [429, 200]
    assert limited_hits[1].at - limited_hits[0].at >= 1.0 - 0.05
    stats = run_stats(db_url, "lecourrier")
    assert stats["robots_denied"] == 1 and stats["retry_after_waits"] == 1
    assert stats["crawl_delay_seconds"] == 0.4


def test_the_per_domain_delay_is_honoured(site: RunningSite, db_url: str, tmp_path: Path) -> None:
    sources = one_source(site, tmp_path / "s.yaml", sitemaps=[],
                         politeness={"delay": 0.3, "concurrency": 1})  # fmt: skip
    result = crawl("--source", "lecourrier", "--sources", str(sources), "--limit", "4")
    assert result.returncode == 0, result.stderr
    hits = [h for h in site.requests("lecourrier") if h.path != "/robots.txt"]
    gaps = [b.at - a.at for a, b in itertools.pairwise(hits)]
    # Scrapy waits DOWNLOAD_DELAY ± 50% (DOWNLOAD_DELAY_JITTER) between requests to a host.
    assert len(gaps) >= 4 and min(gaps) >= 0.3 * 0.5 - 0.02, gaps


def test_a_challenge_page_is_counted_as_blocked_not_stored(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    walled = sorted(site.listed_in("lecourrier", "feed"))[2]
    site.quirks.challenge.add(("lecourrier", path_of(walled)))
    sources = one_source(site, tmp_path / "s.yaml", sitemaps=[])
    result = crawl("--source", "lecourrier", "--sources", str(sources), "--no-delay")
    assert result.returncode == 0, result.stderr
    assert walled not in stored(db_url) and len(stored(db_url)) > 0
    assert [h.status for h in site.requests("lecourrier") if h.path == path_of(walled)] == [403]
    stats = run_stats(db_url, "lecourrier")
    assert stats["blocked"] == 1 and stats["blocked_urls"] == [walled]
    assert json.loads(result.stdout)["blocked"] == 1


def test_a_redirect_to_loopback_is_refused_without_the_opt_in(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    """The source's own origin is trusted by the operator; where it redirects to is not."""
    origin = site.publisher("lecourrier").base_url
    inner = site.publisher("dailyplanet").base_url + "/"
    moved = sorted(site.listed_in("lecourrier", "feed"))[3]
    site.quirks.redirects[("lecourrier", path_of(moved))] = inner
    sources = one_source(site, tmp_path / "s.yaml", sitemaps=[], allow_private_addresses=False)
    env = os.environ | {"NEWSDESK_SOURCES": str(sources)}
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "source=lecourrier",
         "-s", "DOWNLOAD_DELAY=0", "-s", f"NEWSDESK_ALLOWED_PRIVATE_ORIGINS={origin[7:]}"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert site.requests("dailyplanet") == []
    assert [h.status for h in site.requests("lecourrier") if h.path == path_of(moved)] == [302]
    assert moved not in stored(db_url)
    assert run_stats(db_url, "lecourrier")["refused_private_addresses"] == 1
    assert "non-public address 127.0.0.1" in result.stderr

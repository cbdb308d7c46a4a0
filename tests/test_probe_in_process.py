"""`sources check` and `sources discover` (crawlers.probe) in this process, against the demo site.

The probe makes a handful of urllib requests, not a crawl; with the politeness delay at zero it
runs in a second or two. test_sources_commands.py runs the same commands as a user does.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from crawlers import probe
from pipeline.demo_site import DemoSite, RunningSite, serve_demo_site
from pipeline.sources.config import Source, load_sources


@pytest.fixture(scope="module")
def site() -> Iterator[RunningSite]:
    with serve_demo_site(DemoSite(seed=3, n_articles=60)) as running:
        yield running


def _source(site: RunningSite, tmp_path: Path, name: str) -> Source:
    """The site's source `name`, with no delay between requests (a local site)."""
    document = yaml.safe_load(site.sources_yaml())
    for entry in document["sources"]:
        entry["politeness"] = {"delay": 0}
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(document))
    return next(s for s in load_sources(path) if s.name == name)


def test_check_reports_each_discovery_method_and_the_articles(site, tmp_path) -> None:
    out = io.StringIO()
    site.clear_requests()
    assert probe.check(_source(site, tmp_path, "metroherald"), articles=1, out=out) == 0
    text = out.getvalue()
    n = site.site.article_count("metroherald")  # every one is in the feed and the news sitemap
    assert "sitemaps announced: 2" in text
    assert f"/feeds/all.atom: {n} links, {n} dated, {n} wanted" in text
    assert "sitemap index" in text and f"({n} news)" in text and "article links" in text
    assert text.count("title: yes") == 1 and "warnings: none" in text
    assert {h.publisher for h in site.requests()} == {"metroherald"}


def test_check_warns_when_robots_refuses_everything(site, tmp_path) -> None:
    site.quirks.robots_extra["lecourrier"] = "User-agent: newsdesk\nDisallow: /\n"
    out = io.StringIO()
    try:
        site.clear_requests()
        status = probe.check(_source(site, tmp_path, "lecourrier"), articles=1, out=out)
    finally:
        site.quirks.robots_extra.clear()
    assert status == 1
    assert "forbidden by robots.txt" in out.getvalue()
    assert {h.path for h in site.requests("lecourrier")} == {"/robots.txt"}


def test_discover_prints_an_entry_that_loads(site, tmp_path) -> None:
    base = site.publisher("lecourrier").base_url
    out = io.StringIO()
    assert probe.discover(base + "/", allow_private=True, delay=0, out=out) == 0
    path = tmp_path / "found.yaml"
    path.write_text(out.getvalue())
    (source,) = load_sources(path)
    assert source.feeds == [base + "/rss.xml"]
    assert source.sitemaps == [base + "/sitemap.xml", base + "/sitemap-news.xml"]
    assert source.language == "fr" and source.allow_private_addresses


def test_main_refuses_a_private_site_and_a_non_http_url(site, capsys) -> None:
    base = site.publisher("lecourrier").base_url
    assert probe.main(["discover", base + "/", "--delay", "0"]) == 1
    assert "non-public address" in capsys.readouterr().err
    assert probe.main(["discover", "ftp://example.com/"]) == 2
    assert capsys.readouterr().err == "error: not an http(s) URL: ftp://example.com/\n"

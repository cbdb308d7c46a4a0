"""A page's own rules on the real stack: the demo site's fault mode, `python -m crawlers`, Postgres.

Each publisher serves the same pages, one rule each (X-Robots-Tag, robots metas, TDMRep header,
meta and /.well-known/tdmrep.json), through one feed. dailyplanet's source records the rules,
metroherald's skips pages for them (`skip_pages`), lecourrier's tdmrep.json is broken.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml

from pipeline.demo_site import DemoSite, RunningSite, serve_demo_site
from pipeline.demo_site.faults import Fault
from tests.test_crawl import reports
from tests.test_faults_http import crawl, rss

pytestmark = pytest.mark.slow  # crawls the demo site

RECORDS, SKIPS, BROKEN_FILE = PUBLISHERS = ("dailyplanet", "metroherald", "lecourrier")
SKIP = ["noindex", "noarchive", "tdm-reserved"]
TDMREP = b'[{"location": "/reserved/*", "tdm-reservation": 1}]'

#: path -> (the page's <head> extras, its response headers, the rules it says)
PAGES: dict[str, tuple[str, dict[str, str], list[str]]] = {
    "/rules/plain/": ("", {}, []),
    "/rules/x-robots-noindex/": ("", {"X-Robots-Tag": "noindex"}, ["noindex"]),
    "/rules/x-robots-for-us/": ("", {"X-Robots-Tag": "newsdesk: noarchive"}, ["noarchive"]),
    "/rules/x-robots-for-another-bot/": ("", {"X-Robots-Tag": "otherbot: noindex"}, []),
    "/rules/meta-robots-none/": (
        '<meta name="robots" content="none">', {}, ["nofollow", "noindex"]
    ),
    "/rules/meta-newsdesk/": ('<meta name="newsdesk" content="noarchive">', {}, ["noarchive"]),
    "/rules/meta-nofollow/": ('<meta name="robots" content="nofollow">', {}, ["nofollow"]),
    "/rules/tdm-header/": ("", {"tdm-reservation": "1"}, ["tdm-reserved"]),
    "/rules/tdm-meta/": ('<meta name="tdm-reservation" content="1">', {}, ["tdm-reserved"]),
    "/reserved/by-the-file/": ("", {}, ["tdm-reserved"]),  # tdmrep.json: /reserved/*
    "/open/not-by-the-file/": ("", {}, []),
}
SKIPPED = [path for path, (_, _, rules) in PAGES.items() if set(rules) & set(SKIP)]


def _html(path: str, head: str) -> bytes:
    text = f"The council met on {path} and agreed the plan after a long debate. " * 20
    html = f"<html><head>{head}<title>{path}</title></head><body><p>{text}</p></body></html>"
    return html.encode()


def _sources(site: RunningSite, path: Path) -> Path:
    document = yaml.safe_load(site.sources_yaml())
    for entry in document["sources"]:
        feed = site.bases[entry["name"]] + "/rules/feed.xml"
        entry.update(feeds=[feed], sitemaps=[], listings=[])
        if entry["name"] == SKIPS:
            entry["skip_pages"] = SKIP
    path.write_text(yaml.safe_dump(document))
    return path


def _stored(db: str, source: str) -> dict[str, list[str]]:
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            "SELECT url, page_rules FROM raw_pages WHERE source = %s", [source]
        ).fetchall()
    return dict(rows)


@pytest.fixture(scope="module")
def crawled(module_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One crawl per publisher, then metroherald's again; what each left behind."""
    with serve_demo_site(DemoSite(seed=7, n_articles=30)) as site:
        for name, base in site.bases.items():
            feed = rss(base, [base + path for path in PAGES])
            site.faults.set(name, "/rules/feed.xml", Fault("content", body=feed))
            for path, (head, headers, _) in PAGES.items():
                fault = Fault("content", body=_html(path, head), headers=headers)
                site.faults.set(name, path, fault)
            body = b"{this is not json" if name == BROKEN_FILE else TDMREP
            fault = Fault("content", body=body, content_type="application/json")
            site.faults.set(name, "/.well-known/tdmrep.json", fault)
        sources = _sources(site, tmp_path_factory.mktemp("rules") / "sources.yaml")
        args = ("--sources", str(sources), "--no-delay")
        out = {name: crawl(f"--source={name}", *args, db=module_db) for name in PUBLISHERS}
        out["hits"] = {name: site.requests(name) for name in PUBLISHERS}
        site.clear_requests()
        out["again"] = crawl(f"--source={SKIPS}", *args, db=module_db)
        out["hits_again"] = site.requests(SKIPS)
        out["bases"] = dict(site.bases)
        yield out


def test_every_page_is_stored_with_the_rules_it_says(crawled: dict, module_db: str) -> None:
    base = crawled["bases"][RECORDS]
    assert reports(crawled[RECORDS])[RECORDS]["status"] == "success", crawled[RECORDS].stderr
    expected = {base + path: rules for path, (_, _, rules) in PAGES.items()}
    assert _stored(module_db, RECORDS) == expected


def test_the_tdmrep_file_is_fetched_once_per_crawl(crawled: dict) -> None:
    asked = [h for h in crawled["hits"][RECORDS] if h.path == "/.well-known/tdmrep.json"]
    assert len(asked) == 1


def test_a_source_that_skips_stores_only_the_other_pages(crawled: dict, module_db: str) -> None:
    base = crawled["bases"][SKIPS]
    kept = {base + path: rules for path, (_, _, rules) in PAGES.items() if path not in SKIPPED}
    assert _stored(module_db, SKIPS) == kept
    kept_paths = {url.removeprefix(base) for url in kept}
    assert {"/rules/meta-nofollow/", "/open/not-by-the-file/"} <= kept_paths


def test_skipped_pages_are_counted_per_rule(crawled: dict, module_db: str) -> None:
    report = reports(crawled[SKIPS])[SKIPS]
    assert report["status"] == "success", crawled[SKIPS].stderr
    assert report["skipped_page_rules"] == {
        "pages": len(SKIPPED), "noindex": 2, "noarchive": 2, "tdm-reserved": 3
    }
    with psycopg.connect(module_db) as conn:
        stats = conn.execute(
            "SELECT stats FROM crawl_runs WHERE id = %s", [report["crawl_run_id"]]
        ).fetchone()[0]
        remembered = conn.execute("SELECT url, page_rules FROM skipped_pages").fetchall()
    assert stats["skipped_page_rules"] == report["skipped_page_rules"]
    base = crawled["bases"][SKIPS]
    assert dict(remembered) == {base + path: PAGES[path][2] for path in SKIPPED}


def test_a_skipped_page_is_not_fetched_again_next_run(crawled: dict) -> None:
    report = reports(crawled["again"])[SKIPS]
    assert report["status"] == "success", crawled["again"].stderr
    fetched = {h.path for h in crawled["hits_again"]}
    assert "/rules/feed.xml" in fetched
    assert not fetched & set(PAGES), "a stored or skipped page was fetched again"
    assert "/.well-known/tdmrep.json" not in fetched  # asked for only before an article page
    assert report["skipped_as_seen"] == len(PAGES)


def test_a_broken_tdmrep_file_is_counted_not_fatal(crawled: dict, module_db: str) -> None:
    result = crawled[BROKEN_FILE]
    report = reports(result)[BROKEN_FILE]
    assert report["status"] == "success", result.stderr
    with psycopg.connect(module_db) as conn:
        stats = conn.execute(
            "SELECT stats FROM crawl_runs WHERE id = %s", [report["crawl_run_id"]]
        ).fetchone()[0]
    assert stats["tdmrep_broken"] == 1
    url = crawled["bases"][BROKEN_FILE] + "/.well-known/tdmrep.json"
    warnings = [line for line in result.stderr.splitlines() if url in line]
    assert len(warnings) == 1 and "not JSON" in warnings[0], result.stderr
    stored = _stored(module_db, BROKEN_FILE)
    assert len(stored) == len(PAGES)  # every page stored; the file's reservation is unknown
    assert stored[crawled["bases"][BROKEN_FILE] + "/reserved/by-the-file/"] == []

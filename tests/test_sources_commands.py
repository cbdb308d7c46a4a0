"""`newsdesk sources list|check|discover` and the sources table sync, on a real Postgres and
the demo site. check and discover must write nothing."""

from __future__ import annotations

import gzip
import io
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
import yaml

from crawlers.pipelines import RawPage
from crawlers.probe.check import CHECK_SECONDS, CheckLog, Report
from crawlers.spiders.documents import DocumentRead
from pipeline.demo_site import DemoSite, RunningSite, serve_demo_site
from pipeline.sources.config import Source, load_sources
from pipeline.sources.health import Health, verdict
from pipeline.sources.sync import sync_sources
from tests.cli import newsdesk

TABLES = ("sources", "crawl_runs", "raw_pages", "articles", "discovery_documents")


@pytest.fixture(scope="module")
def site() -> Iterator[RunningSite]:
    with serve_demo_site(DemoSite(seed=3, n_articles=120)) as running:
        yield running


def demo_sources(site: RunningSite, path: Path, **fields: object) -> Path:
    document = yaml.safe_load(site.sources_yaml())
    for entry in document["sources"]:
        entry["politeness"] = {"delay": 0}
        entry.update(fields)
    path.write_text(yaml.safe_dump(document))
    return path


def row_counts(db_url: str) -> dict[str, int]:
    with psycopg.connect(db_url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


@pytest.mark.slow
def test_check_reports_each_method_and_writes_nothing(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    sources = demo_sources(site, tmp_path / "s.yaml")
    before = row_counts(db_url)
    site.clear_requests()
    # No database at all: a dry run of the crawl that needed one would fail here.
    nowhere = {"NEWSDESK_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    result = newsdesk("sources", "check", "metroherald", "--sources", str(sources), env=nowhere,
                      timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "robots.txt:" in out and "sitemaps announced: 2" in out
    assert "/feeds/all.atom: 40 links, 40 dated" in out
    assert "sitemap index" in out and "(40 news)" in out
    assert "article links" in out
    assert out.count("title: yes") == 3 and "body:" in out and "authors:" in out
    assert "warnings: none" in out
    assert row_counts(db_url) == before == dict.fromkeys(TABLES, 0)
    # It fetched from the site itself, through the crawl's stack: three article pages, no more.
    hits = site.requests("metroherald")
    assert [h.path for h in hits].count("/robots.txt") == 1
    assert len([h for h in hits if h.path.startswith("/news/") and h.status == 200]) == 3


@pytest.mark.slow
def test_check_honours_robots_and_warns_when_everything_is_refused(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    sources = demo_sources(site, tmp_path / "s.yaml")
    site.quirks.robots_extra["lecourrier"] = "User-agent: newsdesk\nDisallow: /\n"
    try:
        site.clear_requests()
        result = newsdesk("sources", "check", "lecourrier", "--sources", str(sources))
    finally:
        site.quirks.robots_extra.clear()
    assert result.returncode == 1
    assert "Forbidden by robots.txt" in result.stdout
    assert "no article URL found by any discovery method" in result.stdout
    assert {h.path for h in site.requests("lecourrier")} == {"/robots.txt"}


@pytest.mark.slow  # runs Scrapy's engine (the dry-run spider)
def test_check_of_a_private_source_without_the_opt_in_is_refused(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    sources = demo_sources(site, tmp_path / "s.yaml", allow_private_addresses=False)
    site.clear_requests()
    result = newsdesk("sources", "check", "lecourrier", "--sources", str(sources))
    assert result.returncode == 1
    assert "non-public address 127.0.0.1" in result.stdout
    assert site.requests("lecourrier") == []


@pytest.fixture
def gzip_site() -> Iterator[str]:
    """A site whose feed is broken gzip and whose sitemap a gzip bomb (64 MiB of zeros)."""
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = {"/feed.xml": b"\x1f\x8b\x08\x00not gzip at all", "/sitemap.xml": bomb}.get(
                self.path
            )
            self.send_response(404 if body is None else 200)
            self.send_header("Content-Type", "application/xml")
            if body is not None:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.slow  # runs Scrapy's engine (the dry-run spider)
def test_check_reports_a_broken_gzip_and_a_gzip_bomb_without_a_traceback(
    gzip_site: str, tmp_path: Path
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"sources": [{
        "name": "gz", "homepage": gzip_site + "/", "feeds": [gzip_site + "/feed.xml"],
        "sitemaps": [gzip_site + "/sitemap.xml"], "allow_private_addresses": True,
        "politeness": {"delay": 0},
    }]}))  # fmt: skip
    result = newsdesk("sources", "check", "gz", "--sources", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{gzip_site}/feed.xml: error: Error -3 while decompressing" in result.stdout
    assert "exceeded DOWNLOAD_MAXSIZE" in result.stdout
    assert "no article URL found by any discovery method" in result.stdout


def test_check_report_sums_up_an_index_past_its_first_children() -> None:
    site = "https://news.example"
    source = Source(name="s", homepage=site + "/", feeds=[site + "/feed"],
                    sitemaps=[site + "/index.xml"])  # fmt: skip
    children = [f"{site}/map-{n}.xml" for n in range(8)]

    def read(url: str, kind: str, n: int) -> DocumentRead:
        links = [(f"{site}/a/{n}", {"discovered_via": kind, "document": url})]
        return DocumentRead(url, kind, links=links, wanted=[f"{site}/a/{n}"])

    log = CheckLog(documents={
        site + "/feed": read(site + "/feed", "feed", 0),
        site + "/index.xml": DocumentRead(site + "/index.xml", "sitemap", index=True,
                                          links=[(c, {}) for c in children], children=children),
        **{url: read(url, "sitemap", n) for n, url in enumerate(children[:7])},
    }, failed={children[7]: "HTTP 500"})  # fmt: skip
    out = io.StringIO()
    assert Report(source, log, out).write(articles=3) == 1
    text = out.getvalue()
    assert f"robots.txt: {site}/robots.txt: not read" in text
    assert f"{site}/index.xml: sitemap index, 8 sitemaps (8 followed)" in text
    assert "map-4.xml: 1 links (0 news), 0 dated, 1 wanted" in text and "map-5.xml" not in text
    assert "... and 3 more sitemaps: 2 read (2 links, 2 wanted), 1 failed" in text
    assert f"feed {site}/feed: no dates on its items" in text
    assert f"sitemap {site}/index.xml: 1 more child sitemaps failed" in text
    assert "articles: 7 candidates" in text  # a/0 is in the feed and in map-0


def test_check_report_finds_a_document_that_answered_with_a_redirect() -> None:
    site = "https://news.example"
    source = Source(name="s", homepage=site + "/", feeds=[site + "/old-feed"])
    links = [(f"{site}/a/1", {"discovered_via": "feed", "document": site + "/feed/"})]
    log = CheckLog(documents={site + "/feed/": DocumentRead(site + "/feed/", "feed", links=links,
                                                            wanted=[f"{site}/a/1"])},
                   moved={site + "/old-feed": site + "/feed/"})
    out = io.StringIO()
    Report(source, log, out).write(articles=1)
    text = out.getvalue()
    assert f"{site}/old-feed: 1 links" in text and "not fetched" not in text


@pytest.mark.parametrize("reason", ["finished", "closespider_timeout"])
def test_check_report_says_when_the_time_budget_cut_it_short(reason: str) -> None:
    source = Source(name="s", homepage="https://news.example/")
    out = io.StringIO()
    Report(source, CheckLog(stats={"finish_reason": reason}), out).write(articles=1)
    cut = f"stopped after {CHECK_SECONDS} s" in out.getvalue()
    assert cut == (reason == "closespider_timeout")


@pytest.mark.slow  # runs Scrapy's engine (the dry-run spider)
def test_discover_prints_a_valid_entry_and_writes_nothing(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    base = site.publisher("lecourrier").base_url
    result = newsdesk("sources", "discover", base + "/", "--allow-private-addresses",
                      "--delay", "0")  # fmt: skip
    assert result.returncode == 0, result.stderr
    path = tmp_path / "found.yaml"
    path.write_text(result.stdout)
    (source,) = load_sources(path)
    assert source.feeds == [base + "/rss.xml"]
    assert source.sitemaps == [base + "/sitemap.xml", base + "/sitemap-news.xml"]
    assert source.language == "fr" and source.allow_private_addresses
    assert row_counts(db_url) == dict.fromkeys(TABLES, 0)
    refused = newsdesk("sources", "discover", base + "/", "--delay", "0")
    assert refused.returncode == 1 and "non-public address" in refused.stderr


@pytest.mark.slow  # runs Scrapy's engine (the dry-run spider)
def test_discover_of_an_unreachable_site_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    result = newsdesk("sources", "discover", url, "--allow-private-addresses", "--delay", "0")
    assert result.returncode == 1
    assert f"cannot fetch {url}: DownloadConnectionRefusedError" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("delay", "why"), [("121", "less than or equal to 120"),
                                            ("-1", "greater than or equal to 0"),
                                            ("x", "valid number")])
def test_discover_delay_out_of_bounds_is_a_usage_line(delay: str, why: str, capsys) -> None:
    from pipeline.cli.main import main

    with pytest.raises(SystemExit) as exit_:
        main(["sources", "discover", "http://example.org/", "--delay", delay])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and why in err and "Traceback" not in err


def test_sync_upserts_and_deactivates_removed_sources(db_url: str, tmp_path: Path) -> None:
    def entry(name: str) -> dict:
        return {"name": name, "homepage": f"https://{name}.example.com/"}

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"sources": [entry("a"), entry("b")]}))
    with psycopg.connect(db_url) as conn:
        assert sync_sources(conn, load_sources(path)) == []
        path.write_text(yaml.safe_dump({"sources": [entry("b"), entry("c")]}))
        assert sync_sources(conn, load_sources(path)) == ["a"]
        rows = dict(conn.execute("SELECT name, active FROM sources").fetchall())
    assert rows == {"a": False, "b": True, "c": True}


def test_list_shows_health_from_the_database_and_falls_back_to_yaml(
    db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"sources": [
        {"name": "good", "homepage": "https://good.example.com/"},
        {"name": "broken", "homepage": "https://broken.example.com/"},
        {"name": "fresh", "homepage": "https://fresh.example.com/"},
    ]}))  # fmt: skip
    with psycopg.connect(db_url) as conn:
        sync_sources(conn, load_sources(path))
        conn.execute(
            "INSERT INTO crawl_runs (source, run_key, status, finished_at, error) VALUES"
            " ('good', 'r1', 'success', now(), NULL),"
            " ('broken', 'r1', 'failed', now(), 'nothing could be fetched: HTTP 403')"
        )
        conn.execute(
            "INSERT INTO articles (canonical_url, url, source, body, word_count, content_hash,"
            " fetched_at, extractor_version) VALUES ('https://good.example.com/a',"
            " 'https://good.example.com/a', 'good', 'text', 1, 'h', now(), 'x')"
        )
    result = newsdesk("sources", "list", "--sources", str(path), env={"COLUMNS": "250"})
    assert result.returncode == 0, result.stderr
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines()
             if line.count("│") > 3}  # fmt: skip
    assert "ok" in lines["good"] and "│ 1 " in lines["good"]
    assert "never succeeded: nothing could be fetched: HTTP 403" in lines["broken"]
    assert "never crawled" in lines["fresh"]

    offline = newsdesk(
        "sources",
        "list",
        "--sources",
        str(path),
        env={"NEWSDESK_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "COLUMNS": "250"},
    )
    assert offline.returncode == 0
    assert "warning: no run history (database unavailable" in offline.stderr
    assert "https://good.example.com/" in offline.stdout


NOW = datetime(2026, 3, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("health", "active", "expected"),
    [
        (None, False, "inactive"),
        (None, True, "never crawled"),
        (Health("x", NOW, "failed", "boom", {}, None, 0), True, "never succeeded: boom"),
        (Health("x", NOW, "failed", "boom", {}, NOW - timedelta(days=1), 5), True, "failing: boom"),
        (Health("x", NOW, "success", None, {"article_requests": 10, "blocked": 8}, NOW, 5),
         True, "blocked: 8 pages refused by a bot wall or robots.txt in the last run"),
        (Health("x", NOW, "success", None, {}, NOW - timedelta(days=3), 5), True,
         "stale: no successful run in 2 days"),
        (Health("x", NOW, "success", None, {}, NOW, 0), True, "no new articles in 7 days"),
        (Health("x", NOW, "success", None, {"article_requests": 10}, NOW, 12), True, "ok"),
    ],
)  # fmt: skip
def test_health_verdicts(health: Health | None, active: bool, expected: str) -> None:
    assert verdict(health, active, now=NOW) == expected


def test_trend_alerts_show_when_the_last_run_looks_fine() -> None:
    fine = Health("x", NOW, "success", None, {"article_requests": 10}, NOW, 12)
    trend = "dates found on 10% of articles, down from 95% (layout change?)"
    assert verdict(fine, True, now=NOW, trends=[trend]) == trend
    failed = Health("x", NOW, "failed", "boom", {}, NOW, 5)
    assert verdict(failed, True, now=NOW, trends=[trend]) == "failing: boom"


def test_check_report_prints_page_text_with_its_control_characters_escaped() -> None:
    """An author and a server's error text reach the terminal: a C1 CSI (\\x9b) or an OSC
    hyperlink (ESC ]8) in them is shown as an escape, not obeyed."""
    site = "https://news.example"
    html = (f'<html><head><title>A story</title><meta name="author" content="Eve\x9b31m Red">'
            f'</head><body><article><p>{"Words of the story told. " * 60}</p></article>'
            "</body></html>").encode()  # fmt: skip
    page = RawPage("s", f"{site}/a/1", "", f"{site}/a/1", 200,
                   {"Content-Type": ["text/html; charset=utf-8"]}, html, "feed")
    hyperlink = "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"
    log = CheckLog(articles=[(f"{site}/a/2", f"HTTP 500 {hyperlink}"), (f"{site}/a/1", page)])
    out = io.StringIO()
    Report(Source(name="s", homepage=site + "/"), log, out).write(articles=2)
    text = out.getvalue()
    assert "\x1b" not in text and "\x9b" not in text, text
    assert "HTTP 500 \\x1b]8;;http://evil.example/\\x1b\\click" in text
    assert "authors: Eve\\x9b31m Red" in text

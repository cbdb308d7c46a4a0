"""The crawl stage: `python -m crawlers` on the demo site into a real Postgres, and its parts.

Real Scrapy in a child process, real HTTP on 127.0.0.1, real database; no mocks.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.test import get_crawler

from crawlers import resolver
from crawlers.middlewares import PrivateAddressGuardMiddleware, non_public_addresses
from crawlers.runs import run_outcome
from crawlers.spiders.news import NewsSpider
from pipeline.demo_site import DemoSite, RunningSite, serve_demo_site
from tests.repo import REPO_ROOT

PUBLISHERS = ("dailyplanet", "metroherald", "lecourrier")


@pytest.fixture(scope="module")
def site() -> Iterator[RunningSite]:
    with serve_demo_site(DemoSite(seed=7, n_articles=300)) as running:
        yield running


def write_sources(
    site: RunningSite, path: Path, *, only: str | None = None, **overrides: object
) -> Path:
    """The demo's sources YAML, optionally keeping one discovery kind and changing fields."""
    document = yaml.safe_load(site.sources_yaml())
    keep = {"feed": "feeds", "sitemap": "sitemaps", "listing": "listings"}
    for source in document["sources"]:
        if only is not None:
            for kind, key in keep.items():
                if kind != only:
                    source[key] = []
        source.update(overrides)
    path.write_text(yaml.safe_dump(document))
    return path


def crawl(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawlers", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )


def reports(result: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    return {r["source"]: r for r in map(json.loads, result.stdout.splitlines())}


def stored(db_url: str) -> dict[str, dict]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT url, source, final_url, status, discovered_via, discovery, headers, html_gz,"
            " content_sha256, crawl_run_id FROM raw_pages"
        ).fetchall()
    names = ("url", "source", "final_url", "status", "discovered_via", "discovery", "headers",
             "html_gz", "sha", "run_id")  # fmt: skip
    return {row[0]: dict(zip(names, row, strict=True)) for row in rows}


def listed(site: RunningSite, name: str, *kinds: str) -> set[str]:
    return set().union(*(site.listed_in(name, kind) for kind in kinds))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("only", "kinds"),
    [("feed", ("feed",)), ("sitemap", ("sitemap", "news_sitemap")), ("listing", ("listing",))],
)
def test_each_discovery_kind_finds_exactly_what_it_lists(
    site: RunningSite, db_url: str, tmp_path: Path, only: str, kinds: tuple[str, ...]
) -> None:
    sources = write_sources(site, tmp_path / "sources.yaml", only=only)
    result = crawl(*(f"--source={n}" for n in PUBLISHERS), "--sources", str(sources), "--no-delay")
    assert result.returncode == 0, result.stderr
    pages = stored(db_url)
    not_found = site.special_urls()["not_found"]
    for name in PUBLISHERS:
        expected = listed(site, name, *kinds) - {not_found}
        assert {u for u, p in pages.items() if p["source"] == name} == expected, name
    assert {p["discovered_via"] for p in pages.values()} == {only}


@pytest.mark.slow
def test_full_crawl_stores_every_page_once_then_nothing_new(
    site: RunningSite, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = write_sources(site, tmp_path / "sources.yaml")
    temp = tmp_path / "temp"  # where the crawl's throwaway request queues go
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    args = [*(f"--source={n}" for n in PUBLISHERS), "--sources", str(sources), "--no-delay"]
    first = crawl(*args, "--run-key", "2026-03-15")
    assert first.returncode == 0, first.stderr
    special = site.special_urls()
    pages = stored(db_url)
    everything = set().union(*(listed(site, n, "feed", "sitemap", "news_sitemap", "listing")
                               for n in PUBLISHERS))  # fmt: skip
    assert set(pages) == everything - {special["not_found"]}

    # The stale feed link is stored once, under the URL the feed gave, with where it led.
    redirect = pages[special["redirect"]]
    assert redirect["final_url"] == special["redirect_target"]
    assert redirect["status"] == 200 and redirect["discovered_via"] == "feed"
    assert redirect["discovery"]["document"].startswith(site.publisher("metroherald").base_url)
    assert redirect["discovery"]["title"]
    # The withdrawn story (404) is counted, not stored.
    report = reports(first)
    not_found_source = next(p.name for p in site.publishers
                            if special["not_found"].startswith(p.base_url))  # fmt: skip
    assert report[not_found_source]["pages_failed"] == 1
    assert special["not_found"] not in pages

    # Rows hold the body as received (gzip), its hash, and headers as lists.
    page = pages[special["paywalled"]]
    body = gzip.decompress(page["html_gz"])
    assert hashlib.sha256(body).digest() == page["sha"]
    assert b"<html" in body.lower()
    assert any(v == ["text/html; charset=utf-8"] for k, v in page["headers"].items()
               if k.lower() == "content-type")  # fmt: skip

    with psycopg.connect(db_url) as conn:
        runs = conn.execute(
            "SELECT source, id, status, pages_fetched, pages_failed, stats, finished_at"
            " FROM crawl_runs WHERE run_key = '2026-03-15'"
        ).fetchall()
        names = conn.execute("SELECT name FROM sources ORDER BY name").fetchall()
    assert sorted(n for (n,) in names) == sorted(PUBLISHERS)
    first_ids = {}
    for source, run_id, status, fetched, failed, stats, finished in runs:
        first_ids[source] = run_id
        assert status == "success" and finished is not None
        assert fetched == sum(1 for p in pages.values() if p["source"] == source)
        assert fetched == report[source]["pages_fetched"]
        assert failed == report[source]["pages_failed"]
        assert stats["requests"] > fetched and stats["elapsed_seconds"] > 0
        assert stats["discovered"]["feed"] > 0 and stats["discovered"]["listing"] > 0
        # Every request waited on disk, none in memory; the queue is gone with the crawl.
        assert stats["requests_queued"]["memory"] == 0
        assert stats["requests_queued"]["disk"] >= stats["article_requests"] > 0
    assert all(p["run_id"] == first_ids[p["source"]] for p in pages.values())
    assert list(temp.iterdir()) == []

    # The same run again: nothing new is requested, every known URL is skipped as seen.
    second = crawl(*args, "--run-key", "2026-03-15")
    assert second.returncode == 0, second.stderr
    assert len(stored(db_url)) == len(pages)
    with psycopg.connect(db_url) as conn:
        again = conn.execute(
            "SELECT source, id, pages_fetched, stats FROM crawl_runs WHERE run_key = '2026-03-15'"
        ).fetchall()
    assert len(again) == len(PUBLISHERS)  # the rerun reused its rows
    for source, run_id, fetched, stats in again:
        assert run_id == first_ids[source] and fetched == 0
        # Feeds and sitemaps answer 304, so not even the 404 is asked for again; listing
        # pages are unchanged too.
        assert stats["article_requests"] == 0
        assert stats["documents_not_modified"] > 0


@pytest.mark.slow
def test_private_addresses_are_refused_without_the_opt_in(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    sources = write_sources(site, tmp_path / "sources.yaml", allow_private_addresses=False)
    result = crawl("--source", "lecourrier", "--sources", str(sources), "--no-delay")
    assert result.returncode == 1
    [line] = result.stdout.splitlines()
    report = json.loads(line)
    assert report["status"] == "failed" and report["pages_fetched"] == 0
    assert "nothing could be fetched" in report["error"]
    assert "refused http://127.0.0.1:" in result.stderr
    assert "allow_private_addresses" in result.stderr
    assert "Traceback" not in result.stderr
    assert stored(db_url) == {}
    with psycopg.connect(db_url) as conn:
        status, error, stats = conn.execute(
            "SELECT status, error, stats FROM crawl_runs WHERE source = 'lecourrier'"
        ).fetchone()
    assert status == "failed" and "non-public address 127.0.0.1" in error
    assert stats["refused_private_addresses"] >= 1


@pytest.mark.slow
def test_a_database_failure_fails_the_crawl(site: RunningSite, db_url: str, tmp_path: Path) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$;"
            " CREATE TRIGGER refuse BEFORE INSERT ON raw_pages FOR EACH ROW EXECUTE FUNCTION"
            " refuse();"
        )
    sources = write_sources(site, tmp_path / "sources.yaml", only="feed")
    result = crawl("--source", "lecourrier", "--sources", str(sources), "--no-delay")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["status"] == "failed" and "disk on fire" in report["error"]
    with psycopg.connect(db_url) as conn:
        status, error = conn.execute("SELECT status, error FROM crawl_runs").fetchone()
    assert status == "failed" and "disk on fire" in error


@pytest.mark.slow
def test_scrapy_crawl_from_the_repository_root(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    sources = write_sources(site, tmp_path / "sources.yaml", only="feed")
    env = os.environ | {"NEWSDESK_SOURCES": str(sources)}
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "source=lecourrier",
         "-a", "limit=5", "-a", "run_key=by-hand", "-s", "DOWNLOAD_DELAY=0"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    pages = stored(db_url)
    assert len(pages) == 5
    assert set(pages) <= site.listed_in("lecourrier", "feed")
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT status, pages_fetched FROM crawl_runs").fetchone()
    assert row == ("success", 5)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "nosuch"], "unknown source 'nosuch'"),
        (["--source", "x", "--sources", "/nonexistent.yaml"], "sources file not found"),
        (["--source", "x", "--limit", "-1"], "--limit"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    db_url: str, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  - name: x\n    homepage: https://x.example.com/\n"
    )
    if "--sources" not in args:
        args = [*args, "--sources", str(tmp_path / "sources.yaml")]
    result = crawl(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_unreachable_database_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  - name: x\n    homepage: https://x.example.com/\n"
    )
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    result = crawl("--source", "x", "--sources", str(tmp_path / "sources.yaml"))
    assert result.returncode == 2
    assert "cannot connect to the database" in result.stderr
    assert "Traceback" not in result.stderr


# --- parts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("not-an-address", False),
    ],
)
def test_non_public_addresses(address: str, public: bool) -> None:
    assert (non_public_addresses([address]) == []) is public


def _guard(**settings: object) -> PrivateAddressGuardMiddleware:
    crawler = get_crawler(NewsSpider, {"NEWSDESK_SOURCE": "test", **settings})
    crawler.stats.open_spider()
    return PrivateAddressGuardMiddleware.from_crawler(crawler)


def test_guard_refuses_private_hosts_and_redirect_targets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    asyncio.run(_check_guard())
    assert caplog.text.count("refused http") == 5
    assert "allow_private_addresses" in caplog.text


async def _check_guard() -> None:
    guard = _guard()
    for url in ("http://127.0.0.1:8000/feed", "http://[::1]/x", "http://localhost/",
                "https://169.254.169.254/latest/meta-data/"):  # fmt: skip
        with pytest.raises(IgnoreRequest, match="non-public address"):
            await guard.process_request(Request(url))
    # A redirect is a new request through the same middlewares: same verdict.
    redirected = Request("http://10.0.0.5/admin", meta={"redirect_urls": ["https://a.example/"]})
    with pytest.raises(IgnoreRequest, match=r"10\.0\.0\.5"):
        await guard.process_request(redirected)
    assert await guard.process_request(Request("http://93.184.216.34/")) is None
    assert guard.stats.get_value("newsdesk/refused_private_address") == 5


def test_guard_lets_private_hosts_through_when_the_source_allows_them() -> None:
    guard = _guard(NEWSDESK_ALLOW_PRIVATE_ADDRESSES=True)
    assert asyncio.run(guard.process_request(Request("http://10.0.0.7/feed"))) is None
    assert "10.0.0.7" in resolver._PRIVATE_ALLOWED  # the connection may use it too


@pytest.mark.parametrize(
    ("reason", "stats", "errors", "ok", "status", "error"),
    [
        ("finished", {}, [], 2, "success", None),
        ("finished", {}, ["a: HTTP 404"], 1, "success", None),
        ("finished", {}, ["a: HTTP 404", "b: HTTP 500"], 0, "failed", "a: HTTP 404 (and 1 more)"),
        ("finished", {"newsdesk/db_error": "boom"}, [], 3, "failed", "database error: boom"),
        ("shutdown", {}, [], 3, "failed", "crawl stopped: shutdown"),
    ],
)
def test_run_outcome(
    reason: str, stats: dict, errors: list[str], ok: int, status: str, error: str | None
) -> None:
    got_status, got_error = run_outcome(reason, stats, errors, ok)
    assert got_status == status
    assert (got_error is None) if error is None else (error in got_error)


@pytest.mark.slow
def test_robots_txt_applies_to_the_requests_that_waited_for_it(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    """Every start URL is queued while robots.txt downloads; each is checked against it (Scrapy
    2.19 let all but the first through unchecked)."""
    sources = write_sources(site, tmp_path / "s.yaml")
    site.quirks.robots_extra["lecourrier"] = "User-agent: newsdesk\nDisallow: /\n"
    try:
        site.clear_requests()
        result = crawl("--source", "lecourrier", "--sources", str(sources), "--no-delay")
    finally:
        site.quirks.robots_extra.clear()
    assert {h.path for h in site.requests("lecourrier")} == {"/robots.txt"}
    assert reports(result)["lecourrier"]["status"] == "failed"
    assert stored(db_url) == {}


# --- a hand-made site for what the demo does not have -----------------------------------------

SITEMAP_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def _tiny_site(base: str) -> dict[str, tuple[str, bytes]]:
    def index(*locs: str) -> bytes:
        entries = "".join(f"<sitemap><loc>{base}{loc}</loc></sitemap>" for loc in locs)
        return f"<sitemapindex {SITEMAP_NS}>{entries}</sitemapindex>".encode()

    def urlset(*locs: str) -> bytes:
        entries = "".join(f"<url><loc>{base}{loc}</loc></url>" for loc in locs)
        return f"<urlset {SITEMAP_NS}>{entries}</urlset>".encode()

    html = "text/html; charset=utf-8"
    return {
        "/robots.txt": ("text/plain", b"User-agent: *\nDisallow: /private/\nSitemap: /index.xml\n"),
        # The index lists itself (a loop) and a gzip file served as such.
        "/index.xml": ("application/xml", index("/index.xml", "/a.xml.gz", "/nested.xml")),
        "/nested.xml": ("application/xml", index("/index.xml", "/b.xml")),
        "/a.xml.gz": ("application/x-gzip", gzip.compress(urlset("/a/1", "/a/2"))),
        "/b.xml": ("application/xml", urlset("/a/2", "/a/3", "/report.pdf", "/private/x")),
        "/a/1": (html, b"<html><body><p>one</p></body></html>"),
        "/a/2": (html, b"<html><body><p>two</p></body></html>"),
        "/a/3": (html, b"<html><body><p>three</p></body></html>"),
        "/report.pdf": ("application/pdf", b"%PDF-1.4 not a page"),
    }


@pytest.fixture
def tiny_site() -> Iterator[str]:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    pages: dict[str, tuple[str, bytes]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            content_type, body = pages.get(self.path, ("text/html", b"not found"))
            self.send_response(200 if self.path in pages else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    pages.update(_tiny_site(base))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    yield base
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_robots_sitemaps_gzip_loops_and_non_html(
    tiny_site: str, db_url: str, tmp_path: Path
) -> None:
    (tmp_path / "sources.yaml").write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {
                        "name": "tiny",
                        "homepage": tiny_site + "/",
                        "sitemaps": [tiny_site + "/robots.txt"],
                        "allow_private_addresses": True,
                    }
                ]
            }
        )
    )
    result = crawl("--source", "tiny", "--sources", str(tmp_path / "sources.yaml"), "--no-delay")
    assert result.returncode == 0, result.stderr
    pages = stored(db_url)
    assert set(pages) == {f"{tiny_site}/a/{n}" for n in (1, 2, 3)}
    assert {p["discovery"]["document"] for p in pages.values()} == {
        f"{tiny_site}/a.xml.gz",
        f"{tiny_site}/b.xml",
    }
    with psycopg.connect(db_url) as conn:
        (stats,) = conn.execute("SELECT stats FROM crawl_runs").fetchone()
    assert stats["pages_failed"] == 1  # the PDF: fetched, not HTML, not stored
    assert stats["robots_denied"] == 1  # /private/x
    # robots.txt twice (ours and the robots middleware's), 2 indexes, 2 sitemaps, 4 pages and
    # the site's tdmrep.json once: the index listed by itself and by its child is not fetched again.
    assert stats["requests"] == 2 + 2 + 2 + 4 + 1


@pytest.mark.slow
def test_sources_take_turns_beyond_the_at_once_bound(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    """A run over more sources than NEWSDESK_SOURCES_AT_ONCE crawls them all, never more at once
    (each holds database connections: all at once, 50 sources exhausted PostgreSQL's 100)."""
    sources = write_sources(site, tmp_path / "sources.yaml", only="feed")
    result = crawl(*(f"--source={n}" for n in PUBLISHERS), "--sources", str(sources),
                   "--no-delay", "-s", "NEWSDESK_SOURCES_AT_ONCE=1")
    assert result.returncode == 0, result.stderr
    assert {r["status"] for r in reports(result).values()} == {"success"}
    with psycopg.connect(db_url) as conn:
        runs = conn.execute(
            "SELECT started_at, finished_at FROM crawl_runs ORDER BY started_at").fetchall()
    assert len(runs) == len(PUBLISHERS)
    for (_, finished), (started, _) in itertools.pairwise(runs):
        assert started >= finished, "two sources crawled at once"
    assert {p["source"] for p in stored(db_url).values()} == set(PUBLISHERS)


@pytest.mark.slow
def test_a_stopped_crawl_leaves_no_run_open_and_reports_waiting_sources_not_run(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    """SIGTERM while sources wait their turn: the running one closes cleanly, no crawl_runs row
    is left 'running', and the waiting ones are reported as not run. (Whether a waiting source
    would have been half-started is a race this test cannot force; `_crawl_in_turn` guards it.)"""
    sources = write_sources(site, tmp_path / "sources.yaml")
    slow = ["-s", "DOWNLOAD_DELAY=0.05", "-s", "AUTOTHROTTLE_ENABLED=False",
            "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "NEWSDESK_SOURCES_AT_ONCE=1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawlers", *(f"--source={n}" for n in PUBLISHERS),
         "--sources", str(sources), "--no-delay", *slow],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=os.environ.copy(),
    )
    end = time.monotonic() + 60
    while not stored(db_url):
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert time.monotonic() < end, "no page stored in time"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    results = {r["source"]: r for r in map(json.loads, out.splitlines())}
    with psycopg.connect(db_url) as conn:
        runs = dict(conn.execute("SELECT source, status FROM crawl_runs").fetchall())
    assert len(runs) == 1 and "running" not in runs.values(), (runs, err[-2000:])
    waiting = set(PUBLISHERS) - set(runs)
    assert len(waiting) == 2
    for name in waiting:
        assert results[name]["error"] == "the crawl did not run: stopped", results[name]

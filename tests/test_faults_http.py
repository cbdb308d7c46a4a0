"""HTTP faults on the real stack: the demo site's fault mode, `python -m crawlers`, Postgres.

One crawl (module fixture) meets every HTTP fault at once through one feed; each test below names
one fault and asserts what it left behind: the good pages stored once, nothing junk stored.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import psycopg
import pytest
import yaml

from pipeline.demo_site import DemoSite, RunningSite, serve_demo_site
from pipeline.demo_site.faults import Fault
from tests.repo import REPO_ROOT
from tests.test_crawl import reports

pytestmark = pytest.mark.slow  # crawls the demo site

PUB = "dailyplanet"
TIMEOUT = 2  # DOWNLOAD_TIMEOUT for this crawl, seconds
MAXSIZE = 2 * 1024 * 1024

#: Real article pages served with a passing fault first: each must end up stored.
RECOVERING = {
    "intermittent_500": Fault("status", times=2, status=500),
    "intermittent_502": Fault("status", times=1, status=502),
    "intermittent_503": Fault("status", times=2, status=503),
    "rate_limited_429": Fault(
        "content", times=1, status=429, content_type="text/plain", headers={"Retry-After": "1"}
    ),
    "reset_mid_body_once": Fault("reset", times=1),
}

#: Pages that never come good: each must be refused, never stored.
BROKEN = {
    "always_500": Fault("status", status=500),
    "reset_mid_body": Fault("reset"),
    "slower_than_timeout": Fault("slow", seconds=TIMEOUT + 3),
    "slow_trickle": Fault("trickle", seconds=0.2),
    "short_body": Fault("short"),
    "over_maxsize": Fault("huge", size=MAXSIZE + 100_000, announced=False),  # cut as it streams
    "page_of_50_mb": Fault("huge", size=50 * 1024 * 1024),
    "gzip_bomb": Fault("gzip_bomb", size=50 * 1024 * 1024),
    "brotli_bomb": Fault("brotli_bomb", size=50 * 1024 * 1024),
    "redirect_loop": Fault("redirect", location="/faults/redirect_loop/"),
    "redirect_chain": Fault("redirect", location="/faults/chain/1/"),
    "pdf_at_article_url": Fault(
        "content", content_type="application/pdf", body=b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n"
    ),
    "image_at_article_url": Fault(
        "content", content_type="image/png", body=b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    ),
    "empty_page": Fault("content", body=b""),
    "gzip_file_labelled_html": Fault("content", body=gzip.compress(b"\0" * 10_000_000)),
}


def crawl(*args: str, db: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m crawlers` into the database `db`."""
    return subprocess.run(
        [sys.executable, "-m", "crawlers", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ | {"NEWSDESK_DATABASE_URL": db},
    )


def fault_path(name: str) -> str:
    return f"/faults/{name}/"


def rss(base: str, urls: list[str]) -> bytes:
    items = "".join(
        f"<item><title>{escape(u)}</title><link>{escape(u)}</link></item>" for u in urls
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>faults</title><link>{base}/</link>{items}</channel></rss>"
    ).encode()


def sources_for(site: RunningSite, path: Path, feeds: list[str]) -> Path:
    document = yaml.safe_load(site.sources_yaml())
    document["sources"] = [s for s in document["sources"] if s["name"] == PUB]
    document["sources"][0].update(feeds=feeds, sitemaps=[], listings=[])
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.fixture(scope="module")
def faulted(
    module_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, object]]:
    """Crawl a feed listing good pages, recovering faults and broken pages; return the outcome."""
    with serve_demo_site(DemoSite(seed=7, n_articles=60)) as site:
        base = site.bases[PUB]
        articles = [t.url for t in site.truth() if t.publisher == PUB]
        good, recovering = articles[:3], dict(zip(RECOVERING, articles[3:], strict=False))
        for name, url in recovering.items():
            site.faults.set(PUB, url.removeprefix(base), RECOVERING[name])
        for name, fault in BROKEN.items():
            site.faults.set(PUB, fault_path(name), fault)
        for n in range(1, 10):  # an over-long chain: 9 hops, REDIRECT_MAX_TIMES is 5
            site.faults.set(
                PUB, f"/faults/chain/{n}/", Fault("redirect", location=f"/faults/chain/{n + 1}/")
            )
        broken = {name: base + fault_path(name) for name in BROKEN}
        feed = rss(base, [*good, *recovering.values(), *broken.values()])
        site.faults.set(
            PUB, "/faults/feed.xml", Fault("content", content_type="application/rss+xml", body=feed)
        )
        tmp = tmp_path_factory.mktemp("faults")
        sources = sources_for(site, tmp / "sources.yaml", [base + "/faults/feed.xml"])
        started = time.monotonic()
        result = crawl(
            f"--source={PUB}", "--sources", str(sources), "--no-delay",
            "-s", f"DOWNLOAD_TIMEOUT={TIMEOUT}", "-s", f"DOWNLOAD_MAXSIZE={MAXSIZE}",
            "-s", "NEWSDESK_RETRY_AFTER_MAX=2", "--run-key", "faults",
            db=module_db,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        with psycopg.connect(module_db) as conn:
            rows = conn.execute("SELECT url, html_gz FROM raw_pages").fetchall()
        yield {
            "result": result,
            "elapsed": elapsed,
            "stored": {url: gzip.decompress(body) for url, body in rows},
            "good": good,
            "recovering": recovering,
            "broken": broken,
            "hits": site.requests(PUB),
            "base": base,
        }


def test_the_faulted_crawl_finishes_within_its_deadlines(faulted: dict) -> None:
    result = faulted["result"]
    assert reports(result)[PUB]["status"] in ("success", "partial"), result.stderr
    # Every slow fault is cut by DOWNLOAD_TIMEOUT (3 tries each), not left to run for a minute.
    assert faulted["elapsed"] < 45


def test_good_pages_beside_the_faults_are_stored_exactly_once(faulted: dict) -> None:
    for url in faulted["good"]:
        assert url in faulted["stored"]


@pytest.mark.parametrize("name", list(RECOVERING))
def test_a_passing_fault_is_retried_and_the_page_stored(faulted: dict, name: str) -> None:
    url = faulted["recovering"][name]
    assert url in faulted["stored"]
    assert b"<html" in faulted["stored"][url].lower()


@pytest.mark.parametrize("name", list(BROKEN))
def test_a_broken_page_is_never_stored(faulted: dict, name: str) -> None:
    assert faulted["broken"][name] not in faulted["stored"]


def test_only_whole_pages_are_stored(faulted: dict) -> None:
    """No truncated body, no decompressed bomb, no blank page among the rows."""
    for url, body in faulted["stored"].items():
        assert body.rstrip().endswith(b"</html>"), url
        assert len(body) < MAXSIZE


def test_slow_trickle_is_cut_by_the_total_download_deadline(faulted: dict) -> None:
    """A byte every 0.2 s never trips an inactivity timeout; the deadline stops it."""
    tries = [h for h in faulted["hits"] if h.path == fault_path("slow_trickle")]
    assert 1 <= len(tries) <= 3
    assert faulted["broken"]["slow_trickle"] not in faulted["stored"]


def test_redirect_loop_and_long_chain_are_given_up(faulted: dict) -> None:
    chain = [h for h in faulted["hits"] if h.path.startswith("/faults/chain/")]
    assert chain and max(int(h.path.split("/")[3]) for h in chain) <= 6
    loop = [h for h in faulted["hits"] if h.path == fault_path("redirect_loop")]
    assert 1 <= len(loop) <= 3 * 6

"""The demo site's fault-injecting mode on the wire, without a crawler: each kind of fault as
http.client sees it, its count, and the real page once the count is spent.

test_faults_*.py (slow) crawl through these faults; this checks the faults themselves, fast.
"""

from __future__ import annotations

import gzip
import http.client
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from pipeline.demo_site import DemoSite, RunningSite, serve_demo_site
from pipeline.demo_site.faults import Fault

PUB = "lecourrier"


@pytest.fixture(scope="module")
def site() -> Iterator[RunningSite]:
    with serve_demo_site(DemoSite(seed=7, n_articles=60)) as running:
        yield running


@pytest.fixture(autouse=True)
def _no_faults_left(site: RunningSite) -> Iterator[None]:
    yield
    site.faults.clear()


def _get(site: RunningSite, path: str, method: str = "GET",
         headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    """The response (body unread) on a new connection; the caller reads what it wants."""
    parts = urlsplit(site.publisher(PUB).base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request(method, path, headers=headers or {})
    return conn.getresponse()


def test_status_fault_is_served_times_then_the_real_page(site) -> None:
    site.faults.set(PUB, "/rss.xml", Fault("status", times=2, status=502))
    assert [_get(site, "/rss.xml").status for _ in range(3)] == [502, 502, 200]
    assert [h.status for h in site.requests(PUB)[-3:]] == [502, 502, 200]


def test_redirect_and_content_faults(site) -> None:
    site.faults.set(PUB, "/loop/", Fault("redirect", location="/loop/"))
    site.faults.set(PUB, "/doc.pdf", Fault("content", content_type="application/pdf",
                                           body=b"%PDF-1.4", headers={"X-Test": "yes"}))
    loop = _get(site, "/loop/")
    assert loop.status == 302 and loop.headers["Location"] == "/loop/"
    pdf = _get(site, "/doc.pdf")
    assert (pdf.status, pdf.headers["Content-Type"], pdf.headers["X-Test"]) == (
        200, "application/pdf", "yes")
    assert pdf.read() == b"%PDF-1.4"
    head = _get(site, "/doc.pdf", method="HEAD")
    assert head.headers["Content-Length"] == "8" and head.read() == b""


def test_gzip_bomb_is_small_on_the_wire_and_huge_inflated(site) -> None:
    site.faults.set(PUB, "/bomb/", Fault("gzip_bomb", size=5_000_000))
    resp = _get(site, "/bomb/")
    body = resp.read()
    assert resp.headers["Content-Encoding"] == "gzip" and len(body) < 50_000
    assert len(gzip.decompress(body)) == 5_000_000


def test_huge_page_with_and_without_its_length(site) -> None:
    site.faults.set(PUB, "/big/", Fault("huge", size=300_000))
    site.faults.set(PUB, "/endless/", Fault("huge", size=300_000, announced=False))
    announced = _get(site, "/big/")
    assert announced.headers["Content-Length"] == "300000" and len(announced.read()) == 300_000
    unannounced = _get(site, "/endless/")
    assert unannounced.headers["Content-Length"] is None
    assert len(unannounced.read()) == 300_000  # ends when the server closes the connection


def test_short_body_and_reset_cut_the_page(site) -> None:
    site.faults.set(PUB, "/short/", Fault("short"))
    site.faults.set(PUB, "/reset/", Fault("reset"))
    with pytest.raises(http.client.IncompleteRead):
        _get(site, "/short/").read()
    with pytest.raises((http.client.IncompleteRead, ConnectionResetError)):
        _get(site, "/reset/").read()


def test_slow_fault_waits_before_answering(site) -> None:
    site.faults.set(PUB, "/late/", Fault("slow", seconds=0.3, times=1))
    started = time.monotonic()
    resp = _get(site, "/late/")
    assert resp.read() == b"<html>late</html>"
    assert time.monotonic() - started >= 0.3  # a lower bound only: load cannot make it flake


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kind 'teapot'"):
        Fault("teapot")

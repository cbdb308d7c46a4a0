"""The network boundary against hostile names, addresses and documents (issue 19): the address
the crawl connects to is vetted, an unresolvable host is refused, IPv6 forms that embed a private
IPv4 address are private, gzip bombs and bad gzip stay one line, and a JSON Feed nested past the
parser's recursion is a counted, unreadable document. Real HTTP on 127.0.0.1, real Scrapy."""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
import yaml
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.settings import Settings
from scrapy.utils.misc import load_object
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError

from crawlers import resolver
from crawlers.middlewares import PrivateAddressGuardMiddleware
from crawlers.page_rules import parse_tdmrep
from crawlers.probe.dry_run import dry_run_settings
from crawlers.resolver import PublicAddressResolver
from crawlers.spiders.news import NewsSpider
from pipeline.text.urls import is_public_address
from tests.cli import newsdesk
from tests.test_crawl import crawl

NESTED_JSON = b"[" * 100_000
#: A gzip file of 64 MiB of zeros (64 KiB on the wire): past DOWNLOAD_MAXSIZE (10 MiB).
BOMB = gzip.compress(b"\0" * (64 * 1024 * 1024))
HOME = (b'<html><head><title>Hostile</title><link rel="alternate" type="application/feed+json"'
        b' href="/feed.json"></head><body><p>Hello.</p></body></html>')  # fmt: skip


class HostileSite:
    """A site on 127.0.0.1 serving `pages` (path -> (headers, body)), noting every path asked."""

    def __init__(self, pages: dict[str, tuple[dict[str, str], bytes]]) -> None:
        self.pages = pages
        self.asked: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.asked.append(self.path)
                headers, body = site.pages.get(self.path, ({}, b""))
                self.send_response(200 if self.path in site.pages else 404)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileSite:
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_source(path: Path, homepage: str, **fields: object) -> Path:
    entry = {"name": "hostile", "homepage": homepage, "politeness": {"delay": 0}, **fields}
    path.write_text(yaml.safe_dump({"sources": [entry]}))
    return path


# --- the one judge of an address ----------------------------------------------------------------

EMBEDDED_PRIVATE = [
    "::127.0.0.1",  # IPv4-compatible
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:0:7f00:1",  # SIIT IPv4-translated (::ffff:0:0:0/96) of 127.0.0.1
    "::ffff:0:a9fe:a9fe",  # SIIT of 169.254.169.254
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254 (cloud metadata)
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::a00:1",  # NAT64 local-use prefix
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
]


@pytest.mark.parametrize("address", EMBEDDED_PRIVATE)
def test_ipv6_forms_embedding_a_private_ipv4_address_are_refused(
    address: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert not is_public_address(address)
    guard = _guard()
    with pytest.raises(IgnoreRequest, match="non-public address"):
        asyncio.run(guard.process_request(Request(f"http://[{address}]/feed")))
    assert guard.stats.get_value("newsdesk/refused_private_address") == 1


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "2606:2800:220:1::", "::ffff:93.184.216.34",
                "::ffff:0:5db8:d822", "2002:5db8:d822::", "64:ff9b::5db8:d822"],
)  # fmt: skip
def test_the_same_forms_embedding_a_public_ipv4_address_pass(address: str) -> None:
    assert is_public_address(address)


def _guard(**settings: object) -> PrivateAddressGuardMiddleware:
    crawler = get_crawler(NewsSpider, {"NEWSDESK_SOURCE": "hostile", **settings})
    crawler.stats.open_spider()
    return PrivateAddressGuardMiddleware.from_crawler(crawler)


def test_a_host_that_does_not_resolve_is_refused() -> None:
    guard = _guard()
    request = Request("http://nonexistent.invalid/feed")
    with pytest.raises(DNSLookupError, match=r"refused .*nonexistent\.invalid does not resolve"):
        asyncio.run(guard.process_request(request))


def test_behind_a_proxy_a_host_that_does_not_resolve_here_is_refused_naming_the_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the proxy may resolve outside names: still refused (the guard cannot vet the host),
    the proxy named so the operator sees why, its credentials not."""
    monkeypatch.setenv("http_proxy", "http://crawler:s3cret@proxy.corp.test:3128")
    monkeypatch.setenv("no_proxy", "bypassed.invalid")
    guard = _guard()
    for url, proxied in [("http://nonexistent.invalid/feed", True),
                         ("http://bypassed.invalid/feed", False),  # no_proxy: no proxy applies
                         ("https://nonexistent.invalid/feed", False)]:  # no https_proxy
        with pytest.raises(DNSLookupError, match="does not resolve") as refused:
            asyncio.run(guard.process_request(Request(url)))
        message = str(refused.value)
        assert ("through proxy http://proxy.corp.test:3128 too" in message) is proxied, message
        assert "s3cret" not in message


# --- the connection's own lookup ----------------------------------------------------------------

@pytest.mark.slow  # two crawls
def test_the_connection_refuses_a_name_that_resolves_to_loopback(
    db_url: str, tmp_path: Path
) -> None:
    """The guard is taken out, as if it had seen a public answer (DNS rebinding): the resolver
    the connection asks, the one crawlers.settings ships, must still refuse the loopback one
    (only the DNS beneath it is the test's). A source that allows private addresses gets it."""
    feed = b'<rss version="2.0"><channel><title>t</title></channel></rss>'
    with HostileSite({"/feed/": ({"Content-Type": "application/rss+xml"}, feed)}) as site:
        base = f"http://news.rebind.test:{site.port}"
        unguarded = json.dumps({"crawlers.middlewares.PrivateAddressGuardMiddleware": None})
        hostile_dns = ["-s", "NEWSDESK_NAME_LOOKUP=tests.hostile_dns.LoopbackDNS"]
        sources = write_source(tmp_path / "s.yaml", base + "/", feeds=[base + "/feed/"])
        refused = crawl("--source", "hostile", "--sources", str(sources), *hostile_dns,
                        "-s", f"DOWNLOADER_MIDDLEWARES={unguarded}")
        assert site.asked == []
        assert refused.returncode == 1
        assert "refused connecting to news.rebind.test: it resolves to non-public address " \
               "127.0.0.1" in refused.stderr
        assert f"cannot fetch {base}/feed/: " in refused.stderr
        assert "no results for hostname lookup: news.rebind.test" in refused.stderr

        allowed = write_source(tmp_path / "a.yaml", base + "/", feeds=[base + "/feed/"],
                               allow_private_addresses=True)  # fmt: skip
        crawl("--source", "hostile", "--sources", str(allowed), *hostile_dns)
        assert "/feed/" in site.asked  # the guard let the name through, so may the connection


def test_the_crawl_and_the_probes_connect_through_the_rebinding_safe_resolver() -> None:
    crawl_settings = Settings()
    crawl_settings.setmodule("crawlers.settings")
    for settings in (crawl_settings, dry_run_settings()):  # `python -m crawlers`, the probes
        assert load_object(settings["TWISTED_DNS_RESOLVER"]) is PublicAddressResolver
        assert not settings["NEWSDESK_NAME_LOOKUP"]  # the system's lookup beneath it


def test_the_operators_proxy_may_be_private(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through a proxy the connection goes to the proxy, often internal: the resolver lets it."""
    monkeypatch.setenv("http_proxy", "http://proxy.corp.test:3128")
    monkeypatch.setenv("no_proxy", "localhost,127.0.0.1")
    reactor = SimpleNamespace(nameResolver=None)
    PublicAddressResolver.from_crawler(get_crawler(NewsSpider), reactor)
    assert "proxy.corp.test" in resolver._PRIVATE_ALLOWED
    assert "localhost,127.0.0.1" not in resolver._PRIVATE_ALLOWED  # no_proxy is no proxy


# --- decompression bounds -----------------------------------------------------------------------

@pytest.mark.slow  # runs Scrapy's engine (the discover spider)
def test_discover_bounds_gzip_and_says_one_line_for_bad_gzip_or_json() -> None:
    xml = {"Content-Type": "application/xml"}
    pages = {
        "/": ({"Content-Type": "text/html"}, HOME),
        "/feed.json": ({"Content-Type": "application/feed+json"}, NESTED_JSON),
        "/feed/": (xml | {"Content-Encoding": "gzip"}, BOMB),  # a bomb as Content-Encoding
        "/feed": (xml | {"Content-Encoding": "gzip"}, b"\x1f\x8b\x08\x00not gzip at all"),
        "/sitemap.xml": (xml, b"\x1f\x8b\x08\x00not gzip at all"),  # a broken gzip file
        "/sitemap.xml.gz": ({"Content-Type": "application/gzip"}, BOMB),  # a gzip file bomb
    }
    with HostileSite(pages) as site:
        result = newsdesk("sources", "discover", site.url + "/", "--allow-private-addresses",
                          "--delay", "0", timeout=120)  # fmt: skip
    assert "Traceback" not in result.stderr
    assert "/sitemap.xml.gz" in site.asked and "/feed/" in site.asked
    assert result.returncode == 1  # nothing readable found
    lines = result.stderr.splitlines()
    assert any("sitemap.xml.gz" in line and "exceeded" in line for line in lines), lines
    assert any(f"{site.url}/sitemap.xml: not a readable sitemap" in line for line in lines)
    assert any(f"{site.url}/feed.json: not a readable feed (JSON nested" in line for line in lines)


# --- nested JSON --------------------------------------------------------------------------------

def test_nested_json_in_a_tdmrep_file_is_a_broken_file() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_tdmrep(NESTED_JSON)


@pytest.mark.slow  # a crawl
def test_a_deeply_nested_json_feed_is_an_unreadable_document_counted(
    db_url: str, tmp_path: Path
) -> None:
    pages = {"/feed.json": ({"Content-Type": "application/feed+json"}, NESTED_JSON)}
    with HostileSite(pages) as site:
        sources = write_source(tmp_path / "s.yaml", site.url + "/",
                               feeds=[site.url + "/feed.json"], allow_private_addresses=True)
        result = crawl("--source", "hostile", "--sources", str(sources), "--no-delay")
        checked = newsdesk("sources", "check", "hostile", "--sources", str(sources), timeout=120)
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    [warning] = [line for line in result.stderr.splitlines() if "feed.json" in line]
    assert "not a readable feed (JSON nested too deeply)" in warning
    with psycopg.connect(db_url) as conn:
        (stats,) = conn.execute("SELECT stats FROM crawl_runs WHERE source = 'hostile'").fetchone()
    assert stats["documents_unreadable"] == 1
    assert "Traceback" not in checked.stderr
    assert f"{site.url}/feed.json: not a readable feed" in checked.stdout

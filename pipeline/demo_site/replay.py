"""The real-page site: saved real pages served as their publishers, on loopback, the way
web-archive replay tools (pywb, OpenWayback) serve an archive.

One publisher per original site: a host and its `www.` twin (two sites can share a path, so
they must not share an origin; two hosts of one registered domain are distinct servers on the real
web too). Each publisher gets its own port of 127.0.0.1, like the demo site: every machine has
127.0.0.1 (a fresh macOS has no 127.0.0.2), and newsdesk already takes host:port as the site of an
IP address. Every page is served at its original path and query, its bytes as saved with
`Content-Type` from its markup's charset and its own-site links pointed at the replay origin;
beside them robots.txt, an RSS feed and a sitemap dated from the pages' own markup
(pipeline.demo_site.replay_documents). Requests go through the demo site's server machinery
(conditional requests, gzip, the access log).
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import yaml
from w3lib.url import canonicalize_url

from pipeline.demo_site import replay_documents as documents
from pipeline.demo_site.replay_pages import SavedPage
from pipeline.demo_site.server import PublisherServer, ServedOrigins, serve_origins
from pipeline.demo_site.site import Response
from pipeline.text.urls import is_tracking_param

_HTML = "text/html; charset=utf-8"
_XML = "application/xml; charset=utf-8"


class ReplayPublisher:
    """One original site: its pages by request target."""

    def __init__(self, name: str, host: str, pages: list[SavedPage]) -> None:
        self.name = name
        self.host = host
        # One URL, one capture: a later page saved under a URL already taken is not served.
        self.by_key: dict[str, SavedPage] = {}
        self.unserved: dict[str, str] = {}  # set/id -> why
        for page in pages:
            first = self.by_key.setdefault(_lookup_key(page.target), page)
            if first is not page:
                self.unserved[page.key] = f"saved again under the URL of {first.key}"
        self.pages = list(self.by_key.values())
        self.by_target = {page.target: page for page in self.pages}
        self.links = documents.link_pattern(host)

    def find(self, target: str) -> SavedPage | None:
        return self.by_target.get(target) or self.by_key.get(_lookup_key(target))


def _lookup_key(target: str) -> str:
    """A fuzzy match, as replay tools make one: the query reordered or re-encoded, and without
    tracking parameters (newsdesk's own list: utm_*, fbclid, ...; not courlan's pattern, which
    also drops `cid`, `uid`, `gallery` that select pages), which a publisher's server ignores.
    Any other difference (a valueless `?12345` too) is another resource: 404."""
    path, _, query = target.partition("?")
    # Latin-1 keeps every byte of a legacy escape (`K%F6ln` and `K%FCln` stay apart).
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True, encoding="latin-1")
            if not is_tracking_param(k)]
    return canonicalize_url("http://replay" + path + (f"?{urlencode(kept)}" if kept else ""))


class ReplaySite:
    """Saved pages grouped into publishers; answers requests like DemoSite.respond."""

    def __init__(self, pages: list[SavedPage]) -> None:
        by_site: dict[str, list[SavedPage]] = {}
        for page in pages:
            by_site.setdefault(documents.site_hosts(page.host)[0], []).append(page)
        self.publishers: list[ReplayPublisher] = []
        taken: set[str] = set()
        for host, site_pages in sorted(by_site.items()):
            name = _source_name(host, taken)
            taken.add(name)
            self.publishers.append(ReplayPublisher(name, host, site_pages))
        self.by_name = {pub.name: pub for pub in self.publishers}
        #: Pages not served (set/id -> why): another page was saved under the same URL.
        self.unserved = {key: why for pub in self.publishers for key, why in pub.unserved.items()}

    def pages(self) -> Iterator[tuple[str, SavedPage]]:
        """(publisher name, page) for every page served."""
        for pub in self.publishers:
            for page in pub.pages:
                yield pub.name, page

    def respond(self, name: str, target: str, bases: dict[str, str]) -> Response:
        pub, base = self.by_name[name], bases[name]
        page = pub.find(target)
        if page is not None:
            return self._page(pub, page, base)
        path = target.split("?", 1)[0]
        if path == "/robots.txt":
            return Response(200, "text/plain; charset=utf-8", documents.robots(base))
        if path == documents.FEED_PATH:
            return Response(200, "application/rss+xml; charset=utf-8",
                            documents.feed(name, base, pub.pages))
        if path == documents.SITEMAP_PATH:
            return Response(200, _XML, documents.sitemap(base, pub.pages))
        if path == "/":
            return Response(200, _HTML, documents.home(name, base, pub.pages))
        return Response(404, _HTML, b"<!DOCTYPE html><title>Not found</title><h1>Not found</h1>")

    @functools.lru_cache(maxsize=256)  # noqa: B019 - the site lives as long as it is served
    def _page(self, pub: ReplayPublisher, page: SavedPage, base: str) -> Response:
        content_type = f"text/html; charset={page.charset}" if page.charset else "text/html"
        return Response(200, content_type, documents.rewrite_links(page.html, pub.links, base))

    def sources(self, bases: dict[str, str]) -> list[dict]:
        """The `sources:` entries that make the crawler crawl every publisher."""
        return [
            {
                "name": pub.name,
                "homepage": bases[pub.name] + "/",
                "feeds": [bases[pub.name] + documents.FEED_PATH],
                "sitemaps": [bases[pub.name] + documents.SITEMAP_PATH],
                "allow_private_addresses": True,
            }
            for pub in self.publishers
        ]


def _source_name(host: str, taken: set[str]) -> str:
    """A valid, unique source name for a host ("www.bbc.co.uk" -> "bbc_co_uk")."""
    stem = re.sub(r"[^a-z0-9]+", "_", host.removeprefix("www.")).strip("_")[:58] or "site"
    name, n = stem, 1
    while name in taken:
        n += 1
        name = f"{stem}_{n}"
    return name


class RunningReplay(ServedOrigins):
    """A ReplaySite being served: its pages' replay URLs and the sources YAML."""

    def __init__(self, site: ReplaySite, servers: list[PublisherServer]) -> None:
        super().__init__(servers)
        self.site = site
        self._names = {base: name for name, base in self.bases.items()}

    def url_of(self, name: str, page: SavedPage) -> str:
        """The page's URL on the replay site."""
        return self.bases[name] + page.target

    def page_at(self, url: str) -> tuple[str, SavedPage | None]:
        """(publisher name, the page served) for a replay URL; the page is None when the site
        answers it with no saved page (a 404, a feed, robots.txt)."""
        parts = urlsplit(url)
        name = self._names.get(f"{parts.scheme}://{parts.netloc}", "")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return name, self.site.by_name[name].find(target) if name else None

    def sources_yaml(self) -> str:
        body = yaml.safe_dump({"sources": self.site.sources(self.bases)}, sort_keys=False,
                              allow_unicode=True, width=120)
        return f"# newsdesk real-page site: {sum(1 for _ in self.site.pages())} pages\n" + body


@contextlib.contextmanager
def serve_replay_site(
    pages: list[SavedPage], host: str = "127.0.0.1", base_port: int = 0
) -> Iterator[RunningReplay]:
    """Serve saved pages (a Corpus's, or a chosen few) until exit, one port each publisher
    (see pipeline.demo_site.server.serve_origins)."""
    site = ReplaySite(pages)
    names = [pub.name for pub in site.publishers]
    with serve_origins(site, names, lambda servers: RunningReplay(site, servers), host,
                       base_port) as running:
        yield running

"""`DemoSite`: the deterministic fake news web, its routing, and the ground truth it knows.

A DemoSite has no ports: every method that produces URLs takes `bases` (publisher name -> base
URL such as "http://127.0.0.1:8123"), so the same site can be rendered offline in a test or served
by `serve_demo_site`. Responses are computed per request from (seed, publisher, path).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

import yaml

from pipeline.demo_site import templates
from pipeline.demo_site.model import (
    DEFAULT_ANCHOR,
    ArticleTruth,
    Catalogue,
    Publisher,
)
from pipeline.demo_site.templates import Renderer, listing_path, route, sitemap_path

DISCOVERY_KINDS = ("feed", "sitemap", "news_sitemap", "listing")

# A 1x1 transparent GIF for every image URL: pages reference images; crawlers may fetch them.
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)

# Article paths with their parts, to find the article and redirect stale slugs (as CMSs do).
_ARTICLE_PATHS = {
    "jsonld": re.compile(r"^/\d{4}/\d{2}/\d{2}/[a-z0-9-]+-(\d+)/$"),
    "opengraph": re.compile(r"^/news/[a-z-]+/[a-z0-9-]+-(\d+)$"),
    "plain": re.compile(r"^/article/[a-z0-9-]+-(\d+)\.html$"),
}

HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class DemoSite:
    """A deterministic news web of three publishers, generated lazily from `seed`.

    `n_articles` is the total over all publishers (syndicated copies included). Dates run up to
    `anchor` (never past it), about 20 articles a day per publisher. `listing_max_pages` bounds
    the listing pagination the sources YAML asks crawlers to follow; None means enough to reach
    every article (capped at 1000 pages, the config's limit).
    """

    def __init__(
        self,
        seed: int = 7,
        n_articles: int = 300,
        anchor: datetime = DEFAULT_ANCHOR,
        listing_max_pages: int | None = None,
    ) -> None:
        self.catalogue = Catalogue(seed, n_articles, anchor)
        self.seed = seed
        self.n_articles = n_articles
        self.anchor = self.catalogue.anchor
        self.listing_max_pages = listing_max_pages
        self._renderer = functools.lru_cache(maxsize=16)(self._make_renderer)
        self._document = functools.lru_cache(maxsize=256)(self._make_document)

    @property
    def publishers(self) -> tuple[Publisher, ...]:
        """The publishers without addresses (see RunningSite.publishers for served ones)."""
        return self.catalogue.publishers

    def article_count(self, name: str) -> int:
        return self.catalogue.counts[name]

    def max_pages(self, name: str) -> int:
        """Listing pages per section the sources YAML asks for."""
        if self.listing_max_pages is not None:
            return self.listing_max_pages
        return self.catalogue.max_listing_pages(name)

    def renderer(self, name: str, bases: dict[str, str]) -> Renderer:
        return self._renderer(name, tuple(sorted(bases.items())))

    def _make_renderer(self, name: str, bases: tuple[tuple[str, str], ...]) -> Renderer:
        return Renderer(self.catalogue, name, dict(bases))

    # --- HTTP ---------------------------------------------------------------------------------

    def respond(self, name: str, target: str, bases: dict[str, str]) -> Response:
        """The response publisher `name` gives for a request target (path and query)."""
        path = urlsplit(target).path or "/"
        key = tuple(sorted(bases.items()))
        if _ARTICLE_PATHS[self.catalogue.by_name[name].style].match(path) is None:
            return self._document(name, path, key)
        return self._article(name, path, dict(key))

    def _article(self, name: str, path: str, bases: dict[str, str]) -> Response:
        cat = self.catalogue
        r = self.renderer(name, bases)
        if name == cat.live_publisher and path == cat.live_path():
            return Response(200, HTML, r.live_page().encode())
        match = _ARTICLE_PATHS[cat.by_name[name].style].match(path)
        assert match is not None
        index = cat.index_of(name, int(match.group(1)))
        if index is None:
            return Response(404, HTML, r.not_found_page().encode())
        canonical = cat.article(name, index).path
        if path != canonical:
            return Response(301, HTML, b"", {"Location": bases[name] + canonical})
        art = cat.article(name, index)
        last = art.modified_at or art.published_at
        headers = {"Last-Modified": format_datetime(last.astimezone(self.anchor.tzinfo),
                                                    usegmt=True)}
        return Response(200, HTML, r.article_page(index).encode(), headers)

    def _make_document(self, name: str, path: str, key: tuple[tuple[str, str], ...]) -> Response:
        """Every non-article document; cached, since feeds and sitemaps cost more to build."""
        bases = dict(key)
        cat = self.catalogue
        pub = cat.by_name[name]
        r = self.renderer(name, bases)
        newest = cat.published(name, cat.counts[name] - 1)
        fresh = {"Last-Modified": format_datetime(newest.astimezone(self.anchor.tzinfo),
                                                  usegmt=True)}
        if path == "/":
            return Response(200, HTML, r.home_page().encode())
        if path == "/robots.txt":
            return Response(200, "text/plain; charset=utf-8", r.robots().encode())
        if path == route(pub, "feed"):
            kind = "application/atom+xml" if pub.style == "opengraph" else "application/rss+xml"
            return Response(200, f"{kind}; charset=utf-8", r.feed().encode(), fresh)
        if path == route(pub, "sitemap_index"):
            return Response(200, XML, r.sitemap_index().encode(), fresh)
        if path == route(pub, "news_sitemap"):
            return Response(200, XML, r.news_sitemap().encode(), fresh)
        for n in range(1, cat.sitemap_chunks(name) + 1):
            if path == sitemap_path(pub, n):
                return Response(200, XML, r.sitemap(n).encode())
        if path == route(pub, "about"):
            return Response(200, HTML, r.about_page().encode())
        listing = self._listing_of(pub, path)
        if listing is not None:
            return Response(200, HTML, r.listing_page(listing).encode())
        if pub.style == "jsonld" and (m := re.fullmatch(r"/tag/([a-z0-9-]+)/", path)):
            return Response(200, HTML, r.tag_page(m.group(1)).encode())
        if path.endswith((".jpg", ".png", ".gif")):
            return Response(200, "image/gif", PIXEL)
        return Response(404, HTML, r.not_found_page().encode())

    def _listing_of(self, pub: Publisher, path: str):
        prefix = route(pub, "listing", section="SECTION").split("SECTION")[0]
        m = re.fullmatch(re.escape(prefix) + r"([a-z-]+)/(?:page/(\d+)/)?", path)
        if not m:
            return None
        slugs = [s for s, _ in pub.sections]
        if m.group(1) not in slugs or m.group(2) == "1":
            return None
        page = int(m.group(2) or 1)
        return self.catalogue.listing(pub.name, slugs.index(m.group(1)), page)

    # --- ground truth -------------------------------------------------------------------------

    def truth(self, bases: dict[str, str]) -> Iterator[ArticleTruth]:
        """Every real article (syndicated copies and the paywalled teaser included), lazily."""
        return self.catalogue.iter_truth(bases)

    def article_truth(self, name: str, index: int, bases: dict[str, str]) -> ArticleTruth:
        return self.catalogue.truth(name, index, bases)

    def listed_in(self, name: str, kind: str, bases: dict[str, str]) -> set[str]:
        """Absolute URLs a discovery document of `kind` lists, exactly as listed.

        feed: the feed's item links (the 404 and the redirecting URL among them); sitemap: every
        URL of every child sitemap of the index (the live page among them); news_sitemap: the
        Google News sitemap's URLs; listing: every link matching the publisher's article pattern
        on section listing pages 1..max_pages(name) (cards, "most read" and the live banner). At
        the default size max_pages reaches every article; with `listing_max_pages` set lower
        (or beyond 1000 pages a section) it is only the newest max_pages * 20 per section.
        """
        cat = self.catalogue
        r = self.renderer(name, bases)
        base = bases[name]
        if kind == "feed":
            return {url for url, _ in r.feed_entries()}
        if kind == "sitemap":
            return {
                url
                for n in range(1, cat.sitemap_chunks(name) + 1)
                for url, _ in r.sitemap_urls(n)
            }
        if kind == "news_sitemap":
            return {base + cat.article(name, i).path for i in cat.news_range(name)}
        if kind == "listing":
            out: set[str] = set()
            pub = cat.by_name[name]
            for s in range(len(pub.sections)):
                for page in range(1, min(self.max_pages(name), cat.listing_pages(name, s)) + 1):
                    listing = cat.listing(name, s, page)
                    assert listing is not None
                    for i in (*listing.articles, *listing.most_read):
                        out.add(base + cat.article(name, i).path)
                    if listing.featured_special == "live":
                        out.add(base + cat.live_path())
            return out
        raise ValueError(f"unknown discovery kind {kind!r} (expected one of {DISCOVERY_KINDS})")

    def special_urls(self, bases: dict[str, str]) -> dict[str, str]:
        """The traps, as absolute URLs (see the package docstring for what each one is)."""
        cat = self.catalogue
        a, b = cat.live_publisher, cat.redirect_publisher
        copy_index = max(cat.syndicated)
        copy = cat.truth(b, copy_index, bases)
        return {
            "not_found": bases[cat.not_found_publisher] + cat.not_found_path(),
            "redirect": bases[b] + cat.redirect_path(),
            "redirect_target": bases[b] + cat.article(b, cat.redirect_index).path,
            "non_article": bases[a] + cat.live_path(),
            "paywalled": bases[a] + cat.article(a, cat.paywalled_index).path,
            "syndicated_copy": copy.url,
            "syndicated_original": copy.canonical_url,
        }

    def syndicated_pairs(self, bases: dict[str, str]) -> list[tuple[str, str]]:
        """(copy URL, original URL) for every syndicated copy."""
        cat = self.catalogue
        return [
            (bases[cat.redirect_publisher] + cat.article("metroherald", i).path,
             bases["dailyplanet"] + cat.article("dailyplanet", j).path)
            for i, j in sorted(cat.syndicated.items())
        ]

    # --- sources ------------------------------------------------------------------------------

    def sources(self, bases: dict[str, str]) -> list[dict]:
        """The `sources:` entries (as plain data) that make the crawler crawl this site."""
        out = []
        for pub in self.publishers:
            base = bases[pub.name]
            out.append({
                "name": pub.name,
                "homepage": base + "/",
                "feeds": [base + route(pub, "feed")],
                "sitemaps": [base + route(pub, "sitemap_index"), base + route(pub, "news_sitemap")],
                "listings": [
                    {"url": base + listing_path(pub, slug), "article_pattern": pub.article_pattern,
                     "max_pages": self.max_pages(pub.name)}
                    for slug, _ in pub.sections
                ],
                "language": pub.language,
                "timezone": pub.timezone,
                "allow_private_addresses": True,
            })
        return out

    def sources_yaml(self, bases: dict[str, str]) -> str:
        header = (
            f"# newsdesk demo site: seed {self.seed}, {self.n_articles} articles, anchor "
            f"{self.anchor.isoformat()}\n"
        )
        body = yaml.safe_dump({"sources": self.sources(bases)}, sort_keys=False,
                              allow_unicode=True, width=120)
        return header + body


__all__ = ["DISCOVERY_KINDS", "DemoSite", "Response", "templates"]

"""What a replayed publisher serves besides its pages: robots.txt, an RSS feed, a sitemap, a home
page, and its pages with their own-site links pointed at the replay origin.

Feed and sitemap dates are the pages' declared ones (`SavedPage.published`): an RSS `pubDate`
only where the page declared a time with its offset (RFC 822 has no day-only form), a sitemap
`lastmod` at the precision declared (W3C datetime allows a bare day); an undated page is listed
without a date.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape

from lxml import etree
from lxml.builder import E, ElementMaker

from pipeline.demo_site.replay_pages import SavedPage

FEED_PATH = "/replay-feed.xml"
SITEMAP_PATH = "/replay-sitemap.xml"
_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def site_hosts(host: str) -> tuple[str, ...]:
    """The hosts one replayed publisher stands for: a host and its `www.` twin (one site)."""
    bare = host.removeprefix("www.")
    return (bare, f"www.{bare}")


def link_pattern(host: str) -> re.Pattern[bytes]:
    """Absolute and protocol-relative URLs on the publisher's own hosts, in any markup or script
    (JSON-escaped slashes too), up to the end of the host and an explicit default port."""
    hosts = b"|".join(re.escape(h.encode()) for h in site_hosts(host))
    return re.compile(rb"(https?:)?(\\?/\\?/)(?:" + hosts + rb")(?::(?:80|443))?(?![\w.:-])",
                      re.IGNORECASE)


def rewrite_links(html: bytes, pattern: re.Pattern[bytes], base: str) -> bytes:
    """Own-site links pointed at the replay origin `base` ("http://127.0.0.1:PORT"), keeping
    their path and query, as web-archive replay tools (pywb, OpenWayback) rewrite them. Done on
    the bytes as saved: host names are ASCII in every encoding a web page uses."""
    netloc = base.split("://", 1)[1].encode()

    def replace(match: re.Match[bytes]) -> bytes:
        scheme = b"http:" if match.group(1) else b""
        return scheme + match.group(2) + netloc

    return pattern.sub(replace, html)


def robots(base: str) -> bytes:
    return f"User-agent: *\nAllow: /\n\nSitemap: {base}{SITEMAP_PATH}\n".encode()


def _declared(page: SavedPage) -> datetime | None:
    return datetime.fromisoformat(page.published) if page.published else None


def feed(name: str, base: str, pages: list[SavedPage]) -> bytes:
    """RSS 2.0: every page, newest declared date first (undated ones last)."""
    items = []
    for page in sorted(pages, key=_newest_first):
        url = base + page.target
        item = E.item(E.title(page.title or url), E.link(url), E.guid(url, isPermaLink="true"))
        when = _declared(page)
        if when is not None and when.tzinfo is not None:
            item.append(E.pubDate(format_datetime(when)))
        items.append(item)
    channel = E.channel(E.title(name), E.link(base + "/"),
                        E.description(f"Saved pages of {name}, replayed"), *items)
    return etree.tostring(E.rss(channel, version="2.0"), xml_declaration=True, encoding="utf-8")


def sitemap(base: str, pages: list[SavedPage]) -> bytes:
    maker = ElementMaker(namespace=_SITEMAP_NS, nsmap={None: _SITEMAP_NS})
    entries = []
    for page in sorted(pages, key=lambda p: p.target):
        entry = maker.url(maker.loc(base + page.target))
        if page.published:
            entry.append(maker.lastmod(page.published))
        entries.append(entry)
    return etree.tostring(maker.urlset(*entries), xml_declaration=True, encoding="utf-8")


def home(name: str, base: str, pages: list[SavedPage]) -> bytes:
    links = "".join(
        f'<li><a href="{escape(base + p.target)}">{escape(p.title or p.target)}</a></li>'
        for p in sorted(pages, key=_newest_first)
    )
    return (f"<!DOCTYPE html><html><head><title>{escape(name)}</title></head><body>"
            f"<h1>{escape(name)}</h1><ul>{links}</ul></body></html>").encode()


def _newest_first(page: SavedPage) -> tuple[bool, float, str]:
    when = _declared(page)
    if when is None:
        return True, 0.0, page.target
    stamp = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()  # a day: its UTC start
    return False, -stamp, page.target

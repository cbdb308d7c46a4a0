"""Discovery parsers on inline documents: feeds, sitemaps, robots.txt, listing pages."""

from __future__ import annotations

import gzip
import json
import logging
from datetime import UTC as _UTC
from datetime import datetime as _dt

import pytest

from crawlers import discovery, incremental
from crawlers.blocking import challenge_reason
from crawlers.discovery import parse_feed, parse_listing, parse_sitemap
from crawlers.politeness import HostPacer, retry_after_seconds
from pipeline.text.urls import on_domains

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Example News</title><link>https://news.example.com/</link>
  <item>
    <title>  First story </title>
    <link>https://news.example.com/2026/03/first-story</link>
    <pubDate>Mon, 02 Mar 2026 10:00:00 +0100</pubDate>
  </item>
  <item>
    <title>Relative link</title>
    <link>/2026/03/second-story#comments</link>
    <dc:date>2026-03-02T12:30:00Z</dc:date>
  </item>
  <item>
    <title>Guid permalink only</title>
    <guid isPermaLink="true">https://news.example.com/2026/03/third</guid>
  </item>
  <item><title>No link at all</title></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Example</title>
  <entry>
    <title>Atom story</title>
    <link rel="alternate" type="text/html" href="https://news.example.com/a/1"/>
    <link rel="edit" href="https://news.example.com/edit/1"/>
    <id>urn:uuid:1</id>
    <published>2026-03-01T08:00:00+02:00</published>
    <updated>2026-03-01T09:00:00Z</updated>
  </entry>
  <entry>
    <title>Second</title>
    <link href="https://news.example.com/a/2"/>
    <id>urn:uuid:2</id>
    <updated>2026-03-02T09:00:00Z</updated>
  </entry>
</feed>"""

JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Example",
        "items": [
            {
                "id": "1",
                "url": "https://news.example.com/j/1",
                "title": "JSON story",
                "date_published": "2026-03-01T08:00:00+02:00",
                "date_modified": "2026-03-01T10:00:00+02:00",
            },
            {"id": "2", "external_url": "https://news.example.com/j/2"},
            {"id": "3", "title": "no url"},
            "not an object",
        ],
    }
).encode()

SITEMAP_INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://news.example.com/sitemap-1.xml</loc>
    <lastmod>2026-03-01</lastmod></sitemap>
  <sitemap><loc>https://news.example.com/sitemap-news.xml.gz</loc></sitemap>
</sitemapindex>"""

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://news.example.com/2026/03/one</loc><lastmod>2026-03-01T10:00:00Z</lastmod></url>
  <url><loc> https://news.example.com/2026/03/two </loc></url>
  <url><lastmod>2026-03-01</lastmod></url>
</urlset>"""

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://news.example.com/2026/03/breaking</loc>
    <news:news>
      <news:publication><news:name>Example News</news:name>
        <news:language>en</news:language></news:publication>
      <news:publication_date>2026-03-02T09:15:00+01:00</news:publication_date>
      <news:title>Breaking: something happened</news:title>
    </news:news>
  </url>
</urlset>"""

LISTING = b"""<!doctype html><html><head>
<link rel="next" href="/world/?page=2">
</head><body>
<nav><a href="/">Home</a><a href="/world/">World</a></nav>
<main>
  <article><a href="/2026/03/01/first-story">First   story</a></article>
  <article><a href="https://news.example.com/2026/03/02/second#comments">Second</a></article>
  <article><a href="/2026/03/01/first-story">First story again</a></article>
  <a href="https://elsewhere.example.org/2026/03/03/offsite">Offsite</a>
  <a href="/2026/03/04/photo.jpg">A photo</a>
  <a href="mailto:desk@news.example.com">Mail</a>
</main></body></html>"""


def test_rss_links_titles_and_dates() -> None:
    found = parse_feed(RSS, "https://news.example.com/feed/")
    assert [url for url, _ in found] == [
        "https://news.example.com/2026/03/first-story",
        "https://news.example.com/2026/03/second-story",
        "https://news.example.com/2026/03/third",
    ]
    first = found[0][1]
    assert first == {
        "discovered_via": "feed",
        "document": "https://news.example.com/feed/",
        "title": "First story",
        "published": "2026-03-02T10:00:00+01:00",  # the publisher's offset, as written
    }
    assert found[1][1]["modified"] == "2026-03-02T12:30:00+00:00"  # feedparser: dc:date


def test_atom_prefers_alternate_link_and_keeps_both_dates() -> None:
    found = parse_feed(ATOM, "https://news.example.com/atom.xml")
    assert [url for url, _ in found] == [
        "https://news.example.com/a/1",
        "https://news.example.com/a/2",
    ]
    assert found[0][1]["published"] == "2026-03-01T08:00:00+02:00"
    assert found[0][1]["modified"] == "2026-03-01T09:00:00+00:00"
    assert found[0][1]["title"] == "Atom story"


def test_json_feed() -> None:
    found = parse_feed(JSON_FEED, "https://news.example.com/feed.json")
    assert [url for url, _ in found] == [
        "https://news.example.com/j/1",
        "https://news.example.com/j/2",
    ]
    assert found[0][1] == {
        "discovered_via": "feed",
        "document": "https://news.example.com/feed.json",
        "title": "JSON story",
        "published": "2026-03-01T08:00:00+02:00",
        "modified": "2026-03-01T10:00:00+02:00",
    }


@pytest.mark.parametrize(
    "body",
    [b"this is <<< not xml", b"", b"<html><body>Not a feed</body></html>", b"{not json"],
    ids=["garbage", "empty", "html", "bad-json"],
)
def test_unreadable_feed_is_none_with_a_warning(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="crawlers.discovery"):
        assert parse_feed(body, "https://news.example.com/feed/") is None
    if body:  # an empty body is an empty feed, nothing to warn about... or a warning: both fine
        assert "https://news.example.com/feed/" in caplog.text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # UTF-8 (declared, or by XML's default) with a stray latin-1 byte: only that byte changes.
        ('<?xml version="1.0" encoding="UTF-8"?><t>Новый </t>'.encode() + b"caf\xe9",
         '<?xml version="1.0" encoding="UTF-8"?><t>Новый </t>café'.encode()),
        (b"<t>\x93quoted\x94 \xe2\x80\x94</t>", "<t>“quoted” —</t>".encode()),
        # Valid UTF-8, a feed declared in another charset, a UTF-16 feed: untouched.
        ("<t>Новый</t>".encode(), "<t>Новый</t>".encode()),
        ('<?xml version="1.0" encoding="windows-1251"?><t>Новый</t>'.encode("cp1251"),
         '<?xml version="1.0" encoding="windows-1251"?><t>Новый</t>'.encode("cp1251")),
        ("<t>é</t>".encode("utf-16"), "<t>é</t>".encode("utf-16")),
    ],
)
def test_repair_mixed_utf8(body: bytes, expected: bytes) -> None:
    assert discovery.repair_mixed_utf8(body) == expected


def test_sitemap_index() -> None:
    document = parse_sitemap(SITEMAP_INDEX, "https://news.example.com/sitemap_index.xml")
    assert document.is_index
    assert [url for url, _ in document.entries] == [
        "https://news.example.com/sitemap-1.xml",
        "https://news.example.com/sitemap-news.xml.gz",
    ]
    assert document.entries[0][1]["modified"] == "2026-03-01"


def test_urlset_with_lastmod() -> None:
    document = parse_sitemap(URLSET, "https://news.example.com/sitemap-1.xml")
    assert document.type == "urlset"
    assert document.entries == [
        (
            "https://news.example.com/2026/03/one",
            {
                "discovered_via": "sitemap",
                "document": "https://news.example.com/sitemap-1.xml",
                "modified": "2026-03-01T10:00:00Z",
            },
        ),
        (
            "https://news.example.com/2026/03/two",
            {"discovered_via": "sitemap", "document": "https://news.example.com/sitemap-1.xml"},
        ),
    ]


def test_google_news_sitemap_keeps_title_and_publication_date() -> None:
    document = parse_sitemap(NEWS_SITEMAP, "https://news.example.com/news-sitemap.xml")
    [(url, meta)] = document.entries
    assert url == "https://news.example.com/2026/03/breaking"
    assert meta == {
        "discovered_via": "sitemap",
        "document": "https://news.example.com/news-sitemap.xml",
        "news": True,
        "title": "Breaking: something happened",
        "published": "2026-03-02T09:15:00+01:00",
        "publication": "Example News",
    }


def test_gzipped_sitemap_file() -> None:
    document = parse_sitemap(gzip.compress(URLSET), "https://news.example.com/sitemap-1.xml.gz")
    assert [url for url, _ in document.entries] == [
        "https://news.example.com/2026/03/one",
        "https://news.example.com/2026/03/two",
    ]


def test_gzipped_sitemap_over_the_size_limit_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    big = gzip.compress(URLSET * 50)
    with caplog.at_level(logging.WARNING):
        document = parse_sitemap(big, "https://news.example.com/big.xml.gz", max_size=1000)
    assert document.type == "" and document.entries == []
    assert "big.xml.gz" in caplog.text


@pytest.mark.parametrize(
    "body",
    [b"<urlset><url><loc>https://x", b"not xml", b"", b"<html><body>hi</body></html>"],
    ids=["truncated", "garbage", "empty", "html"],
)
def test_malformed_sitemap_is_empty_with_a_warning(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="crawlers.discovery"):
        document = parse_sitemap(body, "https://news.example.com/sitemap.xml")
    assert document.entries == []
    assert "https://news.example.com/sitemap.xml" in caplog.text


def test_robots_txt_sitemap_lines() -> None:
    robots = b"""User-agent: *
Disallow: /private/
Sitemap: https://news.example.com/sitemap_index.xml
sitemap: /news-sitemap.xml
# Sitemap: https://news.example.com/commented.xml
"""
    assert discovery.sitemaps_from_robots(robots, "https://news.example.com/robots.txt") == [
        "https://news.example.com/sitemap_index.xml",
        "https://news.example.com/news-sitemap.xml",
    ]
    assert discovery.is_robots_url("https://news.example.com/robots.txt")
    assert not discovery.is_robots_url("https://news.example.com/sitemap.xml")


def test_listing_links_by_pattern_and_rel_next() -> None:
    page = parse_listing(
        LISTING,
        "https://news.example.com/world/",
        domains=["news.example.com"],
        article_pattern=r"/\d{4}/\d{2}/\d{2}/",
    )
    assert page.next_url == "https://news.example.com/world/?page=2"
    assert [url for url, _ in page.links] == [
        "https://news.example.com/2026/03/01/first-story",
        "https://news.example.com/2026/03/02/second",
    ]
    assert page.links[0][1] == {
        "discovered_via": "listing",
        "document": "https://news.example.com/world/",
        "title": "First story",
    }


def test_listing_pattern_is_matched_on_each_link_as_escaped() -> None:
    # Links are dropped before escaping only when escaping would not change them (a speed-up):
    # a pattern written for the escaped form still finds its links.
    html = (
        '<a href="/kultur/über-7">Ü</a><a href="/kultur/plain-8">P</a>'
        '<a href="/a b/9">S</a><a href="/c/10#top">F</a>'
        "<a href=\"/q?name=o'brien-11\">Q</a><a href=\"/o'neill-12\">N</a>"
        '<a href="http://n.example.com?id=13">H</a><a href="/d/14?">E</a>'
        '<a href="http://n.example.com:0080/p/15">P</a>'
    ).encode()
    page = parse_listing(
        html, "https://n.example.com/", domains=["n.example.com"],
        article_pattern=r"%C3%BC|%20|#top|%27|'neill|com/\?id=13|/d/14$|com:80/",
    )
    assert [url for url, _ in page.links] == [
        "https://n.example.com/kultur/%C3%BCber-7",
        "https://n.example.com/a%20b/9",
        "https://n.example.com/c/10",  # matched with its fragment, stored without it
        "https://n.example.com/q?name=o%27brien-11",  # w3lib escapes ' in a query...
        "https://n.example.com/o'neill-12",  # ... and not in a path
        "http://n.example.com/?id=13",  # a query needs a path
        "https://n.example.com/d/14",  # an empty query goes
        "http://n.example.com:80/p/15",  # a port loses its leading zeros
    ]


def test_listing_without_pattern_takes_same_site_links_but_not_itself() -> None:
    page = parse_listing(LISTING, "https://news.example.com/world/", domains=["news.example.com"])
    urls = [url for url, _ in page.links]
    assert "https://news.example.com/world/" not in urls
    assert "https://news.example.com/world/?page=2" not in urls  # pagination is not an article
    assert "https://news.example.com/" in urls
    assert not any("elsewhere" in url or url.endswith(".jpg") for url in urls)


def test_listing_rel_next_on_an_anchor_and_last_page() -> None:
    html = b'<html><body><a rel="nofollow next" href="p3">Older</a></body></html>'
    page = parse_listing(html, "https://n.example.com/s/p2", domains=["n.example.com"])
    assert page.next_url == "https://n.example.com/s/p3"
    last = parse_listing(b"<html><body></body></html>", "https://n.example.com/s/p9", domains=[])
    assert last == discovery.ListingPage([], None)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.example.com/a", True),
        ("https://www.news.example.com/a", True),
        ("https://NEWS.example.com./a", True),
        ("https://badnews.example.com/a", False),
        ("https://example.com/a", False),
        ("ftp://news.example.com/a", False),
        ("http://127.0.0.1:8000/a", False),
        ("https://news.example.com:8443/a", True),  # a port is no other site
        ("http://[::1", False),  # not a URL at all: the crawl's copy raised ValueError
    ],
)
def test_on_domains(url: str, expected: bool) -> None:
    assert on_domains(url, ["news.example.com"]) is expected


# --- incremental and politeness helpers ------------------------------------------------------


def test_cutoff_and_change_decisions() -> None:
    now = _dt(2026, 3, 15, tzinfo=_UTC)
    oldest = incremental.cutoff(2, now)
    assert incremental.too_old({"published": "2026-03-12T10:00:00Z"}, oldest)
    assert not incremental.too_old({"published": "2026-03-14T10:00:00+01:00"}, oldest)
    # Modified recently: the newer date counts. Undated: kept. No cut-off: kept.
    assert not incremental.too_old({"published": "2026-01-01", "modified": "2026-03-14"}, oldest)
    assert not incremental.too_old({}, oldest)
    assert not incremental.too_old({"published": "2020-01-01"}, None)
    fetched = _dt(2026, 3, 14, tzinfo=_UTC)
    assert incremental.changed_since({"modified": "2026-03-14T12:00:00Z"}, fetched)
    assert not incremental.changed_since({"modified": "2026-03-13"}, fetched)
    assert not incremental.changed_since({"published": "2026-03-15"}, fetched)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("120", 120.0), (" 5 ", 5.0), (b"7", 7.0), ("Sun, 15 Mar 2026 12:00:30 GMT", 30.0),
     ("Sun, 15 Mar 2026 11:00:00 GMT", 0.0), ("soon", None), ("", None), (None, None)],
)  # fmt: skip
def test_retry_after(value, seconds) -> None:
    now = _dt(2026, 3, 15, 12, 0, tzinfo=_UTC)
    assert retry_after_seconds(value, now) == seconds


def test_host_pacer_spaces_requests_and_holds_after_retry_after() -> None:
    clock = [100.0]
    pacer = HostPacer(clock=lambda: clock[0])
    assert pacer.reserve("a:80") == 0  # no interval, no hold: never waits
    pacer.set_interval("a:80", 2.0)
    assert [pacer.reserve("a:80") for _ in range(3)] == [0.0, 2.0, 4.0]
    pacer.hold("b:80", 10)
    assert pacer.reserve("b:80") == 10.0 and pacer.reserve("c:80") == 0


@pytest.mark.parametrize(
    ("status", "headers", "body", "blocked"),
    [
        (403, {}, b"<title>Just a moment...</title>", True),
        (503, {}, b"<html>Please enable JavaScript to view the page</html>", True),
        (403, {b"cf-mitigated": b"challenge"}, b"", True),
        (200, {}, b"<html><div class='g-recaptcha'>captcha</div></html>", True),
        (200, {}, b"<html><article>" + b"news " * 4000 + b"enable JavaScript</article></html>",
         False),
        (404, {}, b"<html>Page not found</html>", False),
        (403, {}, b"<html>Forbidden</html>", False),
    ],
)  # fmt: skip
def test_challenge_pages(status, headers, body, blocked) -> None:
    assert (challenge_reason(status, headers, body) is not None) is blocked


@pytest.mark.parametrize(("written", "published"), [
    ("Wed, 03 Jun 2020 01:01:00 +0200", "2020-06-03T01:01:00+02:00"),
    ("2024-06-03T01:01:00.123+02:00", "2024-06-03T01:01:00.123000+02:00"),  # Blogger, Arc
    ("2020-06-03", "2020-06-03"),  # a day alone is not midnight UTC
])
def test_feed_dates_keep_the_offset_and_precision_they_were_written_in(written, published):
    feed = (b"<rss><channel><item><link>https://news.example.com/a</link><pubDate>"
            + written.encode() + b"</pubDate></item></channel></rss>")
    [(_, meta)] = parse_feed(feed, "https://news.example.com/feed/")
    assert meta["published"] == published

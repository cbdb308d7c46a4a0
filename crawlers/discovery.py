"""Discovery: pure functions that read feeds, sitemaps, robots.txt and listing pages.

Each parser takes a document's bytes and its URL and returns `(url, meta)` pairs, where `meta`
holds what the document said about the link (title, published/modified dates), the document it
came from and how it was found (`discovered_via`). Nothing here touches the network or the
database, so the spider stays thin and every parser is tested on inline documents.

A malformed document gives an empty (or partial) result, or None for a feed that cannot be read,
and one warning, never an exception: one broken feed must not stop a source's crawl.
"""

from __future__ import annotations

import calendar
import codecs
import json
import logging
import re
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import feedparser
import lxml.etree
from scrapy.http import HtmlResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from pipeline.text.dates import parse_written_offset
from pipeline.text.urls import on_domains

logger = logging.getLogger(__name__)

#: How a URL was found; the values of raw_pages.discovered_via.
FEED, SITEMAP, LISTING = "feed", "sitemap", "listing"

Discovered = tuple[str, dict[str, Any]]

_GZIP_MAGIC = b"\x1f\x8b"


def _clean_url(href: str | None, base: str) -> str | None:
    """An absolute http(s) URL without its fragment, or None."""
    if not href or not href.strip():
        return None
    url = urldefrag(urljoin(base, href.strip()))[0]
    return url if urlsplit(url).scheme in ("http", "https") else None


def _meta(via: str, document: str, **fields: Any) -> dict[str, Any]:
    return {"discovered_via": via, "document": document} | {
        k: v for k, v in fields.items() if v not in (None, "")
    }


# --- feeds -----------------------------------------------------------------------------------


def parse_feed(
    body: bytes, url: str, *, content_type: str = "application/xml"
) -> list[Discovered] | None:
    """Article links of an RSS (0.9x/1.0/2.0), Atom or JSON Feed document; None (and a warning)
    when it is not a readable feed, which the crawl counts as an unreadable document.

    feedparser reads RSS and Atom; its loose parser is built to recover malformed feeds (an
    unescaped & is common), so a feed it can partly read gives those entries and a warning, one
    it cannot read gives none. JSON Feed, which feedparser does not read, is handled here.
    """
    if body.lstrip()[:1] in (b"{", b"["):
        return parse_json_feed(body, url)
    body = repair_mixed_utf8(strip_doctype(body, url))
    try:
        parsed = feedparser.parse(
            body,
            response_headers={"content-location": url, "content-type": content_type},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except (ValueError, LookupError, AssertionError, RecursionError) as exc:
        # feedparser's loose parser can raise on hostile input (`&#2000000;` -> chr() error).
        logger.warning("feed %s: not a readable feed (%s: %s)", url, type(exc).__name__, exc)
        return None
    problem = parsed.get("bozo_exception") if parsed.bozo else None
    if isinstance(problem, _HARMLESS_FEED_PROBLEMS):
        problem = None
    if not parsed.entries and (problem or not parsed.get("version")):
        logger.warning("feed %s: not a readable feed (%s)", url, problem or "no feed found")
        return None
    if problem:
        logger.warning(
            "feed %s: malformed, read %d entries (%s)",
            url,
            len(parsed.entries),
            parsed.get("bozo_exception"),
        )
    found: list[Discovered] = []
    for entry in parsed.entries:
        link = _entry_link(entry)
        target = _clean_url(link, url)
        if target is None:
            continue
        found.append(
            (
                target,
                _meta(
                    FEED,
                    url,
                    title=(entry.get("title") or "").strip() or None,
                    published=_feed_date(entry, "published"),
                    modified=_feed_date(entry, "updated"),
                ),
            )
        )
    return found


#: A DOCTYPE with an internal subset, in the prolog (before the root element).
_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*(\[.*?\]\s*)?>", re.DOTALL | re.IGNORECASE)
_PROLOG_BYTES = 64 * 1024


def strip_doctype(body: bytes, url: str) -> bytes:
    """The feed without its DOCTYPE: no feed needs declared entities, and an XML bomb or an
    external entity (XXE) is exactly that. expat would refuse the bomb, but only after seconds of
    CPU; external entities are never fetched either way (sax's external-entity feature is off).
    """
    head = body[:_PROLOG_BYTES]
    match = _DOCTYPE.search(head)
    if match is None:
        return body
    if b"<!ENTITY" in match.group(0).upper():
        logger.warning("feed %s: declares XML entities; its DOCTYPE is ignored", url)
    return body[: match.start()] + body[match.end() :]


_XML_ENCODING = re.compile(rb"""\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_WIDE_BOMS = (codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # UTF-32 LE too


def _as_cp1252(exc: UnicodeError) -> tuple[str, int]:
    assert isinstance(exc, UnicodeDecodeError)
    return exc.object[exc.start : exc.end].decode("cp1252", errors="replace"), exc.end


# A codec error handler: the stdlib's linear way to decode "UTF-8, except where it is not".
codecs.register_error("newsdesk.cp1252", _as_cp1252)


def repair_mixed_utf8(body: bytes) -> bytes:
    """A UTF-8 feed (declared, or undeclared: XML's default) with stray windows-1252 or latin-1
    bytes in it (legacy text pasted into a CMS), as valid UTF-8 with each stray byte read as
    windows-1252.

    Left as it is, feedparser re-reads the whole document in a fallback charset and garbles every
    other entry's text. Feeds declared in another encoding, and UTF-16/32 ones, are left alone.
    """
    if body.startswith(_WIDE_BOMS):
        return body
    declared = _XML_ENCODING.match(body.removeprefix(codecs.BOM_UTF8))
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        return body
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("utf-8", errors="newsdesk.cp1252").encode("utf-8")
    return body


# feedparser flags these, but the feed was read correctly.
_HARMLESS_FEED_PROBLEMS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def _entry_link(entry: Any) -> str | None:
    """The entry's article link: rel=alternate (Atom), else <link>, else a permalink guid."""
    for link in entry.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link["href"]
    if entry.get("link"):
        return entry["link"]
    if entry.get("guidislink") and entry.get("id"):
        return entry["id"]
    return None


def _feed_date(entry: Any, key: str) -> str | None:
    """The entry's date as ISO 8601 in the feed's own offset when feedparser could read it, else
    the text as given. The offset is the publisher's: a page dated only by its feed is counted on
    the publisher's day, not UTC's."""
    # dict.get: FeedParserDict.get("updated") silently falls back to "published".
    parsed: time.struct_time | None = dict.get(entry, f"{key}_parsed")
    written = dict.get(entry, key) or None
    if not parsed:
        return written
    instant = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    # feedparser gives only the UTC instant (to the second); the offset is read back from the
    # text it came from. A day alone stays a day: feedparser would make it midnight UTC.
    with_offset = parse_written_offset(written)
    if with_offset is not None and with_offset.replace(microsecond=0) == instant:
        return with_offset.isoformat()
    if written and _DAY_ALONE.match(written.strip()):
        return written.strip()
    return instant.isoformat()


_DAY_ALONE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_json_feed(body: bytes, url: str) -> list[Discovered] | None:
    """Article links of a JSON Feed (https://jsonfeed.org, versions 1 and 1.1); None when it is
    not one."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        logger.warning("feed %s: not valid JSON (%s)", url, exc)
        return None
    except RecursionError:  # `[` x 100,000: the parser's recursion ends before the document
        logger.warning("feed %s: not a readable feed (JSON nested too deeply)", url)
        return None
    items = document.get("items") if isinstance(document, dict) else None
    if not isinstance(items, list):
        logger.warning("feed %s: JSON without an 'items' list, not a JSON Feed", url)
        return None
    found: list[Discovered] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        target = _clean_url(_str(item.get("url")) or _str(item.get("external_url")), url)
        if target is None:
            continue
        found.append(
            (
                target,
                _meta(
                    FEED,
                    url,
                    title=(_str(item.get("title")) or "").strip() or None,
                    published=_str(item.get("date_published")),
                    modified=_str(item.get("date_modified")),
                ),
            )
        )
    return found


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# --- sitemaps --------------------------------------------------------------------------------

_NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


class _NewsAwareSitemap(Sitemap):
    """Scrapy's Sitemap parser, also keeping a Google News entry's title and date.

    Scrapy's parser flattens each <url> to its direct children's text, which loses the nested
    <news:news> block; we read it before the element is cleared.
    """

    def _process_sitemap_element(self, elem: lxml.etree._Element) -> dict[str, Any] | None:
        news = elem.find(f"{{{_NEWS_NS}}}news")
        fields = {}
        if news is not None:
            for child in news.iter():
                name = lxml.etree.QName(child).localname if isinstance(child.tag, str) else ""
                if name in ("title", "publication_date", "name", "language") and child.text:
                    fields[name] = child.text.strip()
        entry = super()._process_sitemap_element(elem)
        if entry is not None and news is not None:
            entry["news"] = fields
        return entry


@dataclass(frozen=True)
class SitemapDocument:
    """A parsed sitemap: `type` is 'sitemapindex', 'urlset', or '' when unreadable."""

    type: str
    entries: list[Discovered] = field(default_factory=list)

    @property
    def is_index(self) -> bool:
        return self.type == "sitemapindex"


def sitemap_body(body: bytes, *, max_size: int = 0) -> bytes:
    """The XML of a sitemap served gzipped (`.xml.gz`); the body as is otherwise.

    Scrapy already undoes Content-Encoding; this handles a gzip *file*, bounded by `max_size`.
    """
    if body[:2] == _GZIP_MAGIC:
        return gunzip(body, max_size=max_size)
    return body


def parse_sitemap(body: bytes, url: str, *, max_size: int = 0) -> SitemapDocument:
    """Entries of a sitemap index (child sitemaps) or a urlset (pages, with news fields)."""
    try:
        xml = sitemap_body(body, max_size=max_size)
        sitemap = _NewsAwareSitemap(xml)
        entries = list(sitemap)
    except (lxml.etree.XMLSyntaxError, StopIteration, OSError, EOFError, ValueError,
            zlib.error) as exc:  # zlib.error: a broken .xml.gz; ValueError: one past max_size
        logger.warning("sitemap %s: not a readable sitemap (%s)", url, exc or type(exc).__name__)
        return SitemapDocument("")
    errors = [e for e in sitemap.xmliter.error_log if e.level >= lxml.etree.ErrorLevels.ERROR]
    if errors:
        # lxml's recovery mangles what it repairs (an unescaped & drops text, a cut-off <loc>
        # yields half a URL): a malformed sitemap is skipped whole rather than half-trusted.
        logger.warning(
            "sitemap %s: malformed XML, skipped (line %d: %s)",
            url,
            errors[0].line,
            errors[0].message,
        )
        return SitemapDocument("")
    if sitemap.type not in ("sitemapindex", "urlset"):
        logger.warning("sitemap %s: root element <%s> is not a sitemap", url, sitemap.type)
        return SitemapDocument("")
    found: list[Discovered] = []
    for entry in entries:
        target = _clean_url(entry.get("loc"), url)
        if target is None:
            continue
        news = entry.get("news")
        fields: dict[str, Any] = {"modified": entry.get("lastmod")}
        if news is not None:
            fields |= {
                "news": True,
                "title": news.get("title"),
                "published": news.get("publication_date"),
                "publication": news.get("name"),
            }
        found.append((target, _meta(SITEMAP, url, **fields)))
    return SitemapDocument(sitemap.type, found)


def sitemaps_from_robots(body: bytes, url: str) -> list[str]:
    """The `Sitemap:` URLs a robots.txt lists, absolute."""
    return [u for u in (_clean_url(s, url) for s in sitemap_urls_from_robots(body, url)) if u]


def is_robots_url(url: str) -> bool:
    return urlsplit(url).path == "/robots.txt"


# --- listing pages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ListingPage:
    """Article links found on a listing page, and its next page (rel=next), if any."""

    links: list[Discovered]
    next_url: str | None


_NEXT_XPATH = (
    "//link[contains(concat(' ', normalize-space(@rel), ' '), ' next ')]/@href"
    " | //a[contains(concat(' ', normalize-space(@rel), ' '), ' next ')]/@href"
)


#: A URL as w3lib's safe_url_string leaves it (lower-case scheme and host, a path and a query of
#: only characters it never escapes there, no fragment): true of all 149,680 such links in the
#: dev corpus. The query differs from the path by one character: w3lib escapes `'` there.
#: A path before any query, a query not empty, a port without leading zeros: w3lib and
#: urljoin rewrite those (`host?id=1` -> `host/?id=1`, `/a?` -> `/a`, `:0080` -> `:80`).
_ALREADY_SAFE = re.compile(
    r"[a-z][a-z0-9+.\-]*://[a-z0-9.\-]+(?::[1-9][0-9]{0,4})?"
    r"(?:/[A-Za-z0-9\-._~:/@!$&'()*+,;=]*(?:\?[A-Za-z0-9\-._~:/?@!$&()*+,;=]+)?)?"
)


def _unmatched_dropped(article_pattern: str) -> Callable[[str], str | None]:
    """LinkExtractor's `process_value`: drops a link the article pattern does not match before
    Scrapy escapes it, joins it again and collects its text (most of a listing's links are
    navigation, and that work was most of the crawl's link extraction). A URL that escaping
    would change is kept, for `allow` to judge in its escaped form as before."""
    search = re.compile(article_pattern).search

    def keep(url: str) -> str | None:
        return url if search(url) or not _ALREADY_SAFE.fullmatch(url) else None

    return keep


def parse_listing(
    body: bytes,
    url: str,
    *,
    domains: Sequence[str],
    article_pattern: str | None = None,
    encoding: str | None = None,
    next_selector: str | None = None,
) -> ListingPage:
    """Links on `domains` whose URL matches `article_pattern` (re.search), and the next page.

    The next page is the first rel=next link, or the first link `next_selector` (CSS) matches.

    Scrapy's LinkExtractor does the link work (base href, relative URLs, skipping images and
    documents by extension). Without a pattern every same-site link counts, which also picks up
    navigation: configure `article_pattern` for real sources.
    """
    response = HtmlResponse(url=url, body=body, encoding=encoding or "utf-8")
    try:
        if next_selector:
            next_hrefs = response.css(next_selector).xpath("@href").getall()
        else:
            next_hrefs = response.xpath(_NEXT_XPATH).getall()
    except ValueError as exc:  # parsel raises ValueError on a document lxml cannot read at all
        logger.warning("listing %s: not a readable HTML page (%s)", url, exc)
        return ListingPage([], None)
    next_url = next((u for u in (_clean_url(h, url) for h in next_hrefs) if u), None)
    if next_url == urldefrag(url)[0] or (next_url and not on_domains(next_url, domains)):
        next_url = None
    # Domains are checked by on_domains: LinkExtractor's allow_domains compares the netloc, port
    # included, so it never matches a host with an explicit port.
    extractor = LinkExtractor(
        allow=(article_pattern,) if article_pattern else (),
        unique=True,
        process_value=_unmatched_dropped(article_pattern) if article_pattern else None,
    )
    found: list[Discovered] = []
    seen: set[str] = {urldefrag(url)[0]}
    if next_url:
        seen.add(next_url)
    for link in extractor.extract_links(response):
        target = _clean_url(link.url, url)
        if target is None or target in seen or not on_domains(target, domains):
            continue
        seen.add(target)
        title = re.sub(r"\s+", " ", link.text or "").strip() or None
        found.append((target, _meta(LISTING, url, title=title)))
    return ListingPage(found, next_url)

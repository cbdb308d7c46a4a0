"""Raw pages fetched under a merged address (issue 18, error 4), found from what is stored.

Before migration 0012 the crawler requested a link's lossy key, not the link: `story.php?12345`
was fetched as `story.php`, `/a;jsessionid=X` as `/a%3Bjsessionid=X`. Such a row holds another
page than its link named. A row fetched before 0012 is listed when

- `canonical`: the address the page names for itself (rel=canonical, og:url or JSON-LD url, on
  the same site) keys differently from the stored URL, and the old key of that address *is* the
  stored URL: the lossy key turned the page's address into the one fetched; or
- `semicolon`: the stored path holds `%3B`, the old key's spelling of a path's `;` (a site that
  wrote `%3B` itself is listed too: from the row alone the two cannot be told apart).

The next crawl requests the true address whenever discovery still lists it (it keys apart from
the stored row); a listed row, and the article made from it, can then be deleted.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import courlan
import psycopg

from pipeline.extraction.metadata import harvest, ld_strings
from pipeline.extraction.page import UnreadablePage, parse
from pipeline.text.urls import is_tracking_param, same_site, url_key

_BEFORE_REKEY = """
SELECT source, url, html_gz, headers -> 'Content-Type' ->> 0
  FROM raw_pages
 WHERE fetched_at < coalesce((SELECT applied_at FROM schema_migrations WHERE version = 12),
                             'infinity')
   AND (%(source)s::text IS NULL OR source = %(source)s)
 ORDER BY source, url
"""


@dataclass(frozen=True)
class MergedPage:
    source: str
    url: str  # as stored: the address fetched
    address: str | None  # the page's own address, to refetch (None: unknown)
    rule: str  # canonical | semicolon


def merged_pages(conn: psycopg.Connection, source: str | None = None) -> Iterator[MergedPage]:
    """The stored pages fetched under a merged address, by the rules in the module docstring."""
    with conn.transaction(), conn.cursor(name="newsdesk_merged_pages") as cur:
        cur.itersize = 200
        cur.execute(_BEFORE_REKEY, {"source": source})
        for name, url, html_gz, content_type in cur:
            declared = _declared_address(html_gz, content_type, url)
            if declared and url_key(declared) != url_key(url) and _old_key(declared) == url:
                yield MergedPage(name, url, declared, "canonical")
            elif "%3b" in urlsplit(url).path.lower():
                yield MergedPage(name, url, None, "semicolon")


def _declared_address(html_gz: bytes, content_type: str | None, url: str) -> str | None:
    try:
        page = harvest(parse(gzip.decompress(html_gz), content_type)[0])
    except (UnreadablePage, OSError, EOFError):
        return None
    for candidate in (*page.links.get("canonical", []), page.first("og:url"),
                      *ld_strings(page.ld("url"))):
        if candidate and candidate.strip():
            absolute = urljoin(url, candidate.strip())
            if same_site(absolute, url):
                return absolute
    return None


def _old_key(url: str) -> str:
    """The key compared and fetched before migration 0012 (tracking parameters dropped, then
    courlan's normalize_url, which drops valueless query keys and escapes `;`), kept only to
    recognise the addresses it produced."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.scheme or not parts.netloc:
        return url
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not is_tracking_param(k)])
    stripped = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query,
                           ""))
    try:
        return courlan.normalize_url(stripped, strict=False)
    except (ValueError, AttributeError):
        return stripped

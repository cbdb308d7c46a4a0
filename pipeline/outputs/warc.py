"""Raw pages to and from WARC files (warcio), the web archive format crawls are exchanged in.

Export writes each stored raw page as a WARC `response` record (target URI = the final URL,
HTTP status and headers as stored, the page body), plus three `Newsdesk-*` extension headers
(source, discovered URL, what discovery knew), so re-importing a newsdesk WARC loses nothing.
Import reads any WARC's HTML responses (for example Common Crawl's CC-NEWS) into `raw_pages`
with `discovered_via = 'import'`; the normal process stage then extracts them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg.types.json import Jsonb

from pipeline import MAX_PAGE_BYTES
from pipeline.atomic import atomic_write
from pipeline.db.takedowns import taken_down_keys, taken_down_sources
from pipeline.errors import NewsdeskError
from pipeline.sources.config import Source
from pipeline.text.urls import on_domains, url_key

# Headers that described the transfer, not the page: the stored body is already decoded.
_TRANSFER_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}
#: Refused records named for the user, the rest only counted: a hostile WARC can hold millions.
REFUSED_NAMED = 20

_SELECT_PAGES = """
SELECT url, final_url, source, status, headers, html_gz, discovered_via, discovery, fetched_at
  FROM raw_pages
 WHERE (%(since)s::timestamptz IS NULL OR fetched_at >= %(since)s)
   AND (%(source)s::text IS NULL OR source = %(source)s)
 ORDER BY id
"""

_UPSERT_PAGE = """
INSERT INTO raw_pages AS r (source, url, url_key, final_url, status, headers, html_gz,
                            content_sha256, discovered_via, discovery, fetched_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'import', %s, %s)
ON CONFLICT (url_key) DO UPDATE SET
    url = EXCLUDED.url, final_url = EXCLUDED.final_url, status = EXCLUDED.status,
    headers = EXCLUDED.headers,
    html_gz = EXCLUDED.html_gz, content_sha256 = EXCLUDED.content_sha256,
    discovery = EXCLUDED.discovery, fetched_at = EXCLUDED.fetched_at,
    processed_at = NULL, process_error = NULL, extractor_version = NULL
WHERE r.content_sha256 IS DISTINCT FROM EXCLUDED.content_sha256
  AND r.source = EXCLUDED.source  -- a record never rewrites another source's page
RETURNING (xmax = 0) AS inserted
"""


def export_warc(
    conn: psycopg.Connection,
    out: Path,
    *,
    since: datetime | None = None,
    source: str | None = None,
) -> int:
    """Write the selected raw pages to a gzipped WARC file, whole or not at all; returns how many
    records."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    count = 0
    with atomic_write(out) as tmp, tmp.open("wb") as fh, conn.transaction(), \
            conn.cursor(name="newsdesk_warc") as cur:
        writer = WARCWriter(fh, gzip=True)
        cur.itersize = 200
        cur.execute(_SELECT_PAGES, {"since": since, "source": source})
        for url, final_url, src, status, headers, html_gz, via, discovery, fetched_at in cur:
            body = gzip.decompress(html_gz)
            http_headers = [
                (name, value)
                for name, values in (headers or {}).items()
                if name.lower() not in _TRANSFER_HEADERS
                for value in (values if isinstance(values, list) else [values])
            ]
            http_headers.append(("Content-Length", str(len(body))))
            warc_headers = {
                "WARC-Date": fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "Newsdesk-Source": src,
                "Newsdesk-Discovered-URL": url,
                "Newsdesk-Discovered-Via": via,
                "Newsdesk-Discovery": json.dumps(discovery or {}, separators=(",", ":")),
            }
            record = writer.create_warc_record(
                final_url,
                "response",
                payload=BytesIO(body),
                http_headers=StatusAndHeaders(f"{status} -", http_headers, protocol="HTTP/1.1"),
                warc_headers_dict=warc_headers,
            )
            writer.write_record(record)
            count += 1
    return count


@dataclass
class ImportStats:
    imported: Counter = field(default_factory=Counter)  # source -> new or changed pages
    unchanged: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> records
    refused: list[str] = field(default_factory=list)  # "URL: why", the first REFUSED_NAMED
    refused_total: int = 0  # records refused as off their source's site or another's page


class SourceMatcher:
    """Which configured source a URL belongs to: same origin as its homepage, else its domains."""

    def __init__(self, sources: Sequence[Source]) -> None:
        self.by_netloc: dict[str, list[Source]] = {}
        for source in sources:
            netloc = urlsplit(source.homepage).netloc.lower()
            self.by_netloc.setdefault(netloc, []).append(source)
        self.sources = list(sources)

    def match(self, url: str) -> Source | None:
        try:
            parts = urlsplit(url)
        except ValueError:  # "http://[::1": no source's
            return None
        same_origin = self.by_netloc.get(parts.netloc.lower(), [])
        if len(same_origin) == 1:
            return same_origin[0]
        candidates = [s for s in self.sources if on_domains(url, s.domains)]
        return candidates[0] if len(candidates) == 1 else None


def import_warc(
    conn: psycopg.Connection,
    files: Iterable[Path],
    sources: Sequence[Source],
    *,
    source: Source | None = None,
) -> ImportStats:
    """Store the HTML responses of WARC files as pending raw pages; one transaction per file.

    A record writes only to its own source's pages: the one forced, else the one its URL
    matches. A record whose URL or Newsdesk-Discovered-URL is off that source's site, or whose
    address another source already stores, is refused; a body over MAX_PAGE_BYTES (stored or
    decompressed, as the crawl bounds it) is skipped.
    """
    from warcio.archiveiterator import ArchiveIterator

    matcher = SourceMatcher(sources)
    stats = ImportStats()
    for path in files:
        try:
            fh = path.open("rb")
        except OSError as exc:
            raise NewsdeskError(f"{path}: cannot read: {exc.strerror}") from None
        with fh, conn.transaction():
            records = 0
            try:
                for record in ArchiveIterator(fh):
                    if record.format != "warc":  # warcio also reads (or guesses) legacy ARC
                        raise NewsdeskError(f"{path}: not a readable WARC file: not WARC/1.x")
                    records += 1
                    _import_record(conn, record, matcher, source, stats)
            except Exception as exc:  # warcio raises plain exceptions on a damaged file
                if isinstance(exc, NewsdeskError | psycopg.Error):
                    raise
                raise NewsdeskError(f"{path}: not a readable WARC file: {exc}") from None
            if records == 0:
                raise NewsdeskError(f"{path}: not a readable WARC file: no WARC records")
    return stats


class _Unreadable(ValueError):
    """A record body newsdesk will not store: over the size bound or not decodable."""


def _import_record(conn, record, matcher: SourceMatcher, forced: Source | None, stats) -> None:
    if record.rec_type != "response" or record.http_headers is None:
        return
    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
    status = int(record.http_headers.get_statuscode() or 0)
    content_type = (record.http_headers.get_header("Content-Type") or "").lower()
    if status != 200:
        stats.skipped[f"HTTP {status}"] += 1
        return
    if content_type and "html" not in content_type:
        stats.skipped["not HTML"] += 1
        return
    discovered = record.rec_headers.get_header("Newsdesk-Discovered-URL") or uri
    source = forced or matcher.match(uri)
    if source is None:
        stats.skipped["no matching source"] += 1
        return
    off_site = next((u for u in (uri, discovered) if not on_domains(u, source.domains)), None)
    if off_site is not None:
        _refuse(stats, f"not on {source.name}'s site", off_site)
        return
    if taken_down_sources(conn, [source.name]) or taken_down_keys(
            conn, {url_key(discovered), url_key(uri)}):
        stats.skipped["taken down"] += 1  # newsdesk takedown: never stored again
        return
    try:
        body = _body(record)
    except _Unreadable as exc:
        stats.skipped[str(exc)] += 1
        return
    headers: dict[str, list[str]] = {}
    for name, value in record.http_headers.headers:
        if name.lower() not in _TRANSFER_HEADERS:
            headers.setdefault(name, []).append(value)
    try:
        discovery = json.loads(record.rec_headers.get_header("Newsdesk-Discovery") or "{}")
    except (ValueError, RecursionError):
        discovery = {}
    if not isinstance(discovery, dict):
        discovery = {}
    discovery["warc_record_id"] = record.rec_headers.get_header("WARC-Record-ID")
    when = record.rec_headers.get_header("WARC-Date")
    fetched_at = datetime.fromisoformat(when.replace("Z", "+00:00")) if when else datetime.now(UTC)
    key = url_key(discovered)
    row = conn.execute(
        _UPSERT_PAGE,
        [source.name, discovered, key, uri, status, Jsonb(headers),
         gzip.compress(body, 6), hashlib.sha256(body).digest(), Jsonb(discovery), fetched_at],
    ).fetchone()
    if row is not None:
        stats.imported[source.name] += 1
        return
    owner = conn.execute("SELECT source FROM raw_pages WHERE url_key = %s", [key]).fetchone()
    if owner and owner[0] != source.name:
        _refuse(stats, f"stored under source {owner[0]}", discovered)
    else:
        stats.unchanged += 1


def _refuse(stats: ImportStats, why: str, url: str) -> None:
    stats.skipped[why] += 1
    stats.refused_total += 1
    if len(stats.refused) < REFUSED_NAMED:
        stats.refused.append(f"{url}: {why}")


def _body(record) -> bytes:
    """The page as served, bounded as the crawl bounds it: at most MAX_PAGE_BYTES as stored and
    again once decompressed, by the crawl's own decoders (Scrapy's HttpCompressionMiddleware;
    warcio's decompress a whole chunk at once, unbounded). `_decode` and its size error are
    Scrapy's private names: scrapy is pinned (constraints.txt) and the bomb test checks them."""
    from scrapy.downloadermiddlewares.httpcompression import (
        ACCEPTED_ENCODINGS,
        HttpCompressionMiddleware,
    )
    from scrapy.utils._compression import _DecompressionMaxSizeExceeded
    from warcio.bufferedreaders import ChunkedDataReader

    body = record.raw_stream.read(MAX_PAGE_BYTES + 1)
    if len(body) > MAX_PAGE_BYTES:
        raise _Unreadable(f"over {MAX_PAGE_BYTES} bytes")
    headers = record.http_headers
    if "chunked" in (headers.get_header("Transfer-Encoding") or "").lower():
        body = ChunkedDataReader(BytesIO(body)).read()  # given no decoder, it only shrinks
    codings = [c.strip().encode() for c in
               (headers.get_header("Content-Encoding") or "").lower().split(",")]
    for coding in reversed([c for c in codings if c not in (b"", b"identity")]):
        if coding not in (*ACCEPTED_ENCODINGS, b"x-gzip"):
            break  # as Scrapy does: an unknown coding (often a charset by mistake) stays as is
        try:
            body = HttpCompressionMiddleware._decode(body, coding, MAX_PAGE_BYTES)
        except _DecompressionMaxSizeExceeded:
            raise _Unreadable(f"over {MAX_PAGE_BYTES} bytes decompressed") from None
        except Exception:  # zlib.error, OSError, brotli.error, zstd's error: a damaged body
            raise _Unreadable(f"bad {coding.decode()} body") from None
    return body

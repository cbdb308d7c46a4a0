"""`python -m crawlers.probe`: look at a source before it goes live, without storing anything.

    python -m crawlers.probe check NAME [--sources PATH] [--articles N]
    python -m crawlers.probe discover URL [--allow-private-addresses] [--delay SECONDS]

`check` fetches what the source's YAML names (feeds, sitemaps, listings), says what each
discovery method found and what robots.txt allows, extracts the first few articles and reports
their field completeness, and ends with warnings. `discover` finds a site's feeds and sitemaps
and prints a YAML entry to review. Neither opens a database connection.

A handful of sequential requests does not need Scrapy's engine (and a reactor per command);
this uses urllib, with the same rules as the crawl: the private-address guard (also on every
redirect), robots.txt (Protego, as Scrapy uses), the honest User-Agent, a delay between
requests, a size limit and timeouts. `newsdesk sources check|discover` runs it as a subprocess,
as it does the crawl, so `pipeline` never imports `crawlers`.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import re
import sys
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import yaml
from protego import Protego

from crawlers import discovery, incremental
from crawlers.blocking import challenge_reason
from crawlers.middlewares import non_public_addresses, resolve
from crawlers.spiders.source_settings import user_agent
from pipeline.errors import NewsdeskError
from pipeline.sources.config import CONTACT_ENV, DEFAULT_CONTACT, Source, get_sources

MAX_BYTES = 10 * 1024 * 1024
TIMEOUT = 15
COMMON_FEEDS = ("/feed/", "/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml",
                "/feeds/all.atom", "/feeds/all.atom.xml", "/feed.json")  # fmt: skip
COMMON_SITEMAPS = ("/sitemap.xml", "/sitemap_index.xml", "/news-sitemap.xml",
                   "/sitemap-news.xml", "/sitemap.xml.gz")  # fmt: skip
_FEED_TYPES = re.compile(r"application/(rss|atom|feed)\+(xml|json)|application/json", re.I)


@dataclass
class Fetched:
    url: str
    status: int
    final_url: str
    content_type: str
    body: bytes
    error: str | None = None  # why nothing usable came back (refused, robots, network, blocked)


class Refused(Exception):
    """A URL the rules do not let us fetch (private address, robots.txt)."""


@dataclass
class Fetcher:
    """Sequential, polite GETs: guard, robots.txt, delay, size limit."""

    allow_private: bool
    delay: float
    agent: str
    robots: dict[str, Protego | None] = field(default_factory=dict)
    _last: float = 0.0
    requests: int = 0

    def check_address(self, url: str) -> None:
        if self.allow_private:
            return
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = asyncio.run(resolve(host, port))
        except OSError as exc:
            raise Refused(f"cannot resolve {host}: {exc}") from None
        bad = non_public_addresses(addresses)
        if bad:
            raise Refused(
                f"refused {url}: {host} resolves to non-public address {', '.join(bad)} "
                "(pass --allow-private-addresses, or set allow_private_addresses: true)"
            )

    def robots_for(self, url: str) -> Protego | None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.robots:
            got = self.get(origin + "/robots.txt", obey_robots=False)
            ok = got.status == 200 and not got.error
            self.robots[origin] = Protego.parse(got.body.decode("utf-8", "replace")) if ok else None
        return self.robots[origin]

    def allowed(self, url: str) -> bool:
        robots = self.robots_for(url)
        return robots is None or robots.can_fetch(url, self.agent)

    def get(self, url: str, *, obey_robots: bool = True) -> Fetched:
        try:
            if obey_robots and not self.allowed(url):
                raise Refused("forbidden by robots.txt")
            return self._get(url)
        except Refused as exc:
            return Fetched(url, 0, url, "", b"", str(exc))

    def _get(self, url: str) -> Fetched:
        self.check_address(url)
        robots = self.robots.get(_origin(url))
        delay = max(self.delay, float((robots and robots.crawl_delay(self.agent)) or 0))
        wait = self._last + delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        opener = urllib.request.build_opener(_GuardedRedirects(self))
        request = urllib.request.Request(
            url, headers={"User-Agent": self.agent, "Accept-Encoding": "gzip, deflate"}
        )
        self.requests += 1
        try:
            with opener.open(request, timeout=TIMEOUT) as response:
                status, final, headers = response.status, response.url, response.headers
                body = response.read(MAX_BYTES + 1)
        except urllib.error.HTTPError as exc:
            status, final, headers = exc.code, exc.url or url, exc.headers
            body = exc.read(MAX_BYTES + 1)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, Refused):
                return Fetched(url, 0, url, "", b"", str(reason))
            return Fetched(url, 0, url, "", b"", f"network error: {reason}")
        finally:
            self._last = time.monotonic()
        if len(body) > MAX_BYTES:
            return Fetched(url, status, final, "", b"", f"larger than {MAX_BYTES} bytes")
        encoding = (headers.get("Content-Encoding") or "").lower()
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        content_type = headers.get("Content-Type") or ""
        fetched = Fetched(url, status, final, content_type, body)
        blocked = challenge_reason(
            status, {k.lower().encode(): v.encode() for k, v in headers.items()}, body
        )
        if blocked and (status >= 400 or "html" in content_type.lower()):
            fetched.error = f"blocked: {blocked}"
        elif status != 200:
            fetched.error = f"HTTP {status}"
        return fetched


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class _GuardedRedirects(urllib.request.HTTPRedirectHandler):
    """Every redirect target passes the private-address guard, at most 5 redirects."""

    max_redirections = 5

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        try:
            self.fetcher.check_address(newurl)
        except Refused as exc:
            raise urllib.error.URLError(exc) from None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


# --- check ----------------------------------------------------------------------------------


def _dated(found: Sequence[discovery.Discovered]) -> int:
    return sum(1 for _, meta in found if incremental.entry_date(meta) is not None)


def check(source: Source, *, articles: int, out=sys.stdout) -> int:
    fetcher = Fetcher(source.allow_private_addresses, source.politeness.delay,
                      user_agent(source.contact))  # fmt: skip
    say = lambda text="": print(text, file=out)  # noqa: E731
    warnings: list[str] = []
    candidates: dict[str, dict] = {}
    oldest = incremental.cutoff(source.limits.max_age_days)

    def take(found: Sequence[discovery.Discovered]) -> tuple[int, int]:
        kept = 0
        for url, meta in found:
            url = incremental.normalise_url(url)
            if (discovery.on_domains(url, source.domains) and source.wants(url)
                    and not incremental.too_old(meta, oldest)):  # fmt: skip
                kept += 1
                candidates.setdefault(url, meta)
        return kept, _dated(found)

    say(f"source {source.name}: {source.homepage}  (nothing is written to the database)")
    say(f"User-Agent: {fetcher.agent}")
    robots = fetcher.robots_for(source.homepage)
    origin = _origin(source.homepage)
    if robots is None:
        say(f"robots.txt: {origin}/robots.txt: none or unreadable (everything allowed)")
    else:
        delay = robots.crawl_delay(fetcher.agent)
        say(f"robots.txt: {origin}/robots.txt: read; crawl-delay {delay or 'none'}; "
            f"sitemaps announced: {len(list(robots.sitemaps))}")  # fmt: skip
    blocked_or_denied = 0
    say("feeds:")
    for url in source.feeds or ["(none configured)"]:
        if not source.feeds:
            say(f"  {url}")
            break
        got = fetcher.get(url)
        if got.error:
            blocked_or_denied += 1
            say(f"  {url}: {got.error}")
            warnings.append(f"feed {url}: {got.error}")
            continue
        found = discovery.parse_feed(got.body, got.final_url)
        kept, dated = take(found)
        say(f"  {url}: {len(found)} links, {dated} dated, {kept} wanted")
        if found and not dated:
            warnings.append(f"feed {url}: no dates on its items (max_age_days cannot apply)")
    say("sitemaps:")
    if not source.sitemaps:
        say("  (none configured)")
    queue = [(u, 0) for u in source.sitemaps]
    seen_maps: set[str] = set()
    while queue:
        url, depth = queue.pop(0)
        if url in seen_maps or len(seen_maps) >= 6:
            continue
        seen_maps.add(url)
        got = fetcher.get(url)
        indent = "  " * (depth + 1)
        if got.error:
            blocked_or_denied += 1
            say(f"{indent}{url}: {got.error}")
            warnings.append(f"sitemap {url}: {got.error}")
            continue
        if discovery.is_robots_url(url):
            maps = discovery.sitemaps_from_robots(got.body, got.final_url)
            say(f"{indent}{url}: announces {len(maps)} sitemaps")
            queue[:0] = [(m, depth + 1) for m in maps]
            continue
        document = discovery.parse_sitemap(got.body, got.final_url, max_size=MAX_BYTES)
        if document.is_index:
            children = [u for u, _ in document.entries]
            say(f"{indent}{url}: sitemap index, {len(children)} sitemaps (first 2 read)")
            queue[:0] = [(c, depth + 1) for c in children[:2]]
        elif document.type:
            kept, dated = take(document.entries)
            news = sum(1 for _, m in document.entries if m.get("news"))
            say(f"{indent}{url}: {len(document.entries)} links ({news} news), {dated} dated,"
                f" {kept} wanted")  # fmt: skip
        else:
            say(f"{indent}{url}: not a readable sitemap")
            warnings.append(f"sitemap {url}: not a readable sitemap")
    say("listings:")
    if not source.listings:
        say("  (none configured)")
    for listing in source.listings:
        got = fetcher.get(listing.url)
        if got.error:
            blocked_or_denied += 1
            say(f"  {listing.url}: {got.error}")
            warnings.append(f"listing {listing.url}: {got.error}")
            continue
        page = discovery.parse_listing(got.body, got.final_url, domains=source.domains,
                                       article_pattern=listing.article_pattern,
                                       next_selector=listing.next_selector)  # fmt: skip
        kept, _ = take(page.links)
        nxt = page.next_url or "none"
        say(f"  {listing.url}: {len(page.links)} article links, {kept} wanted; next page: {nxt}")
        if not page.links:
            warnings.append(f"listing {listing.url}: no link matches article_pattern")
    say(f"articles: {len(candidates)} candidates; extracting the first {articles}")
    from pipeline.extraction.extract import NotAnArticle, extract_article

    good = 0
    short = 0
    undated = 0
    tried = 0
    for url, meta in list(candidates.items()):
        if tried >= articles:
            break
        tried += 1
        got = fetcher.get(url)
        if got.error:
            blocked_or_denied += 1
            say(f"  {url}: {got.error}")
            warnings.append(f"article {url}: {got.error}")
            continue
        try:
            art = extract_article(got.body, got.final_url, source=source,
                                  hints={**meta, "content_type": got.content_type})  # fmt: skip
        except NotAnArticle as exc:
            say(f"  {url}: not an article ({exc})")
            continue
        good += 1
        date = art.published_at.isoformat() if art.published_at else "-"
        say(f"  {url}\n    title: {'yes' if art.title else 'NO'} · date: {date}"
            f" ({art.date_source or 'none'}) · authors: {', '.join(art.authors) or 'NONE'}"
            f" · body: {len(art.body)} chars, {art.word_count} words")  # fmt: skip
        undated += art.published_at is None
        short += art.word_count < 100
    if not candidates:
        warnings.append("no article URL found by any discovery method")
    if tried and blocked_or_denied >= tried:
        warnings.append("every article request was blocked, refused or failed")
    if good and undated == good:
        warnings.append("no dates found on the extracted articles")
    if good and short:
        warnings.append(f"{short} of {good} article bodies are shorter than 100 words")
    say("warnings:" if warnings else "warnings: none")
    for line in warnings:
        say(f"  - {line}")
    say(f"({fetcher.requests} requests)")
    return 0 if good else 1


# --- discover -------------------------------------------------------------------------------


def _feed_links(body: bytes, url: str) -> list[str]:
    from parsel import Selector

    sel = Selector(text=body.decode("utf-8", "replace"))
    out = []
    for link in sel.xpath(
        "//link[contains(concat(' ', normalize-space(@rel), ' '), ' alternate ')]"
    ):
        kind = link.attrib.get("type", "")
        href = link.attrib.get("href")
        if href and _FEED_TYPES.search(kind):
            out.append(urljoin(url, href))
    return out


def discover(url: str, *, allow_private: bool, delay: float, out=sys.stdout) -> int:
    import os

    fetcher = Fetcher(
        allow_private, delay, user_agent(os.environ.get(CONTACT_ENV) or DEFAULT_CONTACT)
    )
    err = sys.stderr
    home = fetcher.get(url)
    if home.error:
        print(f"cannot fetch {url}: {home.error}", file=err)
        return 1
    origin = _origin(home.final_url)
    feeds: list[str] = []
    for candidate in [*_feed_links(home.body, home.final_url), *(origin + p for p in COMMON_FEEDS)]:
        if candidate in feeds or not discovery.on_domains(candidate, [urlsplit(origin).hostname]):
            continue
        got = fetcher.get(candidate)
        if not got.error and discovery.parse_feed(got.body, got.final_url):
            feeds.append(candidate)
            print(f"feed: {candidate}", file=err)
        if len(feeds) >= 3:
            break
    robots = fetcher.robots.get(origin)
    sitemaps = [s for s in (robots.sitemaps if robots else [])]
    if sitemaps:
        print(f"sitemaps announced in robots.txt: {len(sitemaps)}", file=err)
    else:
        for path in COMMON_SITEMAPS:
            got = fetcher.get(origin + path)
            if (
                not got.error
                and discovery.parse_sitemap(got.body, got.final_url, max_size=MAX_BYTES).type
            ):
                sitemaps.append(origin + path)
                print(f"sitemap: {origin + path}", file=err)
    lang = re.search(rb"<html[^>]*\slang=[\"']?([a-zA-Z]{2})", home.body[:4096])
    host = urlsplit(origin).hostname or "source"
    name = (
        re.sub(r"[^a-z0-9_]", "_", host.removeprefix("www.").split(".")[0].lower())[:63] or "source"
    )
    if re.fullmatch(r"[\d.]+|\[?[0-9a-f:]+\]?", host):
        name = "site_" + re.sub(r"[^a-z0-9]", "_", host.lower())
    entry: dict = {"name": name, "homepage": home.final_url}
    entry["feeds"] = feeds
    entry["sitemaps"] = sitemaps
    if lang:
        entry["language"] = lang.group(1).decode().lower()
    if allow_private:
        entry["allow_private_addresses"] = True
    if not feeds and not sitemaps:
        print("no feed or sitemap found: add listings (section pages) by hand", file=err)
    print("# review before adding to sources.yaml; `newsdesk sources check NAME` next", file=out)
    print(
        yaml.safe_dump({"sources": [entry]}, sort_keys=False, allow_unicode=True), end="", file=out
    )
    return 0 if feeds or sitemaps else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers.probe")
    sub = parser.add_subparsers(dest="action", required=True)
    c = sub.add_parser("check")
    c.add_argument("name")
    c.add_argument("--sources")
    c.add_argument("--articles", type=int, default=3)
    d = sub.add_parser("discover")
    d.add_argument("url")
    d.add_argument("--allow-private-addresses", action="store_true")
    d.add_argument("--delay", type=float, default=1.0)
    args = parser.parse_args(argv)
    try:
        if args.action == "check":
            (source,) = get_sources([args.name], args.sources)
            return check(source, articles=args.articles)
        if urlsplit(args.url).scheme not in ("http", "https"):
            raise NewsdeskError(f"not an http(s) URL: {args.url}")
        return discover(args.url, allow_private=args.allow_private_addresses, delay=args.delay)
    except NewsdeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

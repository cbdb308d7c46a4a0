"""The demo news site over real HTTP on 127.0.0.1: determinism, discovery, traps, truth."""

from __future__ import annotations

import argparse
import gzip
import html
import http.client
import json
import re
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import pytest

from pipeline.demo_site import ArticleTruth, DemoSite, RunningSite, serve_demo_site
from pipeline.sources.config import load_sources

SEED = 7
NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
    "atom": "http://www.w3.org/2005/Atom",
}
ANCHOR = datetime(2026, 3, 15, 12, tzinfo=UTC)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


NO_REDIRECT = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with NO_REDIRECT.open(request, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def get_text(url: str) -> str:
    status, _, body = fetch(url)
    assert status == 200, url
    return body.decode("utf-8")


@pytest.fixture(scope="module")
def running() -> Iterator[RunningSite]:
    with serve_demo_site(DemoSite(seed=SEED, n_articles=300, anchor=ANCHOR)) as run:
        yield run


@pytest.fixture(scope="module")
def truth(running: RunningSite) -> list[ArticleTruth]:
    return list(running.truth())


@pytest.fixture(scope="module")
def pages(running: RunningSite, truth: list[ArticleTruth]) -> dict[str, str]:
    return {t.url: get_text(t.url) for t in truth}


def _normalised(run: RunningSite, data: str) -> str:
    for pub in run.publishers:
        data = data.replace(pub.base_url, f"http://{pub.name}.test")
    return data


def _paths(run: RunningSite) -> list[str]:
    truths = list(run.truth())
    sample = [truths[0].url, truths[150].url, truths[-1].url]
    extra = []
    for pub in run.publishers:
        source = next(s for s in load_sources_from(run) if s.name == pub.name)
        extra += [*source.feeds, *source.sitemaps, source.listings[0].url, source.homepage]
    return sample + extra


def load_sources_from(run: RunningSite, tmp_dir: str | None = None):  # type: ignore[no-untyped-def]
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(dir=tmp_dir) as folder:
        path = Path(folder) / "sources.yaml"
        path.write_text(run.sources_yaml(), encoding="utf-8")
        return load_sources(path)


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_identical_pages_and_truth(running: RunningSite) -> None:
    with serve_demo_site(DemoSite(seed=SEED, n_articles=300, anchor=ANCHOR)) as other:
        mine, theirs = _paths(running), _paths(other)
        assert len(mine) == len(theirs)
        for a, b in zip(mine, theirs, strict=True):
            assert _normalised(running, get_text(a)) == _normalised(other, get_text(b))
        assert [_normalised(running, repr(t)) for t in running.truth()] == [
            _normalised(other, repr(t)) for t in other.truth()
        ]


def test_different_seed_gives_different_site(running: RunningSite) -> None:
    with serve_demo_site(DemoSite(seed=SEED + 1, n_articles=300, anchor=ANCHOR)) as other:
        mine = [t.body for t in running.truth()]
        theirs = [t.body for t in other.truth()]
        assert len(mine) == len(theirs)
        assert not set(mine) & set(theirs)


# --- discovery documents ----------------------------------------------------------------------


def test_sources_yaml_loads_with_the_config_loader(running: RunningSite, tmp_path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(running.sources_yaml(), encoding="utf-8")
    sources = load_sources(path)
    assert [s.name for s in sources] == [p.name for p in running.publishers]
    for source, pub in zip(sources, running.publishers, strict=True):
        assert source.allow_private_addresses
        assert source.language == pub.language and source.timezone == pub.timezone
        assert source.homepage == pub.base_url + "/"
        assert source.feeds and len(source.sitemaps) == 2 and len(source.listings) >= 3
    assert {p.timezone for p in running.publishers} == {
        "America/New_York", "Europe/London", "Europe/Paris"}
    assert {p.language for p in running.publishers} == {"en", "fr"}


def test_robots_txt_names_the_sitemaps(running: RunningSite) -> None:
    for source in load_sources_from(running):
        robots = get_text(source.homepage + "robots.txt")
        listed = re.findall(r"^Sitemap: (\S+)$", robots, re.M)
        assert listed == source.sitemaps


def test_sitemap_index_leads_to_every_article(running: RunningSite, truth) -> None:
    special = running.special_urls()
    for source in load_sources_from(running):
        index = ET.fromstring(get_text(source.sitemaps[0]))
        assert index.tag == f"{{{NS['sm']}}}sitemapindex"
        urls: set[str] = set()
        for child in index.findall("sm:sitemap", NS):
            assert child.find("sm:lastmod", NS) is not None
            urlset = ET.fromstring(get_text(child.findtext("sm:loc", namespaces=NS)))
            entries = urlset.findall("sm:url", NS)
            assert 0 < len(entries) <= 1000
            for entry in entries:
                datetime.fromisoformat(entry.findtext("sm:lastmod", namespaces=NS))
                urls.add(entry.findtext("sm:loc", namespaces=NS))
        assert urls == running.listed_in(source.name, "sitemap")
        expected = {t.url for t in truth if t.publisher == source.name}
        if source.name == "dailyplanet":
            expected.add(special["non_article"])
        assert urls == expected


def test_news_sitemap_lists_the_last_two_days(running: RunningSite, truth) -> None:
    for source in load_sources_from(running):
        root = ET.fromstring(get_text(source.sitemaps[1]))
        urls = set()
        for entry in root.findall("sm:url", NS):
            news = entry.find("news:news", NS)
            stamp = news.findtext("news:publication_date", namespaces=NS)
            published = datetime.fromisoformat(stamp)
            assert published.tzinfo is not None
            assert (ANCHOR - published).total_seconds() <= 2 * 86400
            assert news.findtext("news:title", namespaces=NS)
            assert news.findtext("news:publication/news:language", namespaces=NS)
            urls.add(entry.findtext("sm:loc", namespaces=NS))
        assert 20 <= len(urls) <= 60
        assert urls == running.listed_in(source.name, "news_sitemap")
        recent = {t.url for t in truth if t.publisher == source.name
                  and (ANCHOR - t.published_at).total_seconds() <= 2 * 86400}
        assert urls == recent


def _feed_links(document: str) -> tuple[list[str], list[datetime]]:
    root = ET.fromstring(document)
    if root.tag == "rss":
        items = root.findall("channel/item")
        from email.utils import parsedate_to_datetime
        return ([i.findtext("link") for i in items],
                [parsedate_to_datetime(i.findtext("pubDate")) for i in items])
    entries = root.findall("atom:entry", NS)
    return ([e.find("atom:link[@rel='alternate']", NS).get("href") for e in entries],
            [datetime.fromisoformat(e.findtext("atom:published", namespaces=NS))
             for e in entries])


def test_feeds_parse_and_list_the_latest_items(running: RunningSite) -> None:
    kinds = {}
    for source in load_sources_from(running):
        document = get_text(source.feeds[0])
        kinds[source.name] = ET.fromstring(document).tag
        links, dates = _feed_links(document)
        assert 50 <= len(links) <= 51
        assert all(d.tzinfo is not None for d in dates)
        assert dates == sorted(dates, reverse=True)
        assert set(links) == running.listed_in(source.name, "feed")
    assert kinds == {"dailyplanet": "rss", "metroherald": f"{{{NS['atom']}}}feed",
                     "lecourrier": "rss"}


def test_listing_pages_paginate_and_reach_every_article(running: RunningSite, truth) -> None:
    special = running.special_urls()
    for source in load_sources_from(running):
        found: set[str] = set()
        for listing in source.listings:
            url: str | None = listing.url
            pages = 0
            while url and pages < listing.max_pages:
                page = get_text(url)
                pages += 1
                for href in re.findall(r'<a [^>]*?href="([^"]+)"', page):
                    absolute = urljoin(url, html.unescape(href))
                    if re.search(listing.article_pattern, absolute):
                        found.add(absolute)
                link_next = re.search(r'<link rel="next" href="([^"]+)"', page)
                a_next = re.search(r'<a [^>]*rel="next" href="([^"]+)"', page)
                assert bool(link_next) == bool(a_next)
                url = link_next.group(1) if link_next else None
            assert url is None, "max_pages must reach the last page at the default size"
        assert found == running.listed_in(source.name, "listing")
        expected = {t.url for t in truth if t.publisher == source.name}
        if source.name == "dailyplanet":
            expected.add(special["non_article"])
        assert found == expected


def test_listings_are_newest_first(running: RunningSite, truth) -> None:
    by_url = {t.url: t for t in truth}
    page = get_text(running.publishers[1].base_url + "/section/uk/")
    cards = re.findall(r'<h2 class="card-title"><a href="([^"]+)"', page)
    dates = [by_url[running.publishers[1].base_url + c].published_at for c in cards]
    assert len(cards) == 20 and dates == sorted(dates, reverse=True)


# --- pages ------------------------------------------------------------------------------------


def test_article_urls_match_their_publisher_pattern_only(running: RunningSite, truth) -> None:
    sources = {s.name: s for s in load_sources_from(running)}
    for t in truth:
        for name, source in sources.items():
            matches = bool(re.search(source.listings[0].article_pattern, t.url))
            assert matches == (name == t.publisher), (name, t.url)
    for source in sources.values():
        pattern = source.listings[0].article_pattern
        for listing in source.listings:
            assert not re.search(pattern, listing.url)
            assert not re.search(pattern, listing.url + "page/2/")
        assert not re.search(pattern, source.homepage)


def test_truth_matches_what_the_pages_show(running: RunningSite, truth, pages) -> None:
    assert len(truth) == 300
    assert len({t.url for t in truth}) == 300
    for t in truth:
        page = pages[t.url]
        assert 20_000 <= len(page.encode()) <= 500_000, (t.url, len(page))
        assert "<h1" in page and html.escape(t.title, quote=False) in page
        title_tag = re.search(r"<title>(.*?)</title>", page).group(1)
        assert html.unescape(title_tag) != t.title and t.title in html.unescape(title_tag)
        paragraphs = t.body.split("\n")
        assert (2 if t.is_paywalled else 4) <= len(paragraphs) <= 12
        for paragraph in paragraphs:
            assert f"<p>{html.escape(paragraph, quote=False)}</p>" in page
        assert t.published_at.tzinfo is not None and t.published_at <= ANCHOR
        if t.modified_at:
            assert t.published_at < t.modified_at <= ANCHOR
        assert t.language == ("fr" if t.publisher == "lecourrier" else "en")
        assert t.authors and t.section and t.tags and t.description


def test_metadata_styles_differ_by_publisher(running: RunningSite, truth, pages) -> None:
    by_pub: dict[str, ArticleTruth] = {}
    for t in truth:
        if not t.copy_of and not t.is_paywalled and t.modified_at:
            by_pub.setdefault(t.publisher, t)
    a, b, c = by_pub["dailyplanet"], by_pub["metroherald"], by_pub["lecourrier"]

    page = pages[a.url]
    ld = json.loads(re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>',
                              page, re.S).group(1))
    types = {node["@type"] for node in ld["@graph"]}
    assert {"NewsArticle", "WebSite", "Organization", "BreadcrumbList"} <= types
    article = next(n for n in ld["@graph"] if n["@type"] == "NewsArticle")
    assert article["headline"] == a.title
    assert datetime.fromisoformat(article["datePublished"]) == a.published_at
    assert datetime.fromisoformat(article["dateModified"]) == a.modified_at
    assert [p["name"] for p in article["author"]] == list(a.authors)
    assert "Exit mobile version" in page and "article:published_time" not in page
    assert a.published_at.isoformat().endswith(("-04:00", "-05:00"))

    page = pages[b.url]
    assert "application/ld+json" not in page
    meta = dict(re.findall(r'<meta property="(article:\w+_time)" content="([^"]+)"', page))
    assert datetime.fromisoformat(meta["article:published_time"]) == b.published_at
    assert datetime.fromisoformat(meta["article:modified_time"]) == b.modified_at
    assert re.findall(r'<meta property="article:author" content="([^"]+)"', page) == list(
        b.authors)
    assert html.unescape(re.search(r'property="og:title" content="([^"]+)"', page).group(1)) == (
        b.title)

    page = pages[c.url]
    assert 'lang="fr"' in page
    assert "application/ld+json" not in page and 'property="og:' not in page
    assert "article:" not in page
    assert "Par " + c.authors[0] in re.sub(r"<[^>]+>", "", page)
    local = c.published_at
    assert re.search(rf"Publié le {local.day}(er)? \w+ {local.year} à {local:%H}h{local:%M}",
                     page)


def test_paywalled_teaser(running: RunningSite, truth, pages) -> None:
    url = running.special_urls()["paywalled"]
    (t,) = [t for t in truth if t.is_paywalled]
    assert t.url == url and t.publisher == "dailyplanet"
    page = pages[url]
    assert '"isAccessibleForFree": false' in page
    assert "Subscribe to continue reading" in page
    assert len(t.body.split("\n")) == 2


def test_syndicated_copies_point_to_their_original(running: RunningSite, truth, pages) -> None:
    special = running.special_urls()
    by_url = {t.url: t for t in truth}
    copies = [t for t in truth if t.copy_of]
    assert len(copies) >= 3
    for copy in copies:
        original = by_url[copy.copy_of]
        assert copy.publisher == "metroherald" and original.publisher == "dailyplanet"
        assert copy.canonical_url == original.url
        assert copy.body == original.body
        assert copy.title.lower() == original.title.lower() and copy.title != original.title
        assert copy.published_at > original.published_at
        page = pages[copy.url]
        assert f'<link rel="canonical" href="{original.url}">' in page
        assert "This article originally appeared on" in page
    assert by_url[special["syndicated_copy"]].copy_of == special["syndicated_original"]


def test_traps_404_redirect_and_non_article(running: RunningSite, truth) -> None:
    special = running.special_urls()
    truth_urls = {t.url for t in truth}
    assert special["not_found"] in running.listed_in("dailyplanet", "feed")
    assert fetch(special["not_found"])[0] == 404

    assert special["redirect"] in running.listed_in("metroherald", "feed")
    status, headers, _ = fetch(special["redirect"])
    assert status == 301 and headers["Location"] == special["redirect_target"]
    assert special["redirect_target"] in truth_urls
    assert special["redirect"] not in truth_urls

    status, _, body = fetch(special["non_article"])
    assert status == 200 and special["non_article"] not in truth_urls
    page = body.decode()
    assert re.search(r"/\d{4}/\d{2}/\d{2}/[a-z0-9-]+-\d+/$", special["non_article"])
    main = re.search(r'<main class="liveblog">(.*?)</main>', page, re.S).group(1)
    assert len(re.sub(r"<[^>]+>", " ", main).split()) < 40

    base = running.publishers[0].base_url
    assert fetch(base + "/no/such/page")[0] == 404
    assert fetch(base + "/category/world/page/99/")[0] == 404


def test_bodies_are_not_near_duplicates(truth) -> None:
    originals = [t for t in truth if not t.copy_of][:120]

    def shingles(body: str) -> set[tuple[str, ...]]:
        words = body.lower().split()
        return {tuple(words[i:i + 5]) for i in range(len(words) - 4)}

    sets = [shingles(t.body) for t in originals]
    worst = max(
        len(a & b) / len(a | b) for i, a in enumerate(sets) for b in sets[i + 1:]
    )
    assert worst < 0.2


# --- HTTP behaviour ---------------------------------------------------------------------------


def test_gzip_keepalive_and_conditional_requests(running: RunningSite, truth) -> None:
    url = truth[0].url
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", parts.path, headers={"Accept-Encoding": "gzip"})
        resp = conn.getresponse()
        zipped = resp.read()
        assert resp.status == 200 and resp.getheader("Content-Encoding") == "gzip"
        assert int(resp.getheader("Content-Length")) == len(zipped)
        etag = resp.getheader("ETag")
        conn.request("GET", parts.path)  # same connection: keep-alive
        resp = conn.getresponse()
        plain = resp.read()
        assert gzip.decompress(zipped) == plain and resp.getheader("Content-Encoding") is None
        conn.request("GET", parts.path, headers={"If-None-Match": etag})
        resp = conn.getresponse()
        assert resp.status == 304 and resp.read() == b""
    finally:
        conn.close()
    feed = running.publishers[0].base_url + "/feed/"
    _, headers, _ = fetch(feed)
    status, _, _ = fetch(feed, {"If-Modified-Since": headers["Last-Modified"]})
    assert status == 304


# --- scale and the CLI ------------------------------------------------------------------------


def test_large_site_serves_its_newest_article_and_a_late_sitemap_page() -> None:
    site = DemoSite(seed=3, n_articles=30_000)
    bases = {p.name: f"http://{p.name}.test" for p in site.publishers}
    newest = site.article_truth("dailyplanet", site.article_count("dailyplanet") - 1, bases)
    assert newest.published_at <= site.anchor
    response = site.respond("metroherald", "/sitemaps/articles-3.xml", bases)
    assert response.status == 200 and response.body.count(b"<url>") == 1000


def test_cli_serves_and_writes_sources(tmp_path) -> None:
    from pipeline.cli import demo_site as command

    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers(dest="command"))
    out = tmp_path / "demo-sources.yaml"
    args = parser.parse_args(["demo-site", "serve", "--articles", "90", "--sources-out", str(out)])
    stop = threading.Event()
    thread = threading.Thread(target=args.handler, args=(args, stop), daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    sources = load_sources(out)
    assert get_text(sources[2].feeds[0]).startswith("<?xml")
    stop.set()
    thread.join(5)
    assert not thread.is_alive()


@pytest.mark.parametrize("command", [["demo"], ["demo-site", "serve"]])
@pytest.mark.parametrize("value", ["29", "x"])
def test_too_few_demo_articles_is_a_one_line_usage_error(command, value, capsys) -> None:
    from pipeline.cli.main import main

    with pytest.raises(SystemExit) as exit_:
        main([*command, "--articles", value])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "--articles" in err and "Traceback" not in err
    assert ("at least 30" if value == "29" else "not a whole number") in err

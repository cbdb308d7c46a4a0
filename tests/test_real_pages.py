"""Real pages: the replay site serves saved pages as their publishers, and `newsdesk run` over it
stores each page once, as batch extraction would, and fetches no article again on a second run.

The end-to-end tests read the development corpus (../shared/corpus, found as
bench/extraction_quality.py finds it) and skip without it; the replay site's own tests build a
small corpus of their own.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import psycopg
import pytest

from bench.corpus_scoring import DEFAULT_CORPUS, Score, add_article
from bench.real_pages import StoredPage, crawl, differences, score_stored, stored_pages, truth_of
from pipeline.demo_site.replay import RunningReplay, serve_replay_site
from pipeline.demo_site.replay_pages import SavedPage, read_corpus
from pipeline.sources.config import load_sources
from tests.cli import newsdesk

#: Pages of each set the end-to-end test crawls: every page of the publishers first in the order
#: of their host's hash, until each set has this many (a fixed, varied sample of about 130).
PAGES_PER_SET = 60

#: Fields where the crawl path differs from batch extraction because a feed's or sitemap's
#: date, title or authors changed the field (field -> pages). Anything else must be equal.
EXPECTED_HINT_CHANGES: dict[str, int] = {}


# --- the replay site, on a corpus of its own ----------------------------------------------------

ARTICLE = """<!DOCTYPE html><html lang="de"><head><meta charset="{charset}">
<title>Ein Titel</title>
<link rel="canonical" href="https://www.example-news.de/politik/artikel-1?seite=2">
<meta property="og:url" content="//example-news.de/politik/artikel-1?seite=2">
<script type="application/ld+json">{{"@context": "https://schema.org", "@graph": [
 {{"@type": "NewsArticle", "datePublished": "2024-06-03T01:01:00+02:00",
   "url": "https:\\/\\/www.example-news.de\\/politik\\/artikel-1"}}]}}</script>
</head><body><a href="https://www.example-news.de/">Start</a>
<a href="https://www.example-news.de.evil.com/x">not the site</a>
<a href="https://other.example.org/politik/artikel-1">another site</a>
<p>Grüße aus Köln.</p></body></html>"""


def _save(folder: Path, set_name: str, page_id: str, url: str | None, html: bytes) -> None:
    (folder / set_name).mkdir(parents=True, exist_ok=True)
    (folder / set_name / f"{page_id}.html.gz").write_bytes(gzip.compress(html))
    (folder / set_name / f"{page_id}.json").write_text(json.dumps({"url": url, "title": "x"}))


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    _save(folder, "news", "1", "https://www.example-news.de/politik/artikel-1?seite=2",
          ARTICLE.format(charset="iso-8859-1").encode("iso-8859-1"))
    _save(folder, "news", "2", "https://example-news.de/meldung.html",
          b"<html><head><title>Undated</title></head><body><p>No date.</p></body></html>")
    _save(folder, "blogs", "1", "https://other.example.org/politik/artikel-1?seite=2",
          b"<html><head><meta name='date' content='2021-02-03'><title>Other</title></head>"
          b"<body><p>Same path, another site.</p></body></html>")
    _save(folder, "blogs", "2", None, b"<html><body>no URL recorded</body></html>")
    _save(folder, "blogs", "3", "https://other.example.org/politik/artikel-1?utm_source=x&seite=2",
          b"<html><body>Saved again.</body></html>")
    return folder


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def test_replay_tells_apart_queries_that_select_pages(tmp_path):
    """Only tracking parameters are ignored: `cid`, `uid` (which courlan's pattern drops) and
    Latin-1 escapes select different saved pages, as on the publisher's server."""
    folder = tmp_path / "corpus"
    targets = ["/article.php?cid=1", "/article.php?cid=2", "/s?q=K%F6ln", "/s?q=K%FCln"]
    for n, target in enumerate(targets):
        _save(folder, "news", str(n), "https://legacy.example.at" + target,
              f"<html><body><p>page {n}</p></body></html>".encode())
    with serve_replay_site(read_corpus(folder).pages) as running:
        assert running.site.unserved == {}
        [base] = running.bases.values()
        for n, target in enumerate(targets):
            assert f"page {n}".encode() in _get(base + target)[2]


def test_replay_serves_each_site_on_its_own_origin_at_the_original_path(small_corpus):
    corpus = read_corpus(small_corpus)
    assert corpus.skipped == {"blogs/2": "no http(s) URL ('')"}
    with serve_replay_site(corpus.pages) as running:
        by_host = {pub.host: pub.name for pub in running.site.publishers}
        assert set(by_host) == {"example-news.de", "other.example.org"}  # www. and bare: one site
        # One URL, one capture: the first saved is served (a tracking parameter is the same URL).
        assert running.site.unserved == {"blogs/3": "saved again under the URL of blogs/1"}
        news, other = running.bases[by_host["example-news.de"]], running.bases[
            by_host["other.example.org"]]
        status, headers, body = _get(news + "/politik/artikel-1?seite=2")
        assert status == 200
        # Not UTF-8: the markup's charset, by w3lib's codec name (iso-8859-1 is read as cp1252).
        assert headers["Content-Type"] == "text/html; charset=cp1252"
        assert "Grüße".encode("iso-8859-1") in body  # the bytes as saved
        # Own-site links point at the replay origin, path and query kept; other sites' do not.
        netloc = news.removeprefix("http://").encode()
        assert b'href="http://' + netloc + b'/politik/artikel-1?seite=2"' in body
        assert b'content="//' + netloc + b'/politik/artikel-1?seite=2"' in body
        assert b'"http:\\/\\/' + netloc + b'\\/politik\\/artikel-1"' in body
        assert b'href="http://' + netloc + b'/"' in body
        assert b"https://www.example-news.de.evil.com/x" in body
        assert b"https://other.example.org/politik/artikel-1" in body
        assert b"Same path" in _get(other + "/politik/artikel-1?seite=2")[2]
        # Like the publisher's server, the replay ignores tracking parameters, and nothing else.
        assert _get(news + "/politik/artikel-1?utm_source=rss&seite=2")[2] == body
        for wrong in ("/politik/artikel-2", "/politik/artikel-1", "/politik/artikel-1?seite=3"):
            with pytest.raises(urllib.error.HTTPError) as missing:
                _get(news + wrong)
            assert missing.value.code == 404
        assert [(h.method, h.path, h.status) for h in running.requests()][:1] == [
            ("GET", "/politik/artikel-1?seite=2", 200)]


def test_replay_feed_and_sitemap_carry_the_pages_declared_dates(small_corpus):
    with serve_replay_site(read_corpus(small_corpus).pages) as running:
        news = running.bases[next(p.name for p in running.site.publishers
                                  if p.host == "example-news.de")]
        robots = _get(news + "/robots.txt")[2].decode()
        sitemap_url = re.search(r"^Sitemap: (\S+)$", robots, re.M).group(1)
        ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
        urlset = ElementTree.fromstring(_get(sitemap_url)[2])
        lastmod = {u.findtext("s:loc", namespaces=ns): u.findtext("s:lastmod", namespaces=ns)
                   for u in urlset.findall("s:url", ns)}
        assert lastmod == {news + "/politik/artikel-1?seite=2": "2024-06-03T01:01:00+02:00",
                           news + "/meldung.html": None}  # undated: no date
        feed_url = load_sources_yaml(running)[0]["feeds"][0]
        items = ElementTree.fromstring(_get(feed_url)[2]).findall("channel/item")
        assert [(i.findtext("link"), i.findtext("pubDate")) for i in items] == [
            (news + "/politik/artikel-1?seite=2", "Mon, 03 Jun 2024 01:01:00 +0200"),
            (news + "/meldung.html", None)]
        other = running.bases[next(p.name for p in running.site.publishers
                                   if p.host == "other.example.org")]
        day_only = ElementTree.fromstring(_get(other + "/replay-sitemap.xml")[2])
        assert day_only.findtext("s:url/s:lastmod", namespaces=ns) == "2021-02-03"


def load_sources_yaml(running) -> list[dict]:
    import yaml

    entries = yaml.safe_load(running.sources_yaml())["sources"]
    return sorted(entries, key=lambda e: e["name"])


@pytest.mark.parametrize("make, why", [
    (lambda folder: None, "{} is not a folder"),
    (lambda folder: (folder / "set").mkdir(parents=True),
     "no saved pages (<set>/<id>.html.gz) in {}"),
])
def test_a_missing_or_empty_corpus_folder_is_one_line_naming_it(tmp_path, make, why):
    make(tmp_path / "corpus")
    result = newsdesk("demo", "--corpus", str(tmp_path / "corpus"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "newsdesk demo: error: replay corpus: " + why.format(tmp_path / "corpus")]


# --- real pages through the crawl path ----------------------------------------------------------


def chosen_pages() -> list[SavedPage]:
    """Every page of the publishers first in the order of their host's hash, until each set has
    PAGES_PER_SET pages: deterministic, and not one corner of the corpus."""
    by_site: dict[str, list[SavedPage]] = {}
    for page in read_corpus(DEFAULT_CORPUS).pages:
        by_site.setdefault(page.host.removeprefix("www."), []).append(page)
    chosen: list[SavedPage] = []
    counts: Counter[str] = Counter()
    for site in sorted(by_site, key=lambda s: hashlib.sha256(s.encode()).hexdigest()):
        pages = by_site[site]
        if any(counts[p.set_name] < PAGES_PER_SET for p in pages):
            chosen += pages
            counts.update(p.set_name for p in pages)
    return chosen


@dataclass
class Crawled:
    running: RunningReplay
    stored: dict[str, StoredPage]
    missing: list[SavedPage]
    db: str
    folder: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def crawled(module_db, tmp_path_factory):
    if not DEFAULT_CORPUS.is_dir():
        pytest.skip(f"no development corpus at {DEFAULT_CORPUS} (../shared/corpus)")
    folder = tmp_path_factory.mktemp("real-pages")
    env = {"NEWSDESK_DATABASE_URL": module_db, "NEWSDESK_HOME": str(folder / "home")}
    with serve_replay_site(chosen_pages()) as running:
        run = crawl(running, folder, env)
        assert run.returncode == 0, run.stderr[-2000:]
        sources = load_sources(folder / "replay-sources.yaml")
        with psycopg.connect(module_db) as conn:
            stored, missing = stored_pages(conn, running, sources)
        yield Crawled(running, stored, missing, module_db, folder, env)


@pytest.mark.slow
def test_every_real_page_is_stored_once(crawled):
    running, stored = crawled.running, crawled.stored
    assert [p.key for p in crawled.missing] == []
    assert [k for k, s in stored.items() if len(s.rows) != 1] == []  # one raw page, one article
    with psycopg.connect(crawled.db) as conn:
        raw_pages, articles = conn.execute(
            "SELECT (SELECT count(*) FROM raw_pages), (SELECT count(*) FROM articles)").fetchone()
    pages = sum(1 for _ in running.site.pages())
    assert raw_pages == pages
    # Pages that declare one canonical URL are one article (none in this sample).
    assert {k: s.merged_with for k, s in stored.items() if s.merged_with} == {}
    with_article = [s for s in stored.values() if s.row["article_id"] is not None]
    assert articles == len(with_article)
    # A page stored without an article is one batch extraction finds none in either.
    assert [s.page.key for s in stored.values()
            if s.row["article_id"] is None and s.extract(with_hints=False) is not None] == []


@pytest.mark.slow
def test_crawl_path_scores_as_batch_extraction(crawled):
    stored = crawled.stored
    changed: Counter[tuple[str, str]] = Counter()
    crawl_score, batch_score = Score(), Score()
    for got in stored.values():
        changed.update(differences(got))
        truth = truth_of(got.page, DEFAULT_CORPUS)
        score_stored(crawl_score, truth, got.row)
        add_article(batch_score, truth, got.extract(with_hints=False))
    unexplained = {f: n for (f, why), n in changed.items() if why == "unexplained"}
    hinted = {f: n for (f, why), n in changed.items() if why == "hint"}
    assert unexplained == {}
    assert hinted == EXPECTED_HINT_CHANGES
    # Field by field against the corpus's answers: the same scores, but for the named changes.
    assert crawl_score.pages == batch_score.pages == len(stored)
    assert (crawl_score.p, crawl_score.r) == (batch_score.p, batch_score.r)
    for field, total in (("title", "title"), ("authors", "auth"), ("published_at", "date")):
        if field not in hinted:
            assert getattr(crawl_score, total) == getattr(batch_score, total)


@pytest.mark.slow
def test_second_run_fetches_no_article_page(crawled):
    running, db = crawled.running, crawled.db
    with psycopg.connect(db) as conn:
        before = conn.execute("SELECT count(*), (SELECT count(*) FROM articles) FROM raw_pages"
                              ).fetchone()

    def pages_fetched() -> list[str]:
        """Requests the site answered with a saved page (whatever URL form asked for it)."""
        return [h.path for h in running.requests()
                if running.page_at(running.bases[h.publisher] + h.path)[1] is not None]

    assert len(pages_fetched()) == len(crawled.stored)  # the first run's, each page once
    running.clear_requests()
    run = crawl(running, crawled.folder, crawled.env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert running.requests()  # the feeds and sitemaps were asked again
    assert pages_fetched() == []
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*), (SELECT count(*) FROM articles) FROM raw_pages"
                            ).fetchone() == before

"""Hostile and broken discovery documents on the real stack.

One crawl (module fixture) of a source whose feeds, sitemaps and listing include invalid XML,
HTML served as a feed, empty files, billion-laughs and XXE documents, a sitemap index pointing to
itself, a page with 20,000 links and a feed of unusable links, next to the site's real feed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
import yaml
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pipeline.demo_site import DemoSite, serve_demo_site
from pipeline.demo_site.faults import Fault
from tests.test_crawl import reports
from tests.test_faults_http import PUB, crawl, rss

pytestmark = pytest.mark.slow  # crawls the demo site

LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 2 else "") + ";") * 10}">'
        for n in range(2, 10)
    )
    + "]>"
)
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
MAX_LINKS = 50


@pytest.fixture(scope="module")
def crawled(
    pg_server_url: str, template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict]:
    name = f"newsdesk_docs_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template_db)
            )
        )
    db = make_conninfo(pg_server_url, dbname=name)
    try:
        with serve_demo_site(DemoSite(seed=7, n_articles=60)) as site:
            base = site.bases[PUB]
            canary = f"{base}/xxe-canary"
            good_article = next(t.url for t in site.truth() if t.publisher == PUB)
            docs = {
                # feeds
                "/bad/invalid.xml": b'<?xml version="1.0"?><rss version="2.0"><channel><item>',
                "/bad/html-as-feed.xml": b"<!DOCTYPE html><html><body><a href='/x/'>x</a>",
                "/bad/empty.xml": b"",
                "/bad/laughs.xml": (
                    LAUGHS + f'<rss version="2.0"><channel><title>&lol9;</title><item>'
                    f"<title>&lol9;</title><link>{base}/laughs-link/</link></item></channel></rss>"
                ).encode(),
                "/bad/xxe.xml": (
                    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY file SYSTEM "file:///etc/passwd">'
                    f'<!ENTITY net SYSTEM "{canary}">]><rss version="2.0"><channel><title>x</title>'
                    f"<item><title>&file;&net;</title><link>{good_article}</link></item>"
                    "</channel></rss>"
                ).encode(),
                "/bad/unusable-links.xml": rss(
                    base,
                    [
                        "javascript:alert(1)",
                        "mailto:desk@example.com",
                        "http://[::1",
                        "http://exa mple.com/",
                        "http://bücher.example/artikel/",
                        f"{base}/%zz%/",
                        "http://" + "a" * 300 + ".example/",
                        f"{base}/" + "x" * 10_000,
                    ],
                ),
                # sitemaps
                "/bad/self-index.xml": (
                    f'<sitemapindex xmlns="{SITEMAP_NS}"><sitemap><loc>{base}/bad/self-index.xml'
                    f"</loc></sitemap><sitemap><loc>{base}/bad/index-b.xml</loc></sitemap>"
                    "</sitemapindex>"
                ).encode(),
                "/bad/index-b.xml": (
                    f'<sitemapindex xmlns="{SITEMAP_NS}"><sitemap><loc>{base}/bad/self-index.xml'
                    "</loc></sitemap></sitemapindex>"
                ).encode(),
                "/bad/laughs-sitemap.xml": (
                    LAUGHS + f'<urlset xmlns="{SITEMAP_NS}"><url><loc>{base}/laughs/&lol9;</loc>'
                    "</url></urlset>"
                ).encode(),
                "/bad/xxe-sitemap.xml": (
                    f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY net SYSTEM "{canary}">]>'
                    f'<urlset xmlns="{SITEMAP_NS}"><url><loc>{base}/xxe/&net;</loc></url></urlset>'
                ).encode(),
                "/bad/empty-sitemap.xml": b"",
                # a listing page with 20,000 article links
                "/bad/many-links/": (
                    "<html><body>"
                    + "".join(f'<a href="/many/{n}/">story {n}</a>' for n in range(20_000))
                    + "</body></html>"
                ).encode(),
            }
            for path, body in docs.items():
                ctype = "text/html" if path.endswith("/") else "application/xml"
                site.faults.set(PUB, path, Fault("content", content_type=ctype, body=body))
            document = yaml.safe_load(site.sources_yaml())
            document["sources"] = [s for s in document["sources"] if s["name"] == PUB]
            feeds = [
                p for p in docs if p.endswith(".xml") and "sitemap" not in p and "index" not in p
            ]
            document["sources"][0].update(
                feeds=[f"{base}/feed/", *(base + p for p in feeds)],
                sitemaps=[base + p for p in docs if "sitemap" in p or "index" in p],
                listings=[{"url": f"{base}/bad/many-links/", "article_pattern": r"/many/\d+/$"}],
            )
            sources = tmp_path_factory.mktemp("docs") / "sources.yaml"
            sources.write_text(yaml.safe_dump(document))
            result = crawl(
                f"--source={PUB}", "--sources", str(sources), "--no-delay", "--run-key", "docs",
                "-s", f"NEWSDESK_MAX_LINKS_PER_DOCUMENT={MAX_LINKS}", db=db,
            )  # fmt: skip
            with psycopg.connect(db) as conn:
                rows = conn.execute(
                    "SELECT url, discovery::text FROM raw_pages"
                ).fetchall()
            yield {
                "result": result,
                "stored": {r[0]: r[1] for r in rows},
                "hits": site.requests(PUB),
                "feed_listed": site.listed_in(PUB, "feed") - {site.special_urls()["not_found"]},
                "good_article": good_article,
                "base": base,
            }
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def test_broken_documents_leave_the_real_feed_crawled(crawled: dict) -> None:
    report = reports(crawled["result"])[PUB]
    assert report["status"] in ("success", "partial"), crawled["result"].stderr
    assert crawled["feed_listed"] <= set(crawled["stored"])


@pytest.mark.parametrize(
    "document", ["invalid.xml", "html-as-feed.xml", "empty.xml", "empty-sitemap.xml"]
)
def test_an_unreadable_document_adds_nothing(crawled: dict, document: str) -> None:
    assert not [u for u, d in crawled["stored"].items() if f"/bad/{document}" in d]


def test_billion_laughs_is_never_expanded(crawled: dict) -> None:
    for url, discovery in crawled["stored"].items():
        assert "lollollol" not in url and "lollollol" not in discovery
    assert not [h for h in crawled["hits"] if "/laughs/" in h.path]


def test_xxe_is_never_read_or_fetched(crawled: dict) -> None:
    assert not [h for h in crawled["hits"] if "xxe-canary" in h.path]
    for discovery in crawled["stored"].values():
        assert "root:" not in discovery
    # The feed's good link is still followed.
    assert crawled["good_article"] in crawled["stored"]


def test_sitemap_index_pointing_to_itself_is_fetched_once(crawled: dict) -> None:
    for path in ("/bad/self-index.xml", "/bad/index-b.xml"):
        assert len([h for h in crawled["hits"] if h.path == path]) == 1, path


def test_a_page_with_20000_links_is_followed_only_up_to_the_bound(crawled: dict) -> None:
    many = [h for h in crawled["hits"] if h.path.startswith("/many/")]
    assert 0 < len(many) <= MAX_LINKS


def test_unusable_links_are_skipped_without_breaking_the_crawl(crawled: dict) -> None:
    paths = {h.path for h in crawled["hits"]}
    assert not [p for p in paths if "javascript" in p or "mailto" in p]
    for url in crawled["stored"]:
        assert url.startswith(crawled["base"] + "/")
    assert not [u for u in crawled["stored"] if "%zz" in u or "xxxxxxxxxx" in u]


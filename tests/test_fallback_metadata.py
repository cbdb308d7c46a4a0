"""trafilatura's metadata, read field by field only when our steps fall back to it."""

from __future__ import annotations

import htmldate
import pytest
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

from pipeline.extraction import fallback_metadata
from pipeline.extraction.dates import TRAFILATURA_DATE_PARAMS
from pipeline.extraction.extract import extract_article
from pipeline.extraction.fallback_metadata import TrafilaturaMetadata
from tests.test_extract import FETCHED, ld, page

URL = "https://news.example.com/2026/03/19/council-budget"

PAGES = {
    "meta tags": page(head='<meta property="og:title" content="Council approves budget">'
                           '<meta name="author" content="Jane Doe">'
                           '<meta name="description" content="The vote &amp; the debate">'
                           '<meta property="og:image" content="https://cdn.example.com/a.jpg">'
                           '<meta property="article:published_time" content="2026-03-19">'),
    "json-ld": page(head=ld({"@type": "NewsArticle", "headline": "Budget passes",
                             "author": {"@type": "Person", "name": "Ana Lima"},
                             "datePublished": "2026-03-18T09:00:00Z"})),
    "markup only": page(body_top='<p class="byline">By <a rel="author" href="/a/sam">Sam Park'
                                 '</a></p><p class="date">March 17, 2026</p>'),
    "a handle for author": page(head='<meta name="author" content="newsdesk">'),
}


@pytest.mark.parametrize("name", PAGES)
def test_each_field_is_what_trafilatura_extract_metadata_gives(name: str) -> None:
    tree = load_html(PAGES[name])
    params = {**TRAFILATURA_DATE_PARAMS, "max_date": "2026-03-20"}
    whole = extract_metadata(load_html(PAGES[name]), URL, dict(params))
    lazy = TrafilaturaMetadata(tree, URL, params)
    assert (lazy.title, lazy.author, lazy.date, lazy.description, lazy.image) == (
        whole.title, whole.author, whole.date, whole.description, whole.image)


def test_a_page_whose_metadata_settles_every_field_never_runs_htmldate(monkeypatch) -> None:
    calls: list[str] = []

    def counted(*args, **kwargs):
        calls.append(kwargs.get("url", ""))
        return htmldate.find_date(*args, **kwargs)

    monkeypatch.setattr(fallback_metadata, "find_date", counted)
    declared = page(head=ld({"@type": "NewsArticle", "headline": "Budget passes",
                             "author": {"@type": "Person", "name": "Ana Lima"},
                             "datePublished": "2026-03-18T09:00:00Z"}))
    article = extract_article(declared, URL, fetched_at=FETCHED)
    assert (article.title, article.authors) == ("Budget passes", ["Ana Lima"])
    assert article.date_source == "json-ld" and calls == []

    # A page that shows and declares no date: trafilatura's guess (the URL's day) is asked for.
    article = extract_article(page(), URL, fetched_at=FETCHED)
    assert calls == [URL]
    assert (article.published_at.date().isoformat(), article.date_source) == (
        "2026-03-19", "trafilatura")

"""Author reconciliation on small handmade pages: graph references, the site as its own author,
login handles, glued bylines, microdata scopes, surname-first Dublin Core."""

from __future__ import annotations

import pytest

from pipeline import normalise as nz
from pipeline.extract import extract_article
from tests.test_extract import FETCHED, ld, page


def test_yoast_graph_author_reference_is_resolved() -> None:
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "Article", "@id": "https://ex.com/a#article", "headline": "Budget",
         "author": {"@id": "https://ex.com/#/schema/person/1"}},
        {"@type": "Person", "@id": "https://ex.com/#/schema/person/1", "name": "Nirmita Panchal"},
    ]}
    head = ld(graph) + '<meta name="author" content="kffnirmitap">'
    assert extract_article(page(head), "https://ex.com/a", fetched_at=FETCHED).authors == [
        "Nirmita Panchal"]


def test_site_named_author_kept_when_nobody_else_is_named() -> None:
    head = ld({"@type": "NewsArticle", "headline": "x", "author": {"@type": "Organization",
                                                                   "name": "Der Spiegel"}})
    head += '<meta property="og:site_name" content="DER SPIEGEL">'
    art = extract_article(page(head), "https://www.spiegel.de/a", fetched_at=FETCHED)
    assert art.authors == ["Der Spiegel"]


def test_site_name_dropped_beside_a_person() -> None:
    head = '<meta property="og:site_name" content="Example News">'
    head += '<meta name="author" content="Example News">'
    top = '<p class="byline">By Jane Doe</p>'
    art = extract_article(page(head, body_top=top), "https://example.com/a", fetched_at=FETCHED)
    assert art.authors == ["Jane Doe"]


def test_personal_site_named_after_its_author() -> None:
    head = ld({"@type": "BlogPosting", "headline": "x", "author": {"name": "Gary Marcus"}})
    art = extract_article(page(head), "https://garymarcus.substack.com/p/x", fetched_at=FETCHED)
    assert art.authors == ["Gary Marcus"]


def test_byline_with_glued_date_and_credit_lines() -> None:
    top = ('<div class="credit">Foto: APA/Keystone</div>'
           '<div class="author-info"><a>Gary Marcus</a><span>Dec 14, 2025</span></div>')
    art = extract_article(page(body_top=top), "https://example.org/a", fetched_at=FETCHED)
    assert art.authors == ["Gary Marcus"]


def test_microdata_authors_of_teasers_are_not_the_articles() -> None:
    top = ('<div itemscope itemtype="https://schema.org/NewsArticle">'
           '<span itemprop="author">Madeleine Howell</span></div>')
    related = "".join(f'<div itemscope><span itemprop="author">Writer {n}</span></div>'
                      for n in ("One", "Two"))
    art = extract_article(page(body_top=top).replace("</main>", related + "</main>"),
                          "https://example.org/a", fetched_at=FETCHED)
    assert art.authors == ["Madeleine Howell"]


def test_dublin_core_surname_first() -> None:
    head = '<meta name="dc.creator" content="Brazil, Rachel">'
    art = extract_article(page(head), "https://example.org/a", fetched_at=FETCHED)
    assert art.authors == ["Rachel Brazil"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["Gary MarcusDec 14, 2025"], ["Gary Marcus"]),
        (["By Madeleine Howell 30 August 2023 • 4:45pm"], ["Madeleine Howell"]),
        (["Written By:Cazzy MagennisLast Updated:August 1"], ["Cazzy Magennis"]),
        (["byClemson News"], ["Clemson News"]),
        (["Foto: Bild: SN/APA"], []),
        (["copywriting4u says:"], []),
        (["Name *"], []),
        (["(Image: Getty Images/iStockphoto)"], []),
        (["배윤경 기자 bykj@mk.co.kr"], ["배윤경"]),
        (["Byron Smith"], ["Byron Smith"]),
        (["Dylan Bailey, MS, RD, FAND"], ["Dylan Bailey"]),
        (["Genevieve Carlton, Ph.D."], ["Genevieve Carlton"]),
        (["Jane Doe, AFP"], ["Jane Doe", "AFP"]),  # a news agency is an author
    ],
)
def test_clean_authors_bylines(raw: list[str], expected: list[str]) -> None:
    assert nz.clean_authors(raw) == expected


def test_handles_and_surname_first_helpers() -> None:
    assert nz.is_handle("andrew.keaveney") and nz.is_handle("kffnirmitap")
    assert not nz.is_handle("Jane Doe") and not nz.is_handle("배윤경")
    assert nz.surname_first("Brazil, Rachel") == "Rachel Brazil"
    assert nz.surname_first("Jane Doe, John Smith") == "Jane Doe, John Smith"

"""Author reconciliation on small handmade pages: graph references, the site as its own author,
login handles, glued bylines, microdata scopes, surname-first Dublin Core, Yoast's Twitter label,
"By" lines, author archive links, and the cleaning rules of `text.bylines.clean_authors`."""

from __future__ import annotations

import pytest

from pipeline.extraction.extract import extract_article
from pipeline.text.bylines import clean_authors, is_handle, surname_first
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
    assert clean_authors(raw) == expected


def test_handles_and_surname_first_helpers() -> None:
    assert is_handle("andrew.keaveney") and is_handle("kffnirmitap")
    assert not is_handle("Jane Doe") and not is_handle("배윤경")
    assert surname_first("Brazil, Rachel") == "Rachel Brazil"
    assert surname_first("Jane Doe, John Smith") == "Jane Doe, John Smith"


def _authors(head: str = "", top: str = "", url: str = "https://example.org/a",
             before_h1: str = "") -> list[str]:
    html = page(head, body_top=top)
    if before_h1:
        html = html.replace("<h1>", before_h1 + "<h1>", 1)
    return extract_article(html, url, fetched_at=FETCHED).authors


def test_yoast_written_by_twitter_label() -> None:
    head = ('<meta name="twitter:label1" content="Written by">'
            '<meta name="twitter:data1" content="Chase Bernath">'
            '<meta name="twitter:label2" content="Est. reading time">'
            '<meta name="twitter:data2" content="4 minutes">')
    assert _authors(head) == ["Chase Bernath"]


def test_by_line_under_the_headline_without_a_class() -> None:
    top = '<p><span>By</span> <a href="/u/1">Sofia Gonzalez</a> · 4 min read</p>'
    assert _authors(top=top) == ["Sofia Gonzalez"]
    dated = '<div>Apr 17, 2025 By Jerry Chu</div>'
    assert _authors(top=dated) == ["Jerry Chu"]


def test_by_line_ignores_prose_and_menus_above_the_headline() -> None:
    prose = "<p>By comparison, the old plan cost more.</p>"
    menu = '<nav><a href="/a">By Industry</a> <a href="/b">By Role</a></nav>'
    assert _authors(top=prose, before_h1=menu) == []


def test_author_archive_link_whose_text_is_its_slug() -> None:
    links = ('<a href="/blog/authors/">All authors</a>'
             '<a href="/blog/authors/emmanuel-oyibo">Emmanuel Oyibo</a>')
    assert _authors(top=f"<div>{links}</div>") == ["Emmanuel Oyibo"]
    assert _authors(top='<a href="/author/jane-doe">More articles</a>') == []


def test_byline_element_skips_comment_authors_and_bare_labels() -> None:
    top = ('<div class="author-label">Written by</div><div class="author-name">Nicole Burke'
           '</div>')
    assert _authors(top=top) == ["Nicole Burke"]
    comments = '<div class="comment-author">Jiobal</div>'
    assert _authors(top=comments.join(["", '<p>by Amanda · Dec 20, 2025</p>'])) == ["Amanda"]


def test_byline_parts_that_hold_the_name_leave_labels_and_job_titles_out() -> None:
    top = ('<div class="author-line"><span class="author-label">Written By:</span> '
           '<span class="author-name"><a href="/author/celeste-longacre">Celeste Longacre</a>'
           '</span> <span class="author-title">Gardener &amp; Astrologer</span></div>')
    assert _authors(top=top) == ["Celeste Longacre"]
    # A "Written by" line without a class: each author link is one name, not one glued string.
    top = ('<p><span>Written by: <ul><li><a href="/authors/emily-walker/">Emily Walker</a></li>'
           '<li><a href="/authors/casey-mcdevitt/">Casey McDevitt</a></li></ul></span></p>')
    assert _authors(top=top) == ["Emily Walker", "Casey McDevitt"]


def _with_box(box: str, head: str = "") -> list[str]:
    """Authors of a page whose only byline is `box`, after the story."""
    html = page(head).replace("</article>", f"{box}</article>")
    return extract_article(html, "https://example.org/a", fetched_at=FETCHED).authors


def test_an_author_box_after_the_story_names_the_author() -> None:
    assert _with_box("<h3>Written by Cassidy Horton</h3><p>Cassidy Horton is a finance "
                     "writer.</p>") == ["Cassidy Horton"]
    assert _with_box('<div><h3>Author</h3><p> Lisa D. Ellis</p></div>') == ["Lisa D. Ellis"]
    assert _with_box('<h2>Article by</h2><div>Matias Heikkilä</div>') == ["Matias Heikkilä"]


def test_written_by_in_prose_or_below_a_declared_author_names_nobody_new() -> None:
    assert _with_box("<p>Written by hand, the notes were later typed up.</p>"
                     "<p>The report, written by the auditors, was published.</p>") == []
    assert _with_box("<p>Written by John Smith</p>",
                     head='<meta name="author" content="Jane Doe">') == ["Jane Doe"]


def test_byline_element_before_trafilaturas_guess() -> None:
    # trafilatura drops the period of "Dr."; the byline as written keeps it
    top = '<div class="post-byline">By Dr. Vahid Osman - Mar 27, 2024</div>'
    assert _authors(top=top) == ["Dr. Vahid Osman"]


def test_a_guess_never_replaces_a_declared_site_name() -> None:
    head = ('<meta property="og:site_name" content="Example News">'
            '<meta name="author" content="Example News">')
    assert _authors(head, top="<p>By Jane Doe</p>", url="https://example.com/a") == [
        "Example News"]
    # a byline element is declared by the page: it names the person
    assert _authors(head, top='<p class="byline">By Jane Doe</p>',
                    url="https://example.com/a") == ["Jane Doe"]


def test_trafilaturas_copy_of_a_handle_is_not_a_name() -> None:
    # trafilatura turns the handle into "Andrew Keaveney"; it is still the handle
    assert _authors('<meta name="author" content="andrew.keaveney">') == ["andrew.keaveney"]


def test_generic_byline_kept_only_when_nobody_is_named() -> None:
    assert _authors('<meta name="author" content="Staff">') == ["Staff"]
    assert _authors('<meta name="author" content="Staff">',
                    top='<p class="byline">By Jane Doe</p>') == ["Jane Doe"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # dates before the name, ordinals, numeric dates, weekdays, reading times, comments
        (["Dec 17, 2025 Julian K. Arni"], ["Julian K. Arni"]),
        (["Sat, 20 Dec, 2025 - 06:36"], []),
        (["ServiceTitan November 26th, 2024 10 Min Read"], ["ServiceTitan"]),
        (["Yucy 3/4/2025 0 0 Shares"], ["Yucy"]),
        (["by BeauHD on Friday December 19, 2025 @08:00PM"], ["BeauHD"]),
        (["By Workzone Team • 4 mins read"], ["Workzone Team"]),
        (["By Erin Spain 4 Comments"], ["Erin Spain"]),
        (["Updated March 13, 2024"], []),
        (["August 28, 2025 • 5 min read"], []),
        (["Help Net Security Sponsored"], ["Help Net Security"]),
        (["von David Straub Stand: 28. April 2023, 05:00 Uhr"], ["David Straub"]),
        (["Dec. 19, 2025 · Niko Matsakis on behalf of Vision Doc group"], ["Niko Matsakis"]),
        (["By TPN, in News , Portugal , Business · 31 Jan 2025"], ["TPN"]),
        # other people's credits
        (["By Benjamin Preston Updated by Jon Linkov Updated April 10, 2025"],
         ["Benjamin Preston"]),
        (["By Shelby Loos, DVM . Reviewed by Molly Price, DVM"], ["Shelby Loos"]),
        (["Reviewed by Justin C. Meserole, Trial Attorney"], []),
        # labels before the name
        (["View all posts by Ray Ansari"], ["Ray Ansari"]),
        (["Read more about The Upwork Team"], ["The Upwork Team"]),
        (["Recipe by PJ Hamel"], ["PJ Hamel"]),
        (["Guide by Will Judd Former Deputy Tech Editor"], ["Will Judd"]),
        (["capital von Jemima Kelly"], ["Jemima Kelly"]),
        (["Alexander von Humboldt"], ["Alexander von Humboldt"]),
        (["Updated November 11, 2022 8:23 PM ET Originally published By April Fulton"],
         ["April Fulton"]),
        (["Authors: Julie Weisenhorn and Natalie Hoidal, Extension horticulture educators"],
         ["Julie Weisenhorn", "Natalie Hoidal"]),
        (["Posted by:"], []),
        # job titles after the name, with or without a separator
        (["Keith Barry Senior Autos Reporter"], ["Keith Barry"]),
        (["Meghan Neville Content Marketing Coordinator"], ["Meghan Neville"]),
        (["Mateusz Haberny Founder at Oakywood"], ["Mateusz Haberny"]),
        (["Matt De La O Writer"], ["Matt De La O"]),
        (["By Brett Cruz , Privacy and Digital Security Expert"], ["Brett Cruz"]),
        (["By Mayank Gupta, CEO of CaseBasix"], ["Mayank Gupta"]),
        (["Preetam Jinka Co-founder and Chief Architect"], ["Preetam Jinka"]),
        (["Eliz - Product marketer"], ["Eliz"]),
        # ...but a byline that is only a title is how the page signs
        (["Luxury Travel Expert"], ["Luxury Travel Expert"]),
        (["Guardian staff reporter"], ["Guardian staff reporter"]),
        # a person's desk beside them; names that look like dates or labels
        (["David Jackson - FullStack Editorial Team"], ["David Jackson"]),
        (["Maria & Katerina"], ["Maria", "Katerina"]),
        (["Audiophile On"], ["Audiophile On"]),
        (["Insights from"], []),
        (["Sign In"], []),
    ],
)
def test_clean_authors_rules(raw: list[str], expected: list[str]) -> None:
    assert clean_authors(raw) == expected


def test_clean_authors_site_name_after_a_person() -> None:
    assert clean_authors(["Brian Truitt USA TODAY"], ["usatoday.com"]) == ["Brian Truitt"]
    assert clean_authors(["Yasmine Hassan · CBC News · Posted: Aug 08, 2024 4:00 AM EDT"],
                            ["cbc.ca"]) == ["Yasmine Hassan"]


def test_clean_authors_keep_generic() -> None:
    assert clean_authors(["Staff"]) == []
    assert clean_authors(["Staff"], keep_generic=True) == ["Staff"]
    assert clean_authors(["News Desk"], keep_generic=True) == ["News Desk"]

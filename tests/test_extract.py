"""extract_article on small handmade pages: field reconciliation, titles, dates, rejections."""

from __future__ import annotations

import gzip
import json
import pickle
from datetime import UTC, datetime

import pytest

from pipeline.extraction.extract import EXTRACTOR_VERSION, NotAnArticle, extract_article
from pipeline.extraction.titles import strip_site_name
from pipeline.sources.config import Source

FETCHED = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)

PARAGRAPHS = [
    "The city council approved the new transport budget on Tuesday after a long debate that "
    "lasted well into the evening, with several members raising concerns about the cost.",
    "Supporters said the plan would cut journey times across the region and bring new bus "
    "routes to neighbourhoods that have been poorly served for more than a decade.",
    "Opponents argued that the figures presented to the council were optimistic and that the "
    "project could run over budget, as similar schemes had done in other cities nearby.",
    "The mayor said the first works would begin in the spring and promised regular public "
    "reports on the progress of the scheme and on how the money was being spent.",
]
FRENCH = [
    "Le conseil municipal a adopté mardi soir le nouveau budget des transports après un long "
    "débat qui s'est prolongé tard dans la soirée, plusieurs élus contestant son coût.",
    "Les partisans du projet estiment qu'il réduira les temps de trajet dans toute la région et "
    "apportera de nouvelles lignes de bus aux quartiers mal desservis depuis des années.",
    "Les opposants jugent les chiffres présentés au conseil trop optimistes et craignent que le "
    "chantier ne dépasse le budget prévu, comme ailleurs dans les villes voisines.",
    "Le maire a indiqué que les premiers travaux commenceraient au printemps et a promis des "
    "comptes rendus réguliers sur l'avancement du projet et sur les dépenses engagées.",
]


def page(head: str = "", body_top: str = "", paragraphs: list[str] = PARAGRAPHS,
         lang: str = "en", h1: str | None = "Council approves transport budget") -> str:
    text = "".join(f"<p>{p}</p>" for p in paragraphs)
    heading = f"<h1>{h1}</h1>" if h1 else ""
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">{head}</head><body>'
        '<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>'
        f"<main><article>{heading}{body_top}{text}</article></main>"
        "<footer><p>© 2026 Example News. All rights reserved.</p></footer></body></html>"
    )


def ld(obj: dict) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


def test_jsonld_graph_wins_field_by_field() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Example News", "url": "https://example.com/"},
            {"@type": "NewsArticle", "headline": "Council approves transport budget",
             "datePublished": "2026-03-17T09:15:00+01:00",
             "dateModified": "2026-03-17T11:00:00+01:00",
             "author": [{"@type": "Person", "name": "Jane Doe"},
                        {"@type": "Person", "name": "John Smith"}],
             "articleSection": "Politics", "keywords": ["transport", "budget"],
             "image": {"@type": "ImageObject", "url": "https://cdn.example.com/bus.jpg"},
             "inLanguage": "en-GB", "description": "The budget passed after a long debate.",
             "publisher": {"@type": "Organization", "name": "Example News"}},
        ],
    }
    head = (ld(graph) + '<meta property="article:published_time" content="2020-01-01T00:00:00Z">'
            '<title>Council approves transport budget | Example News</title>'
            '<link rel="canonical" href="https://example.com/politics/council-budget?utm_source=x">')
    art = extract_article(page(head), "https://example.com/p/123?utm_medium=rss",
                          fetched_at=FETCHED)
    assert art.title == "Council approves transport budget"
    assert art.published_at == datetime(2026, 3, 17, 8, 15, tzinfo=UTC)
    assert art.modified_at == datetime(2026, 3, 17, 10, 0, tzinfo=UTC)
    assert art.date_source == "json-ld"
    assert art.authors == ["Jane Doe", "John Smith"]
    assert art.section == "Politics"
    assert art.tags == ["transport", "budget"]
    assert art.image_url == "https://cdn.example.com/bus.jpg"
    assert art.description == "The budget passed after a long debate."
    assert art.language == "en"
    assert art.canonical_url == "https://example.com/politics/council-budget"
    assert art.url == "https://example.com/p/123?utm_medium=rss"
    assert art.body.splitlines() == PARAGRAPHS
    assert art.word_count == sum(len(p.split()) for p in PARAGRAPHS)
    assert len(art.content_hash) == 64
    assert art.fetched_at == FETCHED
    assert art.extractor_version == EXTRACTOR_VERSION
    assert not art.is_paywalled
    data = art.to_json()
    assert data["published_at"] == "2026-03-17T09:15:00+01:00"  # as the publisher wrote it
    assert data["published_precision"] == "minute"
    assert json.loads(json.dumps(data)) == data
    assert pickle.loads(pickle.dumps(art)) == art  # crosses process boundaries in the stage


def test_opengraph_only_page() -> None:
    head = (
        '<meta property="og:title" content="Council approves transport budget">'
        '<meta property="og:site_name" content="Example News">'
        '<meta property="og:url" content="https://www.example.com/news/budget">'
        '<meta property="og:image" content="/img/bus.jpg">'
        '<meta property="og:description" content="A long debate.">'
        '<meta property="article:published_time" content="2026-03-17T09:15:00Z">'
        '<meta property="article:section" content="Local">'
        '<meta property="article:tag" content="transport">'
        '<meta property="article:tag" content="Budget">'
        '<meta name="author" content="By Jane Doe, Staff Writer">'
        "<title>Council approves transport budget - Example News</title>"
    )
    art = extract_article(page(head), "https://www.example.com/news/budget", fetched_at=FETCHED)
    assert art.title == "Council approves transport budget"
    assert art.published_at == datetime(2026, 3, 17, 9, 15, tzinfo=UTC)
    assert art.date_source == "opengraph"
    assert art.authors == ["Jane Doe"]
    assert art.section == "Local"
    assert art.tags == ["transport", "Budget"]
    assert art.image_url == "https://www.example.com/img/bus.jpg"
    assert art.canonical_url == "https://www.example.com/news/budget"
    assert art.description == "A long debate."


def test_canonical_on_another_domain_is_ignored() -> None:
    head = '<link rel="canonical" href="https://aggregator.example.org/copy/1">'
    art = extract_article(page(head), "https://Example.com/news/budget#top", fetched_at=FETCHED)
    assert art.canonical_url == "https://example.com/news/budget"


def test_french_byline_only_page_in_source_timezone() -> None:
    source = Source(name="lemonde_test", homepage="https://www.exemple.fr/", language="fr",
                    timezone="Europe/Paris")
    byline = ('<p class="byline">Par Jean Dupont</p>'
              '<div class="date">Publié le 12 mars 2026 à 14h30</div>')
    art = extract_article(page(body_top=byline, paragraphs=FRENCH, lang="fr",
                               h1="Le conseil adopte le budget des transports"),
                          "https://www.exemple.fr/article/budget", source=source,
                          fetched_at=FETCHED)
    assert art.published_at == datetime(2026, 3, 12, 13, 30, tzinfo=UTC)  # 14h30 Paris time
    assert art.date_source == "headline"
    assert art.language == "fr"
    assert art.source == "lemonde_test"
    assert art.title == "Le conseil adopte le budget des transports"


def test_date_in_article_text_is_not_the_publication_date() -> None:
    paragraphs = [f"On 3 January 2019 the council first discussed the idea. {PARAGRAPHS[0]}",
                  *PARAGRAPHS[1:]]
    hints = {"published": "2026-03-18T06:00:00Z", "via": "sitemap"}
    art = extract_article(page(paragraphs=paragraphs), "https://example.com/news/budget",
                          fetched_at=FETCHED, hints=hints)
    assert art.published_at == datetime(2026, 3, 18, 6, 0, tzinfo=UTC)
    assert art.date_source == "sitemap"


def test_future_date_rejected_falls_back() -> None:
    head = ('<meta property="article:published_time" content="2031-01-01T00:00:00Z">'
            '<meta name="dc.date" content="2026-03-16">')
    art = extract_article(page(head), "https://example.com/news/budget", fetched_at=FETCHED)
    assert art.published_at == datetime(2026, 3, 16, tzinfo=UTC)
    assert art.date_source == "meta"


def test_implausibly_old_date_rejected() -> None:
    head = '<meta property="article:published_time" content="1970-01-01T00:00:00Z">'
    art = extract_article(page(head), "https://example.com/news/budget", fetched_at=FETCHED)
    assert art.published_at is None or art.published_at.year >= 1990


def test_naive_metadata_date_uses_source_timezone() -> None:
    source = Source(name="ny", homepage="https://example.com/", timezone="America/New_York")
    head = '<meta property="article:published_time" content="2026-03-17T09:15:00">'
    art = extract_article(page(head), "https://example.com/a", source=source, fetched_at=FETCHED)
    assert art.published_at == datetime(2026, 3, 17, 13, 15, tzinfo=UTC)  # EDT, UTC-4


@pytest.mark.parametrize(
    ("title", "site_names", "expected"),
    [
        ("Council approves budget | Example News", ["Example News"], "Council approves budget"),
        ("Example News - Council approves budget", ["Example News"], "Council approves budget"),
        ("Council approves budget \u2013 example.com", ["example.com"], "Council approves budget"),
        ("Spider-Man - the musical - opens in May", ["Example News"],
         "Spider-Man - the musical - opens in May"),
        ("Mayor resigns - what happens next? | Example News", ["Example News"],
         "Mayor resigns - what happens next?"),
        ("Council approves budget", ["Example News"], "Council approves budget"),
        ("Bank - rates rise again", [], "Bank - rates rise again"),
    ],
)
def test_strip_site_name(title: str, site_names: list[str], expected: str) -> None:
    assert strip_site_name(title, site_names) == expected


def test_title_tag_only_with_dash_in_headline() -> None:
    head = "<title>Storm hits coast - thousands without power - Example Daily</title>"
    art = extract_article(page(head, h1=None), "https://exampledaily.com/storm",
                          fetched_at=FETCHED)
    assert art.title == "Storm hits coast - thousands without power"


def test_title_tag_not_cut_without_known_site_name() -> None:
    head = "<title>Storm hits coast - thousands without power</title>"
    art = extract_article(page(head, h1=None), "https://example.org/storm", fetched_at=FETCHED)
    assert art.title == "Storm hits coast - thousands without power"


@pytest.mark.parametrize(
    "marker",
    [
        ld({"@type": "NewsArticle", "headline": "x", "isAccessibleForFree": False}),
        ld({"@type": "NewsArticle", "headline": "x", "isAccessibleForFree": "False"}),
        '<meta property="article:content_tier" content="locked">',
    ],
)
def test_paywall_flag(marker: str) -> None:
    art = extract_article(page(marker), "https://example.com/a", fetched_at=FETCHED)
    assert art.is_paywalled


def test_paywall_box_in_page() -> None:
    box = '<div class="article-paywall">Subscribe to continue reading this story.</div>'
    art = extract_article(page(body_top=box), "https://example.com/a", fetched_at=FETCHED)
    assert art.is_paywalled


@pytest.mark.parametrize(
    ("html", "why"),
    [
        ("<html><head><script>var a = 1;</script></head><body><script>app()</script></body>"
         "</html>", "no article text"),
        (page(paragraphs=["Short teaser only."]), "too short"),
        ("<html><body><ul>" + "".join(
            f'<li><a href="/n/{i}">Headline number {i} about the city council budget vote</a></li>'
            for i in range(40)) + "</ul></body></html>", "index page"),
        ("", "empty"),
        ("<html><body><ul>" + "<li><a href=\"/x\">A link</a></li>" * 3 + "</ul></body></html>",
         "no article text|too short|index page"),
    ],
)
def test_not_an_article(html: str, why: str) -> None:
    with pytest.raises(NotAnArticle, match=why):
        extract_article(html, "https://example.com/section/", fetched_at=FETCHED)


def test_bytes_input_with_declared_charset_and_gzip() -> None:
    html = page(paragraphs=FRENCH, lang="fr", h1="Les élus adoptent le budget")
    latin = html.replace('<meta charset="utf-8">', '<meta charset="iso-8859-1">')
    art = extract_article(latin.encode("iso-8859-1"), "https://exemple.fr/a", fetched_at=FETCHED)
    assert art.title == "Les élus adoptent le budget"
    assert "débat" in art.body
    zipped = extract_article(gzip.compress(html.encode()), "https://exemple.fr/a",
                             fetched_at=FETCHED)
    assert zipped.body == art.body


def test_text_the_publisher_double_encoded_is_repaired() -> None:
    # The bytes are UTF-8 as declared, but of text that was already UTF-8 read as cp1252:
    # "élus" arrives as "Ã©lus". Title and body come out as the publisher meant them.
    html = page(paragraphs=FRENCH, lang="fr", h1="Les élus adoptent le budget")
    garbled = html.encode("utf-8").decode("cp1252", errors="replace")
    art = extract_article(garbled.encode("utf-8"), "https://exemple.fr/a", fetched_at=FETCHED)
    assert art.title == "Les élus adoptent le budget"
    assert art.body == extract_article(html, "https://exemple.fr/a", fetched_at=FETCHED).body
    assert "débat" in art.body


def test_language_falls_back_to_source_and_detects_mismatch() -> None:
    source = Source(name="fr_site", homepage="https://exemple.fr/", language="fr")
    html = page(paragraphs=FRENCH, h1="Le budget adopté").replace(' lang="en"', "")
    assert extract_article(html, "https://exemple.fr/a", source=source).language == "fr"
    mislabelled = page(paragraphs=FRENCH, lang="en", h1="Le budget adopté")
    assert extract_article(mislabelled, "https://exemple.fr/a").language == "fr"


def test_section_and_image_from_the_page_when_nothing_declares_them() -> None:
    """No article:section and no og:image: the breadcrumb's deepest link gives the section and
    the first figure after the headline the image; a home link or a logo before it does not."""
    crumbs = ('<div class="fil-ariane"><a href="/">Accueil</a> &gt; '
              '<a href="/monde/">Monde</a></div>')
    figure = '<figure><img src="/img/lead.jpg" alt=""><figcaption>© Exemple</figcaption></figure>'
    html = page(body_top=figure, paragraphs=FRENCH, lang="fr", h1="Le conseil adopte le budget")
    html = html.replace("<main>", f'<header><img src="/logo.png"></header>{crumbs}<main>')
    art = extract_article(html, "https://www.exemple.fr/monde/budget", fetched_at=FETCHED)
    assert art.section == "Monde"
    assert art.image_url == "https://www.exemple.fr/img/lead.jpg"

    declared = page(head='<meta property="article:section" content="Politique">'
                         '<meta property="og:image" content="https://cdn.exemple.fr/og.jpg">',
                    body_top=figure, paragraphs=FRENCH, lang="fr")
    art = extract_article(declared.replace("<main>", crumbs + "<main>"),
                          "https://www.exemple.fr/monde/budget", fetched_at=FETCHED)
    assert (art.section, art.image_url) == ("Politique", "https://cdn.exemple.fr/og.jpg")

    bare = extract_article(page(), "https://www.example.com/news/budget", fetched_at=FETCHED)
    assert (bare.section, bare.image_url) == (None, None)

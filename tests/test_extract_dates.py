"""The seed-like article (no date in its markup, dates only in its story text, "Exit mobile
version" on every page of its site), relative bylines, and AMP identity."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from htmldate import extractors as htmldate_extractors
from lxml import etree

from pipeline.extraction import boilerplate
from pipeline.extraction import dates as extraction_dates
from pipeline.extraction.dates import STEPS
from pipeline.extraction.extract import extract_article
from pipeline.sources.config import Source
from pipeline.text import dates as text_dates
from pipeline.text.dates import url_date
from tests.test_extract import FETCHED, PARAGRAPHS, ld, page

SEED_TEXT = [
    "On Monday, the regional assembly met in the capital to debate the new water tariffs that "
    "have angered farmers across the north of the country for most of the past year.",
    *PARAGRAPHS[1:3],
    "The minister promised a decision on November 10, after consulting the unions, farmers' "
    "groups and the two provincial governments that share the cost of the reservoirs.",
    "Exit mobile version",
]
SOURCE = Source(name="seedlike", homepage="https://seedlike.example/", timezone="Africa/Lagos")


def seed_page() -> str:
    # The footer line sits inside the article container, as on WordPress AMP-plugin sites.
    return page(paragraphs=SEED_TEXT, h1="Assembly debates water tariffs")


def test_seed_like_article_dates_in_text_are_not_its_date() -> None:
    art = extract_article(seed_page(), "https://seedlike.example/2026/03/water-tariffs/",
                          source=SOURCE, fetched_at=FETCHED)
    assert art.published_at is None and art.date_source is None


def test_seed_like_article_takes_the_feed_date() -> None:
    hints = {"published": "Wed, 18 Mar 2026 07:30:00 +0100", "via": "feed"}
    art = extract_article(seed_page(), "https://seedlike.example/2026/03/water-tariffs/",
                          source=SOURCE, fetched_at=FETCHED, hints=hints)
    assert art.published_at == datetime(2026, 3, 18, 6, 30, tzinfo=UTC)
    assert art.date_source == "feed"


def test_seed_like_footer_line_gone_once_learned() -> None:
    learned = frozenset({boilerplate.line_key("Exit mobile version")})
    art = extract_article(seed_page(), "https://seedlike.example/2026/03/water-tariffs/",
                          source=SOURCE, fetched_at=FETCHED, boilerplate=learned)
    assert "Exit mobile version" not in art.body
    assert art.extras["boilerplate_removed"] == 1
    assert art.body.splitlines()[0].startswith("On Monday, the regional assembly")


def test_relative_byline_resolved_against_fetch_time_in_source_zone() -> None:
    top = '<div class="post-meta"><span class="posted-on">3 hours ago</span></div>'
    art = extract_article(page(body_top=top), "https://seedlike.example/a", source=SOURCE,
                          fetched_at=FETCHED)
    assert art.published_at == datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    assert art.date_source == "byline"
    french = Source(name="fr", homepage="https://exemple.fr/", timezone="Europe/Paris",
                    language="fr")
    top = '<p class="date">Publié hier à 18h05</p>'
    art = extract_article(page(body_top=top), "https://exemple.fr/a", source=french,
                          fetched_at=FETCHED)
    assert art.published_at == datetime(2026, 3, 19, 17, 5, tzinfo=UTC)


def test_relative_byline_without_fetch_time_gives_no_date() -> None:
    top = '<div class="post-meta"><span class="posted-on">3 hours ago</span></div>'
    art = extract_article(page(body_top=top), "https://seedlike.example/a", source=SOURCE)
    assert art.published_at is None


def test_amp_page_maps_to_its_canonical_page() -> None:
    with_link = page('<link rel="canonical" href="https://ex.com/news/story-1">')
    art = extract_article(with_link, "https://ex.com/news/story-1/amp/", fetched_at=FETCHED)
    assert art.canonical_url == "https://ex.com/news/story-1"
    bare = extract_article(page(), "https://ex.com/news/story-1/amp/?utm_source=x",
                           fetched_at=FETCHED)
    assert bare.canonical_url == "https://ex.com/news/story-1/"


# --- the date the page shows under its headline -----------------------------------------------

def local_day(html: str, url: str = "https://blog.example/guide/", **kwargs) -> tuple:
    """The published day in the page's own offset, and the step that gave it."""
    art = extract_article(html, url, fetched_at=FETCHED, **kwargs)
    local = art.published_at
    return (local.date().isoformat() if local else None), art.date_source


def blog_ld(published: str, modified: str, kind: str = "BlogPosting") -> str:
    return ld({"@context": "https://schema.org", "@type": kind, "headline": "Budget guide",
               "datePublished": published, "dateModified": modified})


def test_date_written_above_the_headline() -> None:
    html = page(h1=None, body_top='<h5 class="kicker">January 23, 2026</h5>'
                                  "<h1>Council approves transport budget</h1>")
    assert local_day(html) == ("2026-01-23", "headline")


def test_shown_date_wins_over_trafilaturas_guess() -> None:
    # A US page: the numeric date reads month first, whatever a generic guesser says.
    top = '<p class="meta">By Jane Doe · 3/4/2026 · 5 min read</p>'
    head = '<meta property="article:modified_time" content="2026-03-15T10:00:00Z">'
    assert local_day(page(head, body_top=top)) == ("2026-03-04", "headline")


def test_template_showing_its_last_edit_as_the_date() -> None:
    # Off news pages, a byline date equal to the declared modification day is what the
    # page presents as its date; the stale datePublished is an old database row.
    top = '<div class="post-date">February 21, 2026</div>'
    html = page(blog_ld("2019-08-11T10:00:00Z", "2026-02-21T18:51:10Z"), body_top=top)
    assert local_day(html) == ("2026-02-21", "headline")
    news = page(blog_ld("2019-08-11T10:00:00Z", "2026-02-21T18:51:10Z", "NewsArticle"),
                body_top=top)
    assert local_day(news) == ("2019-08-11", "json-ld")


def test_labelled_update_is_not_the_publication_date() -> None:
    for top in ('<p class="byline">By Jane Doe Updated: Feb 21, 2026</p>',
                '<p>By Jane Doe</p><span>Last updated</span> <span>Feb 21, 2026</span>',
                '<p>By Jane Doe <time class="updated">Feb 21, 2026</time></p>',
                '<p class="meta">Akt.: 21. Februar 2026 - 21.18 Uhr</p>'):
        html = page(blog_ld("2019-08-11T10:00:00Z", "2026-02-21T18:51:10Z"), body_top=top)
        assert local_day(html) == ("2019-08-11", "json-ld"), top


def test_published_and_updated_in_one_byline() -> None:
    top = '<p class="entry-meta">March 2, 2026 Updated on: March 12, 2026</p>'
    assert local_day(page(body_top=top)) == ("2026-03-02", "headline")


def test_updated_only_byline_is_the_last_resort() -> None:
    top = '<p class="entry-meta">Updated Feb 11, 2026</p>'
    assert local_day(page(body_top=top)) == ("2026-02-11", "byline")


def test_update_shown_under_the_headline_is_the_date_of_last_resort() -> None:
    # No byline element and no declared date: only the labelled update, under its own label,
    # and only after the feed's date.
    top = '<p>By Jane Doe</p><span>Last updated</span> <span>Feb 21, 2026</span>'
    assert local_day(page(body_top=top)) == ("2026-02-21", "headline-updated")
    hints = {"published": "2026-01-03T08:00:00Z", "via": "feed"}
    assert local_day(page(body_top=top), hints=hints) == ("2026-01-03", "feed")


def test_every_date_step_has_its_own_label() -> None:
    labels = [step.label for step in STEPS]
    assert len(set(labels)) == len(labels), labels


def test_url_date_settles_a_utc_timestamp_past_midnight() -> None:
    head = '<meta property="article:published_time" content="2025-12-19T03:05:00+00:00">'
    top = '<p class="meta"><time>December 18, 2025</time></p>'
    assert local_day(page(head, body_top=top), "https://blog.example/2025/12/18/post/") \
        == ("2025-12-18", "headline")
    # Without the URL's word, a day apart is the same instant seen from two zones.
    assert local_day(page(head, body_top=top)) == ("2025-12-19", "opengraph")


def test_day_month_order_settled_by_the_url() -> None:
    top = '<span class="post-time">03/10/2023</span>'
    assert local_day(page(body_top=top), "https://wine.example/blog/2023/october/03/types") \
        == ("2023-10-03", "headline")


def test_publication_copied_from_modification_is_doubtful() -> None:
    # One timestamp in both fields (a re-save, a migration): the shown day is the real one.
    top = '<p class="meta">Insights from Liza Burke May 14, 2025</p>'
    html = page(blog_ld("2025-11-20T16:02:46Z", "2025-11-20T16:02:46Z"), body_top=top)
    assert local_day(html) == ("2025-05-14", "headline")


def test_shown_date_backed_by_another_declared_date() -> None:
    head = (blog_ld("2024-08-29T10:00:00Z", "2025-12-15T12:15:15-08:00", "Article")
            + '<meta name="pubdate" content="November 25, 2025">')
    top = '<span class="posted-on">Nov 25, 2025 5:00 am PST</span>'
    assert local_day(page(head, body_top=top)) == ("2025-11-25", "headline")


def test_declared_modification_is_not_taken_as_publication() -> None:
    head = '<meta property="og:updated_time" content="2026-03-15T10:00:00+00:00">'
    hints = {"published": "2026-01-03T08:00:00Z", "via": "sitemap"}
    assert local_day(page(head), hints=hints) == ("2026-01-03", "sitemap")


def test_caption_and_print_edition_dates_are_not_the_publication() -> None:
    head = '<meta property="article:published_time" content="2024-04-25T19:30:04+02:00">'
    top = ('<figure><img src="a.jpg"><div class="caption">Soldiers in Kundus, 6.12.2010</div>'
           '</figure><p class="issue">Ausgabe vom 26.04.2024</p>')
    assert local_day(page(head, body_top=top, lang="en")) == ("2024-04-25", "opengraph")


def test_date_in_the_first_paragraph_is_story_text() -> None:
    paragraphs = ["The end of the tax season for most people is April 15, 2026, and the office "
                  "expects a rush of late returns in the final week, as every year.",
                  *PARAGRAPHS]
    html = page(paragraphs=paragraphs)
    assert local_day(html)[0] != "2026-04-15"


@pytest.mark.parametrize(("url", "expected"), [
    ("https://ex.com/2023/05/17/title/", date(2023, 5, 17)),
    ("https://ex.com/blog/2023/october/03/title", date(2023, 10, 3)),
    ("https://ex.com/world/20241203-OYT1T50218/", date(2024, 12, 3)),
    ("https://ex.com/2023/05/title/", None),  # no day: not a date
    ("https://ex.com/2023/13/40/title/", None),
    ("https://ex.com/article/582896/best.html", None),
])
def test_url_date(url: str, expected: date | None) -> None:
    assert url_date(url) == expected


def test_declared_modification_is_read_in_the_pages_languages(monkeypatch) -> None:
    # Read in every locale, a modification date no locale can read ("Last Updated Nov 6, 2025")
    # walked all 200 of them, building each one's patterns: a quarter of a second a page.
    asked = []
    real = text_dates._date_parser

    def parser(languages):
        asked.append(languages)
        return real(languages)

    monkeypatch.setattr(text_dates, "_date_parser", parser)
    head = '<meta property="article:modified_time" content="Last Updated Nov 6, 2025">'
    extract_article(page(head), "https://example.com/news/budget", fetched_at=FETCHED)
    assert asked and () not in asked  # never every locale on a page that declares English


NORWEGIAN = ["Bystyret vedtok i kveld et nytt budsjett for kollektivtrafikken i byen. "
             "Flere busser skal gå oftere om morgenen, og prisene holdes uendret neste år. "
             "Opposisjonen mener likevel at satsingen kommer altfor sent."]


def test_a_page_declaring_norwegian_as_no_has_its_dates_read_in_bokmal() -> None:
    # dateparser has no "no" (the macrolanguage), and refused it only when parsing: every
    # written date of such a page was read in English alone.
    head = '<meta property="article:modified_time" content="torsdag 9. mai 2024 kl. 13:26">'
    art = extract_article(page(head, paragraphs=NORWEGIAN, lang="no"),
                          "https://example.no/nyheter/budsjett", fetched_at=FETCHED)
    assert art.language == "no"
    assert art.modified_at is not None and art.modified_at.date() == date(2024, 5, 9)
    assert text_dates.parse_shown("Publisert 9. mai 2024", None, ["no"]).date() == date(2024, 5, 9)


def test_languages_dateparser_does_not_know_fall_back_to_english() -> None:
    assert text_dates.dateparser_languages(["no"]) == ("nb",)
    assert text_dates.dateparser_languages(["iw", "en"]) == ("he", "en")
    assert text_dates.dateparser_languages(["la"]) == ("en",)  # not every locale: the slow path
    assert text_dates.dateparser_languages(None) == ()
    assert text_dates.parse_date("5 November 2024", None, ["la"]).date() == date(2024, 11, 5)


def test_htmldates_last_resort_reads_the_pages_language(monkeypatch) -> None:
    # htmldate logged "Unknown language(s): 'no'" and read nothing at all on such pages.
    def find_date(tree, **kwargs):
        return htmldate_extractors.get_external_parser().get_date_data(
            "9. mai 2024").date_obj.date().isoformat()

    monkeypatch.setattr(extraction_dates.htmldate, "find_date", find_date)
    assert extraction_dates._htmldate(etree.fromstring("<html/>"), FETCHED, ["no"]) == \
        ["2024-05-09"]

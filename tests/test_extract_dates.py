"""The seed-like article (no date in its markup, dates only in its story text, "Exit mobile
version" on every page of its site), relative bylines, and AMP identity."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline import boilerplate
from pipeline.config import Source
from pipeline.extract import extract_article
from tests.test_extract import FETCHED, PARAGRAPHS, page

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

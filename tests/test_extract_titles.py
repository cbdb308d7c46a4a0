"""Title choice and cleaning on small handmade pages: one test per rule of `extraction.titles`."""

from __future__ import annotations

import pytest

from pipeline.extraction.extract import extract_article
from pipeline.extraction.metadata import harvest
from pipeline.extraction.titles import strip_learned, strip_site_name
from tests.test_extract import FETCHED, ld, page

URL = "https://example.com/news/budget"


def title_of(head: str, h1: str | None = "Council approves transport budget", url: str = URL,
             **kwargs) -> str | None:
    return extract_article(page(head, h1=h1), url, fetched_at=FETCHED, **kwargs).title


def news(headline: str) -> str:
    return ld({"@type": "NewsArticle", "headline": headline})


def test_og_title_wins_when_the_headline_only_copies_the_title_tag() -> None:
    head = (news("Council votes on budget after long debate")
            + '<meta property="og:title" content="Council approves transport budget">'
            "<title>Council votes on budget after long debate | Example News</title>"
            '<meta property="og:site_name" content="Example News">')
    assert title_of(head) == "Council approves transport budget"


def test_headline_wins_when_og_title_copies_the_title_tag() -> None:
    head = (news("Council approves transport budget")
            + '<meta property="og:title" content="Council votes on budget after long debate">'
            "<title>Council votes on budget after long debate | Example News</title>"
            '<meta property="og:site_name" content="Example News">')
    assert title_of(head) == "Council approves transport budget"


def test_visible_h1_wins_on_a_page_that_is_not_a_news_article() -> None:
    head = ('<meta property="og:title" content="Transport budget approved: what it means">'
            "<title>Transport budget approved: what it means</title>")
    assert title_of(head) == "Council approves transport budget"


def test_h1_sharing_no_words_with_the_metadata_is_a_banner() -> None:
    head = ('<meta property="og:title" content="Council approves transport budget">'
            "<title>Council approves transport budget</title>")
    assert title_of(head, h1="Welcome to our community blog") == \
        "Council approves transport budget"


def test_second_h1_is_the_headline_when_the_first_is_a_banner() -> None:
    head = '<meta property="og:title" content="Council approves the new transport budget">'
    h1 = "Weekly Civic Digest</h1><h1>Council approves transport budget"
    assert title_of(head, h1=h1) == "Council approves transport budget"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("Council approves transport budget | Opinion", "Council approves transport budget"),
        ("Council approves transport budget | Politics News | Example Tribune",
         "Council approves transport budget"),
        # A long tail after the bar is part of the headline.
        ("Council approves budget | The plan that will change how the whole region travels",
         "Council approves budget | The plan that will change how the whole region travels"),
        # Too short a head: the bar splits the headline itself.
        ("Budget | Council says yes", "Budget | Council says yes"),
    ],
)
def test_short_segment_after_a_bar_is_furniture(tag: str, expected: str) -> None:
    assert title_of(f"<title>{tag}</title>", h1=None) == expected


FULL_COLON, FULL_BAR, HANGUL_BAR = "\uff1a", "\uff5c", "\u3163"


@pytest.mark.parametrize(
    ("title", "site", "expected"),
    [
        (f"南海トラフ、一時調査 巨大地震、基準達せず{FULL_COLON}中日新聞Web", "中日新聞Web",
         "南海トラフ、一時調査 巨大地震、基準達せず"),
        (f"フジテレビ問題でスポーツ界にも大激震{FULL_BAR}日刊ゲンダイDIGITAL",
         "日刊ゲンダイDIGITAL", "フジテレビ問題でスポーツ界にも大激震"),
        (f"민주당 선호투표제 도입 또다시 불발{HANGUL_BAR}한국일보", "한국일보",
         "민주당 선호투표제 도입 또다시 불발"),
        # An unspaced full-width colon inside the headline stays.
        (f"「金に執着」{FULL_COLON}元理事長を逮捕", "東京新聞",
         f"「金に執着」{FULL_COLON}元理事長を逮捕"),
    ],
)
def test_site_name_after_an_unspaced_cjk_separator(title: str, site: str, expected: str) -> None:
    assert strip_site_name(title, [site]) == expected


@pytest.mark.parametrize(
    ("h1", "expected"),
    [
        ("WEEKEND<br>CODING<br> <span>AGENT</span>", "WEEKEND CODING AGENT"),
        ('<a href="/p"><time datetime="2025-12-18">Dec 18 2025</time> Preparing a transition'
         "</a>", "Preparing a transition"),
        ('Top strategies for budgets<div class="divider"></div><h3 class="date">'
         "Posted on July 1, 2024</h3>", "Top strategies for budgets"),
        ('<span class="kicker">Breakpoint<span class="sep">:&nbsp;</span></span>'
         "Help, the council is coming", "Breakpoint: Help, the council is coming"),
    ],
)
def test_h1_text_keeps_word_breaks_and_drops_times_and_blocks(h1: str, expected: str) -> None:
    from lxml import html as lxml_html
    tree = lxml_html.fromstring(f"<html><body><h1>{h1}</h1></body></html>")
    assert harvest(tree).h1s == [expected]


def test_learned_affixes_are_removed_but_never_the_whole_title() -> None:
    affixes = [("suffix", " - National"), ("prefix", "WATCH:")]
    assert strip_learned("WATCH: Council approves budget - National", affixes) == \
        "Council approves budget"
    assert strip_learned(" - National", affixes) == " - National"
    head = "<title>Council approves transport budget - National</title>"
    assert title_of(head, h1=None, title_affixes=(("suffix", " - National"),)) == \
        "Council approves transport budget"


def test_a_title_of_punctuation_only_is_no_title() -> None:
    assert title_of("", h1="* * *</h1><h1>Council approves transport budget") == \
        "Council approves transport budget"

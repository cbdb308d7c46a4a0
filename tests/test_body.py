"""Body rules around trafilatura (extraction.body) and their use by extract_article, on small
hand-made pages."""

from __future__ import annotations

import json

import pytest

from pipeline.extraction import body as body_rules
from pipeline.extraction.extract import NotAnArticle, extract_article
from tests.test_extract import FETCHED, PARAGRAPHS, ld, page

STORY = "\n".join(PARAGRAPHS)


# --- JSON-LD articleBody --------------------------------------------------------------------

def test_article_body_markup_becomes_one_line_per_block() -> None:
    raw = ("<p>First <a href='/x'>linked</a> paragraph.</p><ul><li><p>Item one.</p></li>"
           "<li>Item two.</li></ul><h2>Heading</h2>")
    assert body_rules.article_body_text(raw) == (
        "First linked paragraph.\nItem one.\nItem two.\nHeading")
    assert body_rules.article_body_text("Plain text.\n\nSecond.") == "Plain text.\n\nSecond."


def test_prefer_publisher_body_only_when_much_longer_and_the_same_story() -> None:
    first_two = "\n".join(PARAGRAPHS[:2])
    assert body_rules.prefer_publisher_body(first_two, STORY) == STORY
    # Not half again as long: trafilatura's text stays.
    assert body_rules.prefer_publisher_body("\n".join(PARAGRAPHS[:3]), STORY) == (
        "\n".join(PARAGRAPHS[:3]))
    # Longer, but another text (a teaser list, a different story): trafilatura's text stays.
    other = " ".join(f"Unrelated sentence number {i} about the weather." for i in range(40))
    assert body_rules.prefer_publisher_body(first_two, other) == first_two
    assert body_rules.prefer_publisher_body(first_two, None) == first_two


def test_article_body_replaces_a_truncated_page_body() -> None:
    # The page shows two paragraphs; the publisher's JSON-LD carries the whole story as HTML.
    html = page(head=ld({"@type": "NewsArticle", "headline": "Council approves budget",
                         "articleBody": "".join(f"<p>{p}</p>" for p in PARAGRAPHS)}),
                paragraphs=PARAGRAPHS[:2])
    art = extract_article(html, "https://example.com/a", fetched_at=FETCHED)
    assert art.body == STORY


def test_article_body_text_leaves_out_figures_captions_and_embeds() -> None:
    raw = ('<figure><img src="a.jpg"><figcaption>The mayor in March.</figcaption></figure>'
           '<div class="caption"><p>Photo: Agency</p></div>'
           f"<p>{PARAGRAPHS[0]}</p><iframe src='x'></iframe><p>{PARAGRAPHS[1]}</p>")
    assert body_rules.article_body_text(raw) == "\n".join(PARAGRAPHS[:2])


def test_a_publisher_body_replaces_a_stub_whatever_it_shares() -> None:
    assert body_rules.prefer_publisher_body("Loading…", None, STORY, min_words=20) == STORY
    assert body_rules.prefer_publisher_body("", STORY, min_words=20) == STORY
    # Of two publisher bodies, the longer one that qualifies.
    assert body_rules.prefer_publisher_body("", PARAGRAPHS[0], STORY, min_words=20) == STORY


# --- the story in the page's app state (pages rendered in the browser) -----------------------

def _app_shell(state: str, paragraphs: list[str] | None = None) -> str:
    """A page whose HTML is an empty app shell, the story sitting in a hydration script."""
    shown = "".join(f"<p>{p}</p>" for p in paragraphs or [])
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            "<title>Council approves transport budget</title></head><body>"
            f'<div id="__next"><h1>Council approves transport budget</h1>{shown}</div>'
            f"{state}</body></html>")


def _story_html() -> str:
    return ('<div class="caption"><p>The council chamber.</p></div>'
            + "".join(f'<p class="editor-p">{p}</p>' for p in PARAGRAPHS))


def test_the_story_in_a_next_data_script_is_the_body_of_an_empty_shell() -> None:
    state = json.dumps({"props": {"pageProps": {"article": {
        "title": "Council approves transport budget", "contentHtml": _story_html()}}}})
    html = _app_shell(f'<script id="__NEXT_DATA__" type="application/json">{state}</script>')
    art = extract_article(html, "https://example.com/a", fetched_at=FETCHED)
    assert art.body == STORY


def test_the_story_in_a_javascript_hydration_push_with_escaped_markup_is_found() -> None:
    # React Query style: a JavaScript statement around the JSON, `<` escaped as \u003c.
    data = json.dumps({"queries": [{"state": {"data": {"detail": {
        "subTitle": "A short standfirst.", "body": _story_html()}}}}]})
    data = data.replace("<", "\\u003c")
    html = _app_shell(f'<script>window["__RQ"] = window["__RQ"] || [];'
                      f'window["__RQ"].push({data});</script>')
    assert "<p" not in html.split("<script>")[1]  # only the escaped form is in the page
    art = extract_article(html, "https://example.com/a", fetched_at=FETCHED)
    assert art.body == STORY


def test_the_app_state_story_extends_a_teaser_only_when_it_is_the_same_story() -> None:
    teaser = PARAGRAPHS[:2]
    same = json.dumps({"article": {"content": _story_html()}})
    art = extract_article(_app_shell(f"<script>self.__S = {same};</script>", teaser),
                          "https://example.com/a", fetched_at=FETCHED)
    assert art.body == STORY
    other = json.dumps({"related": {"bodyHtml": "".join(
        f"<p>Unrelated sentence number {i} about the weather in the hills today.</p>"
        for i in range(30))}})
    art = extract_article(_app_shell(f"<script>self.__S = {other};</script>", teaser),
                          "https://example.com/a", fetched_at=FETCHED)
    assert art.body == "\n".join(teaser)


def test_app_state_strings_that_are_not_rich_text_are_not_a_body() -> None:
    # One paragraph, or plain text: settings, a description, a serialized template.
    state = json.dumps({"config": {"bodyText": " ".join(PARAGRAPHS),
                                   "contentHtml": f"<p>{' '.join(PARAGRAPHS)}</p>"}})
    html = _app_shell(f"<script>window.__STATE__ = {state};</script>")
    with pytest.raises(NotAnArticle, match=r"no article text|too short"):
        extract_article(html, "https://example.com/a", fetched_at=FETCHED)


# --- recall retry ---------------------------------------------------------------------------

def test_recall_retry_when_balanced_extraction_finds_nothing() -> None:
    # An unclosed newsletter pop-up swallows the page: trafilatura's balanced mode discards it
    # all, its recall mode keeps the article.
    html = ('<html><head><title>Council approves budget</title></head><body>'
            '<aside class="popup newsletter"><article><h1>Council approves budget</h1>'
            + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</article></body></html>")
    art = extract_article(html, "https://example.com/a", fetched_at=FETCHED)
    assert art.body == STORY


# --- promotional lines at the edges ---------------------------------------------------------

def test_trailing_promotional_lines_are_removed() -> None:
    tail = ["Sign up for our weekly newsletter and get the best stories in your inbox.",
            "© 2026 Example Media Ltd. All rights reserved."]
    assert body_rules.strip_edge_promos("\n".join([*PARAGRAPHS, *tail])) == STORY


def test_leading_affiliate_disclosure_is_removed_but_not_a_leading_newsletter_line() -> None:
    disclosure = "This post contains affiliate links; we may earn a commission on purchases."
    assert body_rules.strip_edge_promos(f"{disclosure}\n{STORY}") == STORY
    about = "Welcome to the monthly newsletter on city transport."
    assert body_rules.strip_edge_promos(f"{about}\n{STORY}") == f"{about}\n{STORY}"


def test_promotional_words_in_the_middle_or_in_long_lines_stay() -> None:
    middle = "\n".join([PARAGRAPHS[0], "Subscribe to our newsletter.", *PARAGRAPHS[1:]])
    assert body_rules.strip_edge_promos(middle) == middle
    long_line = ("The council also said it would publish a newsletter " + "about the works " * 20
                 ).strip()
    assert body_rules.strip_edge_promos(f"{STORY}\n{long_line}") == f"{STORY}\n{long_line}"


def test_edge_promos_are_kept_when_they_are_most_of_the_body() -> None:
    short = "Short note on the budget.\nSubscribe to our newsletter for daily budget news."
    assert body_rules.strip_edge_promos(short) == short


def test_extract_article_drops_a_newsletter_box_at_the_end_of_the_article() -> None:
    box = ("<p>Get the latest council news straight to your inbox: sign up for our "
           "newsletter.</p>")
    html = page(paragraphs=PARAGRAPHS).replace("</article>", f"{box}</article>")
    art = extract_article(html, "https://example.com/a", fetched_at=FETCHED)
    assert art.body == STORY


# --- placeholder lines ----------------------------------------------------------------------

def test_placeholder_lines_are_dropped_anywhere() -> None:
    text = "\n".join([
        PARAGRAPHS[0],
        "Externer Inhalt nicht verfügbar",
        "Deine Privatsphäre-Einstellungen verhindern das Laden und Anzeigen aller externen "
        "Inhalte.",
        PARAGRAPHS[1],
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
        "By entering your email address you agree to our Terms of Use and Privacy Policy.",
        *PARAGRAPHS[2:],
    ])
    assert body_rules.drop_placeholder_lines(text) == STORY
    # The same words inside the story's own sentences stay.
    story = "Users say that by entering your email address on the form you agree to nothing."
    assert body_rules.drop_placeholder_lines(story) == story

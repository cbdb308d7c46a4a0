"""A page's own rules, read: X-Robots-Tag, robots metas, TDMRep header, meta and file.

Pure functions on real Scrapy responses; the crawl that applies them is in
tests/test_crawl_page_rules.py.
"""

from __future__ import annotations

import time

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from crawlers.page_rules import (
    TDM_FILE_META,
    file_reserves,
    parse_tdmrep,
    read_page_rules,
    robots_directives,
)
from pipeline.sources.config import SourcesError, load_sources

URL = "https://news.example/world/2026/story.html"


def page(head: str = "", headers: dict[str, str | list[str]] | None = None, **meta) -> HtmlResponse:
    html = f"<html><head>{head}<title>t</title></head><body><p>text</p></body></html>"
    return HtmlResponse(
        URL, body=html.encode(), headers=headers or {}, request=Request(URL, meta=meta)
    )


@pytest.mark.parametrize(
    ("values", "rules"),
    [
        (["noindex"], {"noindex"}),
        (["NoIndex, NoFollow"], {"noindex", "nofollow"}),
        (["none"], {"noindex", "nofollow"}),
        (["all"], set()),
        (["nocache"], {"noarchive"}),
        (["newsdesk: noarchive"], {"noarchive"}),
        (["otherbot: noindex"], set()),
        (["otherbot: noindex", "noarchive"], {"noarchive"}),
        # Two scoped headers a proxy joined with a comma: each keeps its own scope.
        (["otherbot: noindex, nofollow, newsdesk: noarchive"], {"noarchive"}),
        (["unavailable_after: 25 Jun 2010 15:00:00 PST"], set()),
        (["max-snippet: 20, noarchive"], {"noarchive"}),
    ],
)
def test_x_robots_tag_values(values: list[str], rules: set[str]) -> None:
    assert robots_directives(values, "newsdesk") == rules


def test_headers_and_metas_together() -> None:
    response = page(
        '<meta name="ROBOTS" content="noarchive"><meta name="newsdesk" content="nofollow">'
        '<meta name="googlebot" content="noindex">',
        headers={"X-Robots-Tag": ["otherbot: noindex", "newsdesk: noindex"]},
    )
    assert read_page_rules(response, "newsdesk") == ["noarchive", "nofollow", "noindex"]


def test_metas_are_read_from_the_whole_head_only() -> None:
    script = "<script>var x = '" + "y" * 40_000 + "';</script>"  # past the parser's first chunks
    late = page(script + '<meta name="robots" content="noindex">')
    assert read_page_rules(late, "newsdesk") == ["noindex"]
    in_body = HtmlResponse(
        URL,
        body=b'<html><head></head><body><meta name="robots" content="noindex"></body></html>',
        request=Request(URL),
    )
    assert read_page_rules(in_body, "newsdesk") == []


def test_a_page_that_says_nothing_has_no_rules() -> None:
    assert read_page_rules(page('<meta name="robots" content="index, follow">'), "newsdesk") == []


@pytest.mark.parametrize(
    ("head", "headers", "file", "reserved"),
    [
        ("", {"tdm-reservation": "1"}, None, True),
        ('<meta name="tdm-reservation" content="1">', {}, None, True),
        ("", {}, True, True),
        ("", {}, None, False),
        # The header overrides the site's file, as the protocol says; so does the page's meta.
        ("", {"tdm-reservation": "0"}, True, False),
        ('<meta name="tdm-reservation" content="0">', {}, True, False),
        ('<meta name="tdm-reservation" content="1">', {"tdm-reservation": "0"}, None, False),
    ],
)
def test_tdm_reservation_channels(
    head: str, headers: dict[str, str], file: bool | None, reserved: bool
) -> None:
    rules = read_page_rules(page(head, headers, **{TDM_FILE_META: file}), "newsdesk")
    assert ("tdm-reserved" in rules) is reserved


def test_tdmrep_location_patterns_in_file_order() -> None:
    rules = parse_tdmrep(
        b'[{"location": "/world/open/*", "tdm-reservation": 0},'
        b' {"location": "/world/*", "tdm-reservation": 1, "tdm-policy": "https://p.example/"},'
        b' {"location": "/about$", "tdm-reservation": 1}]'
    )
    assert file_reserves(rules, URL) is True
    assert file_reserves(rules, "https://news.example/world/open/a.html") is False
    assert file_reserves(rules, "https://news.example/sport/a.html") is None
    assert file_reserves(rules, "https://news.example/about") is True
    assert file_reserves(rules, "https://news.example/about/team") is None
    assert file_reserves(parse_tdmrep(b'[{"location": "/", "tdm-reservation": 1}]'), URL) is True
    star = parse_tdmrep(b'[{"location": "/*/2026/*.html$", "tdm-reservation": 1}]')
    assert file_reserves(star, URL) is True
    assert file_reserves(star, URL + "?page=2") is None


def test_a_hostile_location_pattern_is_matched_in_linear_time() -> None:
    """As a regex this pattern was still backtracking after 10 s on this path; piece by piece
    it is instant."""
    rules = parse_tdmrep(b'[{"location": "/' + b"*a" * 40 + b'*b", "tdm-reservation": 1}]')
    started = time.perf_counter()
    assert file_reserves(rules, "https://news.example/" + "a" * 5000) is None
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"{not json", "not JSON"),
        (b'{"location": "/", "tdm-reservation": 1}', "not a JSON array"),
        (b'[{"location": "/"}]', "rule 0 needs"),
        (b'[{"location": "/", "tdm-reservation": true}]', "rule 0 needs"),
        (b'[{"location": "/", "tdm-reservation": 1}, "x"]', "rule 1 needs"),
        (b"\xff\xfe[]", "not JSON"),
    ],
)
def test_a_broken_tdmrep_file_says_what_is_wrong(body: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_tdmrep(body)


def test_skip_pages_takes_only_rules_that_change_what_is_stored(tmp_path) -> None:
    path = tmp_path / "sources.yaml"
    entry = "sources: [{name: s, homepage: 'https://s.example/', skip_pages: [%s]}]"
    path.write_text(entry % "noindex, tdm-reserved")
    assert load_sources(path)[0].skip_pages == ["noindex", "tdm-reserved"]
    path.write_text(entry % "nofollow")
    with pytest.raises(SourcesError, match=r"source 's': skip_pages\[0\]: .*'noindex'"):
        load_sources(path)

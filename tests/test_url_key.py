"""URL identity (issue 18, error 4): `url_key` never gives two URLs that can name different pages
one key, and gives the spellings of one address one key; the crawler requests what it found."""

from __future__ import annotations

import json
from itertools import combinations

import pytest

from pipeline.text.urls import url_key, url_to_request
from tests.repo import REPO_ROOT

DEV_CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "dev"

#: Groups of URLs that a server may answer differently: every URL here has a key of its own.
DISTINCT = [
    "http://example.com/story.php?12345",
    "http://example.com/story.php?12346",
    "http://example.com/story.php",
    "http://example.com/index.php?/archives/123",
    "http://example.com/index.php?/archives/124",
    "http://example.com/index.php",
    "http://example.com/a;jsessionid=X",
    "http://example.com/a;jsessionid=Y",
    "http://example.com/a%3Bjsessionid=X",
    "http://example.com/a",
    "http://example.com/p?a&b",
    "http://example.com/p?a=&b=",
    "http://example.com/p?a",
    "http://example.com/p?a=",
    "http://example.com/p?b",
    "http://example.com/p?a=1",
    "http://example.com/p?a=1&a=2",
    "http://example.com/p?q=a+b",
    "http://example.com/p?q=a%2Bb",
    "http://example.com/p?q=a/b",
    "http://example.com/p?q=a%2Fb",
    "http://example.com/%7Ebob/",
    "http://example.com/%7Ebob/x",
    "http://example.com/A",
    "http://example.com:8080/a",
    "https://example.com/a",
    "http://www.example.com/a",
    "http://bücher.example/a",
    "http://buecher.example/a",
]

#: Spellings of one address (or the same address with tracking added): one key each group.
SAME = [
    ["http://EXAMPLE.com/story.php?12345", "http://example.com:80/story.php?12345",
     "HTTP://example.com/story.php?12345#comments", " http://example.com/story.php?12345 "],
    ["http://example.com/%7Ebob/", "http://example.com/~bob/", "http://example.com/%7ebob/"],
    ["http://bücher.example/a", "http://xn--bcher-kva.example/a", "http://BÜCHER.example/a"],
    ["https://example.com/a", "https://example.com:443/a", "https://example.com/a#!/x"],
    ["http://example.com/p?b=2&a=1", "http://example.com/p?a=1&b=2",
     "http://example.com/p?a=1&utm_source=tw&b=2&fbclid=Iw", "http://example.com/p?a=1&&b=2&"],
    ["http://example.com/index.php?/archives/123",
     "http://example.com/index.php?/archives/123&utm_medium=social"],
    ["http://example.com/a;jsessionid=X", "http://example.com/a;jsessionid=X?gclid=1"],
    ["http://example.com", "http://example.com/", "http://example.com/?"],
    ["http://example.com/a%c3%a4", "http://example.com/aä", "http://example.com/a%C3%A4"],
]


@pytest.mark.parametrize(("first", "second"), list(combinations(DISTINCT, 2)))
def test_urls_that_can_name_different_pages_never_share_a_key(first: str, second: str) -> None:
    assert url_key(first) != url_key(second)


@pytest.mark.parametrize("spellings", SAME, ids=lambda group: group[0])
def test_spellings_of_one_address_share_a_key(spellings: list[str]) -> None:
    assert len({url_key(url) for url in spellings}) == 1


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://example.com/story.php?12345", "http://example.com/story.php?12345"),
        ("http://example.com/index.php?/archives/123", "http://example.com/index.php?/archives/123"),
        ("http://example.com/a;jsessionid=X", "http://example.com/a;jsessionid=X"),
        ("https://Example.COM/news/a?utm_source=tw&utm_medium=social&id=7#comments",
         "https://example.com/news/a?id=7"),
        ("http://example.com:80/a?mc_cid=1&mc_eid=2", "http://example.com/a"),
        ("http://[::1]:80/a", "http://[::1]/a"),
        ("http://127.0.0.1:8123/2026/03/01/x-1/", "http://127.0.0.1:8123/2026/03/01/x-1/"),
        ("http://[::1", "http://[::1"),  # cannot be parsed: kept as it is
    ],
)
def test_the_key_is_still_the_address(url: str, key: str) -> None:
    assert url_key(url) == key


@pytest.mark.parametrize(
    ("found", "requested"),
    [
        (" http://example.com/story.php?12345#top\n", "http://example.com/story.php?12345"),
        ("http://EXAMPLE.com:80/a;jsessionid=X?utm_source=x", "http://EXAMPLE.com:80/a;jsessionid=X?utm_source=x"),
        ("http://example.com/index.php?/archives/123", "http://example.com/index.php?/archives/123"),
    ],
)
def test_the_url_requested_is_the_url_discovered(found: str, requested: str) -> None:
    assert url_to_request(found) == requested


def _dev_corpus_urls() -> list[str]:
    if not DEV_CORPUS.is_dir():
        pytest.skip(f"no dev corpus at {DEV_CORPUS} (../shared/corpus/dev beside the checkout)")
    urls = (json.loads(path.read_text(encoding="utf-8")).get("url")
            for path in sorted(DEV_CORPUS.glob("*/*.json")))
    return sorted({url for url in urls if url})


def test_no_two_distinct_dev_corpus_urls_or_listed_shapes_share_a_key() -> None:
    urls = _dev_corpus_urls() + DISTINCT
    assert len(urls) > 1000
    owners: dict[str, str] = {}
    shared = []
    for url in sorted(set(urls)):
        if (other := owners.setdefault(url_key(url), url)) != url:
            shared.append((other, url))
    assert not shared

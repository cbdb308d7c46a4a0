"""Extraction against the demo site's ground truth: three publishers, three metadata styles
(JSON-LD `@graph`, OpenGraph + `article:*` only, a French byline with no structured data)."""

from __future__ import annotations

import re
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from pipeline.demo_site import DemoSite, serve_demo_site
from pipeline.extraction.extract import NotAnArticle, extract_article
from pipeline.sources.config import load_sources


def shingle_f1(got: str, want: str, n: int = 4) -> float:
    def shingles(text: str) -> set[tuple[str, ...]]:
        tokens = re.findall(r"\w+", text.casefold())
        return {tuple(tokens[i:i + n]) for i in range(max(0, len(tokens) - n + 1))}

    a, b = shingles(got), shingles(want)
    if not a or not b:
        return float(a == b)
    hit = len(a & b)
    return 2 * hit / (len(a) + len(b))


def fetch(url: str) -> tuple[bytes, str | None]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read(), response.headers.get("Content-Type")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[object, object]]:
    with serve_demo_site(DemoSite(seed=7, n_articles=300)) as running:
        sources_file = tmp_path_factory.mktemp("demo") / "sources.yaml"
        sources_file.write_text(running.sources_yaml())
        sources = {s.name: s for s in load_sources(sources_file)}
        truths = list(running.truth())
        with ThreadPoolExecutor(8) as pool:
            pages = list(pool.map(fetch, [t.url for t in truths]))
    results = []
    for truth, (html, content_type) in zip(truths, pages, strict=True):
        try:
            article = extract_article(html, truth.url, source=sources.get(truth.publisher),
                                      hints={"content_type": content_type})
        except NotAnArticle as exc:
            article = exc
        results.append((truth, article))
    return results


def _share(results, check) -> tuple[float, Counter]:
    misses: Counter = Counter()
    for truth, article in results:
        if isinstance(article, Exception) or not check(truth, article):
            misses[truth.publisher] += 1
    return 1 - sum(misses.values()) / len(results), misses


def test_titles(extracted) -> None:
    share, misses = _share(extracted, lambda t, a: a.title == t.title)
    assert share >= 0.95, misses


def test_published_at_within_a_minute(extracted) -> None:
    share, misses = _share(
        extracted, lambda t, a: a.published_at is not None
        and abs(a.published_at - t.published_at) <= timedelta(seconds=60))
    assert share >= 0.95, misses


def test_bodies(extracted) -> None:
    share, misses = _share(extracted, lambda t, a: shingle_f1(a.body, t.body) >= 0.9)
    assert share >= 0.95, misses


def test_authors_language_paywall_canonical_section_image(extracted) -> None:
    for name, check in {
        "authors": lambda t, a: a.authors == list(t.authors),
        "language": lambda t, a: a.language == t.language,
        "paywall": lambda t, a: a.is_paywalled == t.is_paywalled,
        "canonical": lambda t, a: a.canonical_url == t.canonical_url,
        "section": lambda t, a: a.section == t.section,
        "image": lambda t, a: a.image_url == t.image_url,
    }.items():
        share, misses = _share(extracted, check)
        assert share >= 0.95, (name, misses)

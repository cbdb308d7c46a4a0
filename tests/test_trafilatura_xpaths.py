"""trafilatura's costliest XPath expressions evaluated in Python: the same elements as the
shipped XPath on real pages and on generated attribute soups built to hit XPath's corners; used
only inside `trafilatura_gate.recording()`; left as shipped when the expression is not the one
restated."""

from __future__ import annotations

import random
from copy import copy

import pytest
import trafilatura.xpaths as trafilatura_xpaths
from lxml import html as lxml_html
from trafilatura.core import _prepare_tree
from trafilatura.settings import Extractor

from bench.corpus_scoring import DEFAULT_CORPUS
from pipeline.demo_site.replay_pages import read_corpus
from pipeline.demo_site.site import DemoSite
from pipeline.extraction import trafilatura_gate as gate
from pipeline.extraction import trafilatura_xpaths as in_python
from pipeline.extraction.page import parse


def installed() -> list[in_python.XPathInPython]:
    return [getattr(trafilatura_xpaths, e.list_name)[e.index] for e in in_python.EQUIVALENTS]


def assert_same_elements(tree, where: str) -> None:
    for xpath in installed():
        assert xpath.evaluate(tree, *xpath.patterns) == xpath.original(tree), \
            f"{xpath.evaluate.__name__} on {where}"


def trees_trafilatura_walks(html: str) -> list:
    """The raw page and the page after trafilatura's cleaning and tag conversion: the trees the
    expressions run on (the second covers every body subtree trafilatura prunes)."""
    tree, _ = parse(html, None)
    converted, _ = _prepare_tree(copy(tree), Extractor(), None)
    return [tree, converted]


def test_every_restated_expression_is_installed_on_the_tested_release():
    assert len(gate.XPATHS_INSTALLED) == len(in_python.EQUIVALENTS) == 6
    assert all(isinstance(x, in_python.XPathInPython) for x in installed())


def test_on_real_pages_the_walks_find_the_xpaths_elements():
    if not DEFAULT_CORPUS.is_dir():
        pytest.skip(f"no development corpus at {DEFAULT_CORPUS} (../shared/corpus)")
    for saved in read_corpus(DEFAULT_CORPUS).pages[::10]:
        for tree in trees_trafilatura_walks(saved.html):
            assert_same_elements(tree, saved.url)


def test_on_demo_pages_the_walks_find_the_xpaths_elements():
    site = DemoSite(n_articles=30)
    bases = {p.name: f"http://{p.name}.example" for p in site.publishers}
    for publisher in site.publishers:
        path = site.catalogue.article(publisher.name, 0).path
        html = site.respond(publisher.name, path, bases).body
        for tree in trees_trafilatura_walks(html):
            assert_same_elements(tree, path)


# Values built from the expressions' own vocabulary, cut and cased so that some match, some
# almost do, and the XPath corners come up: an attribute absent or empty, `@id|@class` with the
# class first, role "NAV", "display: none", a nested h1 inside an infinite-scroll block.
TOKENS = ["comment", "Comments", "commentary", "comol", "disqus_thread", "article-comments",
          "infinite-scroll", "infinitescroll", "mvp-post-add-box", "mvp-post-add-wrap",
          "elementor-share-buttons", "share-", "social", "cookie", "tags", "sidebar", "navbar",
          "nav", "NAV", "Navigation", "menu", "footer", "related", "premium", "ad-", " ad ",
          "widget", "meta", "reply-", "hidden", "hide-", " hide", "noprint", "akismet",
          "comments-title", "reader-comments", "message", "display:none", "display: none",
          "MostPopularStories", "true", "false", "main", "story", "post", "entry", "articleBody",
          "articleContent", "article-content", "post_content", "x", ""]
ATTRIBUTES = ["id", "class", "style", "role", "aria-hidden", "data-component",
              "data-lp-replacement-content", "itemprop", "title"]
TAGS = ["div", "section", "aside", "list", "details", "ol", "ul", "item", "p", "span", "article",
        "main", "h1", "a", "li"]


def soup(rng: random.Random, depth: int = 0) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        tag = rng.choice(TAGS)
        attributes = rng.sample(ATTRIBUTES, rng.randint(0, 4))  # in random order
        written = " ".join(
            f'{name}="{rng.choice(TOKENS)}{rng.choice(["", "-x", " y", "Box"])}"'
            for name in attributes)
        inner = soup(rng, depth + 1) if depth < 4 and rng.random() < 0.6 else "text"
        comment = "<!-- a comment -->" if rng.random() < 0.2 else ""
        parts.append(f"<{tag} {written}>{comment}{inner}</{tag}>")
    return "".join(parts)


def test_on_generated_attribute_soups_the_walks_find_the_xpaths_elements():
    rng = random.Random(22)
    matched = 0
    for n in range(300):
        tree = lxml_html.fromstring(f"<html><body>{soup(rng)}</body></html>")
        assert_same_elements(tree, f"soup {n}")
        matched += sum(len(p.original(tree)) for p in installed())
    assert matched > 300  # the soups do hit the expressions, not only miss them


def test_the_walks_run_only_inside_the_gates_recording():
    tree = lxml_html.fromstring('<html><body><div class="comments">x</div></body></html>')
    calls = []

    def walk(tree, *patterns):
        calls.append(tree)
        return []

    xpath = in_python.XPathInPython(
        trafilatura_xpaths.REMOVE_COMMENTS_AND_LISTS_XPATH[0].original, walk, [], gate.engaged)
    assert len(xpath(tree)) == 1 and calls == []  # outside: the shipped XPath
    with gate.recording():
        assert xpath(tree) == [] and calls == [tree]


def test_an_expression_that_is_not_the_one_restated_is_left_as_shipped(monkeypatch):
    entries = list(trafilatura_xpaths.OVERALL_DISCARD_XPATH)
    changed = trafilatura_xpaths.OVERALL_DISCARD_XPATH[1].original
    other = type(changed)(changed.path.replace("@aria-hidden='true'", "@aria-hidden='yes'"),
                          namespaces={"re": trafilatura_xpaths.REGEXP_NS})
    entries[1] = other
    monkeypatch.setattr(trafilatura_xpaths, "OVERALL_DISCARD_XPATH", entries)
    assert "OVERALL_DISCARD_XPATH[1]" not in in_python.install(gate.engaged)
    assert entries[1] is other


def test_an_expression_whose_pattern_matches_nothing_is_left_as_shipped(monkeypatch):
    # The walks skip elements without attributes, right only while no pattern matches "".
    entries = list(trafilatura_xpaths.OVERALL_DISCARD_XPATH)
    shipped = entries[1].original
    other = type(shipped)(shipped.path.replace("'reader-comments|akismet'", "'reader-comments|'"),
                          namespaces={"re": trafilatura_xpaths.REGEXP_NS})
    entries[1] = other
    monkeypatch.setattr(trafilatura_xpaths, "OVERALL_DISCARD_XPATH", entries)
    assert in_python.skeleton_and_patterns(other)[0] == in_python.EQUIVALENTS[4].skeleton
    assert "OVERALL_DISCARD_XPATH[1]" not in in_python.install(gate.engaged)
    assert entries[1] is other


def test_nothing_is_installed_on_a_trafilatura_release_it_was_not_read_against(monkeypatch):
    monkeypatch.setattr(gate, "TESTED_TRAFILATURA", "0.0.0")
    assert gate.install_xpaths() == []

"""Dedupe end to end: `newsdesk run` on the demo site groups syndicated copies with their
originals, and the labelled evaluation set meets the precision and recall targets."""

from __future__ import annotations

import itertools

import psycopg
import pytest

from pipeline.demo_site import DemoSite, serve_demo_site
from pipeline.demo_site.dupes import evaluation_set
from pipeline.extraction.extract import extract_article
from tests.cli import newsdesk
from tests.dedupe_helpers import add_sources, from_item, store, story_of


@pytest.fixture(scope="module")
def demo_site():
    with serve_demo_site(DemoSite(seed=11, n_articles=150)) as running:
        yield running


@pytest.mark.slow
def test_run_groups_syndicated_copies_with_their_originals(db_url, demo_site, tmp_path):
    sources = tmp_path / "demo-sources.yaml"
    sources.write_text(demo_site.sources_yaml())
    result = newsdesk("run", "--sources", str(sources), "--no-delay")
    assert result.returncode == 0, result.stderr
    pairs = demo_site.syndicated_pairs()
    assert pairs
    with psycopg.connect(db_url) as conn:
        stories = story_of(conn)
        originals = dict(conn.execute(
            "SELECT o.canonical_url, s.original_reason FROM stories s"
            "  JOIN articles o ON o.id = s.original_article_id WHERE s.article_count > 1"
        ).fetchall())
        multi = conn.execute("SELECT count(*) FROM stories WHERE article_count > 1").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM articles WHERE story_id IS NULL"
                            ).fetchone()[0] == 0
    for copy, original in pairs:
        assert stories[copy] == stories[original], (copy, original)
        assert originals[original] == "rel-canonical"
    assert multi == len(pairs)  # nothing else merged: every other demo article is distinct

    again = newsdesk("run", "--sources", str(sources), "--no-delay")
    assert again.returncode == 0, again.stderr
    with psycopg.connect(db_url) as conn:
        assert story_of(conn) == stories


def test_evaluation_set_precision_and_recall(db_url):
    items = evaluation_set(seed=9, n_originals=40, n_short=10)
    with psycopg.connect(db_url) as conn:
        add_sources(conn)
        for start in range(0, len(items), 50):
            store(conn, [from_item(i) for i in items[start:start + 50]])
        stories = story_of(conn)
    tp = fp = fn = 0
    for a, b in itertools.combinations(items, 2):
        same, predicted = a.cluster == b.cluster, stories[a.url] == stories[b.url]
        tp += same and predicted
        fp += predicted and not same
        fn += same and not predicted
    assert tp / (tp + fp) >= 0.99 and tp / (tp + fn) >= 0.95, (tp, fp, fn)


def test_extractor_reports_copy_signals():
    site = DemoSite(seed=11, n_articles=150)
    bases = {p.name: f"http://127.0.0.1:{9000 + i}" for i, p in enumerate(site.publishers)}
    copy_url, original_url = site.syndicated_pairs(bases)[0]
    path = copy_url.removeprefix(bases["metroherald"])
    page = site.respond("metroherald", path, bases)
    extras = extract_article(page.body, copy_url).extras
    assert extras["provenance"] == "rel-canonical"
    assert extras["original_url"] == original_url
    assert extras["credited_to"] == "Daily Planet"
    original = site.respond("dailyplanet", original_url.removeprefix(bases["dailyplanet"]), bases)
    assert "provenance" not in extract_article(original.body, original_url).extras


@pytest.mark.parametrize(("html", "expected"), [
    ('<p><em>This story was first published by <a href="https://other.org/x">The Other '
     "Paper</a>.</em></p>", ("credit-line", "https://other.org/x", "Other Paper")),
    ("<div>Republished from Riverton Gazette under a Creative Commons licence.</div>",
     ("credit-line", None, "Riverton Gazette")),
])
def test_credit_lines(html, expected):
    from lxml import html as lxml_html

    from pipeline.extraction.metadata import harvest
    from pipeline.extraction.provenance import signals

    tree = lxml_html.fromstring(f"<html><body><p>Body text.</p>{html}</body></html>")
    got = signals(tree, harvest(tree), "https://mysite.org/a", [])
    assert (got["provenance"], got["original_url"], got["credited_to"]) == expected


def test_wire_byline():
    from lxml import html as lxml_html

    from pipeline.extraction.metadata import harvest
    from pipeline.extraction.provenance import signals

    tree = lxml_html.fromstring("<html><body><p>Body.</p></body></html>")
    assert signals(tree, harvest(tree), "https://x.org/a", ["Associated Press"]) == {
        "provenance": "wire-byline", "original_url": None, "credited_to": "Associated Press"}

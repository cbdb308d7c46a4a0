"""Per-source title affix learning: the counting on handmade titles, then the whole loop on a real
Postgres with the demo site crawled for real and a furniture suffix put into one source's titles
(as a site redesign would: "<headline>, en dash, Weekend Edition" in every title the page
declares)."""

from __future__ import annotations

import gzip
import re

import psycopg
import pytest

from pipeline.demo_site import DemoSite, serve_demo_site
from pipeline.extraction import title_affixes
from pipeline.processing.reprocess import reprocess
from pipeline.processing.stage import process_pending
from pipeline.sources.config import load_sources
from tests.cli import run_demo

SUFFIX = " \u2013 Weekend Edition"
HEADLINES = ["Council approves transport budget", "Storm closes the coastal road",
             "Museum reopens after two years - and it was worth the wait", "Rates rise again",
             "Mayor - who won in May - resigns", "Schools get new funding"]


def test_common_suffix_and_prefix_are_found_and_headline_dashes_are_not() -> None:
    titles = [f"WATCH: {h} | Local News" for h in HEADLINES[:4]] + HEADLINES[4:]
    found = title_affixes.common_affixes(titles, threshold=3)
    assert dict(found) == {("suffix", " | Local News"): 4, ("prefix", "WATCH: "): 4}


def test_an_affix_needs_letters() -> None:
    assert not title_affixes.common_affixes([f"{h} - 2026" for h in HEADLINES], threshold=3)


@pytest.fixture(scope="module")
def demo_site():
    with serve_demo_site(DemoSite(seed=7, n_articles=60)) as running:
        yield running


# A title that reads the same in HTML text, attributes and JSON (no quote, ampersand, backslash):
# its every occurrence in a page can then be found and replaced as plain text.
_PLAIN = re.compile(r"^[^\"'&<>\\]+$")


def add_suffix(conn: psycopg.Connection, source: str) -> int:
    """Append SUFFIX to the headline wherever a stored page of `source` declares it (<title>,
    og:title, JSON-LD, <h1>), for the pages whose headline is plain text; make them pending."""
    rows = conn.execute(
        "SELECT r.id, r.html_gz, a.title FROM raw_pages r JOIN articles a ON a.raw_page_id = r.id"
        " WHERE r.source = %s", (source,)).fetchall()
    changed = 0
    for page_id, html_gz, title in rows:
        if not _PLAIN.match(title):
            continue
        html = gzip.decompress(html_gz).decode().replace(title, title + SUFFIX)
        conn.execute("UPDATE raw_pages SET html_gz = %s, processed_at = NULL WHERE id = %s",
                     (gzip.compress(html.encode()), page_id))
        changed += 1
    conn.commit()
    return changed


def titles(conn: psycopg.Connection, source: str) -> list[str]:
    return [t for (t,) in conn.execute("SELECT title FROM articles WHERE source = %s", (source,))]


@pytest.mark.slow
def test_shared_suffix_is_learned_stored_and_removed(db_url, demo_site, tmp_path):
    sources = load_sources(run_demo(demo_site, tmp_path))
    with psycopg.connect(db_url) as conn:
        before = titles(conn, "dailyplanet")
        assert add_suffix(conn, "dailyplanet") > len(before) * 0.5
        before_other = sorted(titles(conn, "metroherald"))
        process_pending(conn, sources, workers=1)

        learned = conn.execute(
            "SELECT position, affix, pages, sample FROM source_title_affixes").fetchall()
        assert [(source, affix) for source, affix, *_ in learned] == [("suffix", SUFFIX)]
        # Removed from every stored title, and nothing else of them.
        assert sorted(titles(conn, "dailyplanet")) == sorted(before)
        assert sorted(titles(conn, "metroherald")) == before_other

        # The next run hands the learned suffix to the extractor: new titles come in clean (never
        # stored with the suffix, so no earlier version with it is recorded).
        conn.execute("UPDATE raw_pages SET processed_at = NULL WHERE source = 'dailyplanet'")
        conn.commit()
        with_suffix = "SELECT count(*) FROM article_versions WHERE title LIKE %s"
        versions = conn.execute(with_suffix, (f"%{SUFFIX}",)).fetchone()[0]
        process_pending(conn, sources, workers=2)
        assert sorted(titles(conn, "dailyplanet")) == sorted(before)
        assert conn.execute(with_suffix, (f"%{SUFFIX}",)).fetchone()[0] == versions
        # ... and so does a re-extraction: no title changes back.
        stats = reprocess(conn, sources, only=["dailyplanet"], workers=1)
        assert stats.pages and stats.fields["title"] == 0


def test_too_few_titles_learn_nothing(db_url):
    with psycopg.connect(db_url) as conn:
        learned = title_affixes.learn(conn, "nosuchsource")
    assert (learned.sample, learned.new_affixes) == (0, 0)

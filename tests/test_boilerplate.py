"""Per-source boilerplate learning on a real Postgres, with the demo site crawled for real.

The demo's "Exit mobile version" already goes with trafilatura's pruning, and newsletter or
copyright lines at the end of a body with the extractor's own rules (`extraction.body`); the
furniture this tests is the kind only a per-site count finds: two house lines inside the article
container of every Daily Planet page (injected into the stored pages, as a site redesign would).
"""

from __future__ import annotations

import gzip

import psycopg
import pytest

from pipeline.demo_site import DemoSite, serve_demo_site
from pipeline.extraction import boilerplate
from pipeline.processing.stage import process_pending
from pipeline.sources.config import load_sources
from tests.cli import newsdesk, run_demo

MASTHEAD = "The Planet Daily brings the day's top stories from Metropolis every morning."
ADDRESS = "Daily Planet Media, 355 Concord Avenue, Metropolis. Editor: Perry White."


@pytest.fixture(scope="module")
def demo_site():
    with serve_demo_site(DemoSite(seed=5, n_articles=60)) as running:
        yield running


@pytest.fixture
def crawled(db_url, demo_site, tmp_path):
    """The demo site run into the test database; returns (sources file, sources)."""
    path = run_demo(demo_site, tmp_path)
    return path, load_sources(path)


def inject(conn: psycopg.Connection, source: str, *lines: str) -> int:
    """Put `lines` at the end of the article text of every stored page of `source` (a Daily
    Planet page's entry-content), and make the pages pending again."""
    rows = conn.execute("SELECT id, html_gz FROM raw_pages WHERE source = %s", (source,)).fetchall()
    extra = "".join(f"<p>{line}</p>" for line in lines)
    for page_id, html_gz in rows:
        html = gzip.decompress(html_gz).decode()
        html = html.replace('</div><footer class="entry-footer"',
                            extra + '</div><footer class="entry-footer"', 1)
        conn.execute("UPDATE raw_pages SET html_gz = %s, processed_at = NULL WHERE id = %s",
                     (gzip.compress(html.encode()), page_id))
    conn.commit()
    return len(rows)


def bodies(conn, source: str) -> list[str]:
    return [b for (b,) in conn.execute("SELECT body FROM articles WHERE source = %s", (source,))]


@pytest.mark.slow
def test_recurring_lines_are_learned_stored_and_removed(db_url, crawled):
    _, sources = crawled
    with psycopg.connect(db_url) as conn:
        assert inject(conn, "dailyplanet", MASTHEAD, ADDRESS) > boilerplate.MIN_SAMPLE
        before_other = sorted(bodies(conn, "metroherald"))
        process_pending(conn, sources, workers=1)

        learned = conn.execute(
            "SELECT line, pages, sample FROM source_boilerplate WHERE source = 'dailyplanet'"
            " ORDER BY line").fetchall()
        assert [line for line, *_ in learned] == sorted([MASTHEAD, ADDRESS])
        assert all(pages == sample for _, pages, sample in learned)
        assert conn.execute("SELECT count(*) FROM source_boilerplate WHERE source <> "
                            "'dailyplanet'").fetchone()[0] == 0
        # Removed from every stored body, and nothing else of them: story lines stay.
        planet = bodies(conn, "dailyplanet")
        assert planet and not any(MASTHEAD in b or ADDRESS in b for b in planet)
        assert all(len(b.split()) > 50 for b in planet)
        assert sorted(bodies(conn, "metroherald")) == before_other
        # Stored hashes and counts follow the cleaned bodies.
        from pipeline.text.cleaning import content_hash, word_count
        for body, words, digest in conn.execute(
                "SELECT body, word_count, content_hash FROM articles WHERE source = 'dailyplanet'"):
            assert (words, digest) == (word_count(body), content_hash(body))

        # The next run hands the learned lines to the extractor: new pages come in clean.
        inject(conn, "dailyplanet")  # pending again, same content
        process_pending(conn, sources, workers=2)
        assert not any(MASTHEAD in b for b in bodies(conn, "dailyplanet"))

    # What was learned (and so removed) is inspectable from the CLI.
    shown = newsdesk("sources", "boilerplate", "dailyplanet", env={"COLUMNS": "200"})
    assert shown.returncode == 0, shown.stderr
    assert MASTHEAD in shown.stdout and ADDRESS in shown.stdout
    assert "2 learned boilerplate lines" in shown.stdout
    unknown = newsdesk("sources", "boilerplate", "nosuchsource")
    assert unknown.returncode != 0 and "nosuchsource" in unknown.stderr


def test_too_few_pages_learn_nothing(db_url):
    with psycopg.connect(db_url) as conn:
        learned = boilerplate.learn(conn, "nosuchsource")
    assert (learned.sample, learned.new_lines) == (0, 0)


def test_strip_lines_keeps_a_body_made_only_of_learned_lines():
    keys = frozenset({boilerplate.line_key(MASTHEAD)})
    body = f"Story line one.\n{MASTHEAD.upper()}\nStory line two."
    assert boilerplate.strip_lines(body, keys) == ("Story line one.\nStory line two.", 1)
    assert boilerplate.strip_lines(MASTHEAD, keys) == (MASTHEAD, 0)

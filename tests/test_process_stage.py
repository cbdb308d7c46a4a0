"""The process stage beside a producer (a crawl storing pages while it runs, as in `newsdesk run`):
it keeps claiming until the producer is done and nothing is pending, with several batches in
flight on the worker pool. Real crawl, real Postgres, real worker processes.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from pipeline.crawl import run_crawl
from pipeline.demo_site import DemoSite, serve_demo_site
from pipeline.extraction import language
from pipeline.processing.pool import extraction_pool
from pipeline.processing.stage import process_pending
from pipeline.sources.config import load_sources

pytestmark = pytest.mark.slow  # a real crawl of the demo site (Scrapy's engine)

PENDING = "SELECT count(*) FROM raw_pages WHERE processed_at IS NULL"


@pytest.fixture(scope="module")
def site():
    with serve_demo_site(DemoSite(seed=13, n_articles=60)) as running:
        yield running


@pytest.fixture
def crawled(db_url, site, tmp_path):
    """The demo site crawled (not processed) into the test database; returns its sources."""
    path = tmp_path / "sources.yaml"
    path.write_text(site.sources_yaml())
    sources = load_sources(path)
    reports = run_crawl([s.name for s in sources], sources_path=path, no_delay=True)
    assert all(r["status"] == "success" for r in reports), reports
    return sources


def test_pages_stored_while_processing_runs_are_processed_before_it_ends(db_url, crawled):
    with psycopg.connect(db_url) as conn:
        total = conn.execute("SELECT count(*) FROM raw_pages").fetchone()[0]
        # Half the pages are taken out, to be stored again by a "crawl" while processing runs.
        conn.execute("CREATE TABLE held AS SELECT * FROM raw_pages WHERE id % 2 = 0")
        held = conn.execute("DELETE FROM raw_pages WHERE id % 2 = 0").rowcount
        conn.commit()
    assert 0 < held < total
    done = threading.Event()
    failure: list[BaseException] = []

    def producer() -> None:
        """Store the held pages once the first half is processed, then say it is done."""
        try:
            with psycopg.connect(db_url) as conn:
                deadline = time.monotonic() + 120
                while conn.execute(PENDING).fetchone()[0] and time.monotonic() < deadline:
                    conn.commit()
                    time.sleep(0.1)
                conn.execute("INSERT INTO raw_pages OVERRIDING SYSTEM VALUE SELECT * FROM held")
                conn.commit()
        except BaseException as exc:  # reported by the test, not lost in the thread
            failure.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=producer)
    thread.start()
    with psycopg.connect(db_url) as conn:
        # Small batches: several in flight at once on the two workers.
        stats = process_pending(conn, crawled, workers=2, batch_size=10,
                                more_coming=lambda: not done.is_set())
        thread.join()
        assert not failure, failure
        assert stats.processed == total
        assert conn.execute(PENDING).fetchone()[0] == 0
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        new = sum(c.new for c in stats.by_source.values())
        assert articles == new > 0
        assert conn.execute(  # every article deduped into a story, none left behind
            "SELECT count(*) FROM articles WHERE story_id IS NULL").fetchone()[0] == 0


def _detector_loaded() -> bool:
    return language._identifier.cache_info().currsize == 1


def test_workers_start_with_the_language_detector_already_loaded():
    # Loaded once in the forkserver and shared, not 0.6 s of CPU again in every worker.
    with extraction_pool(2, {}, {}, {}) as pool:
        assert all(pool.submit(_detector_loaded).result() for _ in range(4))

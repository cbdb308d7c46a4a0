"""A feed's or sitemap's validators are saved only once everything it led to is safe.

Article requests that failed, or a crawl stopped with articles pending, must not leave an ETag
that makes the next run's feed or sitemap answer 304 and hide the missed articles for good. Real
`python -m crawlers` in a child process, real HTTP on 127.0.0.1 (the demo site's fault injection
and access log), real Postgres.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml

from pipeline.demo_site import DemoSite, RunningSite, serve_demo_site
from pipeline.demo_site.faults import Fault
from tests.repo import REPO_ROOT
from tests.test_crawl import crawl, stored
from tests.test_crawl_incremental import article_hits, one_source, path_of

pytestmark = pytest.mark.slow

PUB = "lecourrier"


@pytest.fixture
def site() -> Iterator[RunningSite]:
    with serve_demo_site(DemoSite(seed=11, n_articles=180)) as running:
        yield running


def etags(db_url: str) -> dict[str, str | None]:
    """Each discovery document's path and the ETag saved for it."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT url, etag FROM discovery_documents").fetchall()
    return {path_of(url): etag for url, etag in rows}


def configured(sources: Path) -> set[str]:
    """The paths of the source's configured feeds and sitemaps."""
    entry = yaml.safe_load(sources.read_text())["sources"][0]
    return {path_of(u) for u in entry["feeds"] + entry["sitemaps"]}


def expected(site: RunningSite, *kinds: str) -> set[str]:
    every = set().union(*(site.listed_in(PUB, kind) for kind in kinds))
    return every - {site.special_urls()["not_found"]}


def assert_rerun_stores_the_rest(
    site: RunningSite, db_url: str, sources: Path, want: set[str]
) -> None:
    """The next, clean run reads the documents in full and fetches only what is missing."""
    before = set(stored(db_url))
    assert before < want
    site.faults.clear()
    site.clear_requests()
    rerun = crawl("--source", PUB, "--sources", str(sources), "--no-delay", "--run-key", "two")
    assert rerun.returncode == 0, rerun.stderr
    documents = {h.path: h.status for h in site.requests(PUB) if h.path in configured(sources)}
    assert set(documents.values()) == {200}, documents
    assert set(stored(db_url)) == want
    fetched = [h.path for h in article_hits(site, PUB)]
    assert sorted(fetched) == sorted(path_of(u) for u in want - before)  # each page once
    # A run with everything stored saves validators again, for every configured document.
    saved = etags(db_url)
    assert configured(sources) <= saved.keys() and all(saved.values()), saved


def test_failed_article_requests_leave_no_new_validators(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    sources = one_source(site, tmp_path / "s.yaml")
    failing = sorted(site.listed_in(PUB, "feed") - {site.special_urls()["not_found"]})[:3]
    for url in failing:
        site.faults.set(PUB, path_of(url), Fault("status", status=500))
    first = crawl("--source", PUB, "--sources", str(sources), "--no-delay", "--run-key", "one")
    assert first.returncode == 0, first.stderr
    assert set(failing).isdisjoint(stored(db_url))
    saved = etags(db_url)
    feeds = {path_of(u) for u in yaml.safe_load(sources.read_text())["sources"][0]["feeds"]}
    assert feeds and all(saved[path] is None for path in feeds), saved
    assert_rerun_stores_the_rest(site, db_url, sources, expected(site, "feed", "sitemap",
                                                                 "news_sitemap"))  # fmt: skip


def test_a_crawl_closed_by_a_limit_leaves_no_new_validators(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    sources = one_source(site, tmp_path / "s.yaml", feeds=[])
    first = crawl("--source", PUB, "--sources", str(sources), "--no-delay", "--run-key", "one",
                  "-s", "CLOSESPIDER_ITEMCOUNT=5")  # fmt: skip
    assert first.returncode == 1 and "closespider_itemcount" in first.stderr, first.stderr
    saved = etags(db_url)  # each document's state is saved, without validators
    assert configured(sources) <= saved.keys(), saved
    assert all(saved[path] is None for path in configured(sources)), saved
    assert_rerun_stores_the_rest(site, db_url, sources, expected(site, "sitemap", "news_sitemap"))


def test_a_crawl_stopped_by_sigterm_leaves_no_new_validators(
    site: RunningSite, db_url: str, tmp_path: Path
) -> None:
    sources = one_source(site, tmp_path / "s.yaml")
    slow = ["-s", "DOWNLOAD_DELAY=0.05", "-s", "AUTOTHROTTLE_ENABLED=False",
            "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "NEWSDESK_BATCH_SIZE=3"]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawlers", "--source", PUB, "--sources", str(sources),
         "--no-delay", "--run-key", "one", *slow],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=os.environ.copy(),
    )  # fmt: skip
    end = time.monotonic() + 60
    while len(stored(db_url)) < 5:
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert time.monotonic() < end, "no page stored in time"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert "cannot save discovery state" not in err
    saved = etags(db_url)  # each document's state is saved, without validators
    assert configured(sources) <= saved.keys(), saved
    assert all(saved[path] is None for path in configured(sources)), saved
    assert_rerun_stores_the_rest(site, db_url, sources, expected(site, "feed", "sitemap",
                                                                 "news_sitemap"))  # fmt: skip


CHILD = "/sitemaps/articles-1.xml"


@pytest.mark.parametrize(
    ("fault", "index_keeps_validators"),
    [
        (Fault("status", status=404), True),
        (Fault("redirect", location=CHILD + "?moved=1"), True),
        (Fault("status", status=500), False),
    ],
    ids=["gone", "moved", "server_error"],
)
def test_an_index_keeps_validators_only_when_its_child_sitemaps_are_done(
    site: RunningSite, db_url: str, tmp_path: Path, fault: Fault, index_keeps_validators: bool
) -> None:
    """A child's 404 would recur and a redirected child was read, so the index is complete; a
    5xx may pass, so the index must be read in full next run to reach the child again."""
    sources = one_source(site, tmp_path / "s.yaml", feeds=[])
    index = "/sitemap.xml"
    assert index in configured(sources)
    site.faults.set(PUB, CHILD, fault)
    result = crawl("--source", PUB, "--sources", str(sources), "--no-delay")
    assert result.returncode == 0, result.stderr
    answered = 302 if fault.kind == "redirect" else fault.status
    assert {h.status for h in site.requests(PUB) if h.path == CHILD} == {answered}
    assert (etags(db_url)[index] is not None) is index_keeps_validators

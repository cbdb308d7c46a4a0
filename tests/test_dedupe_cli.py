"""`newsdesk dedupe`: backfills articles without a story and rebuilds the same grouping."""

from __future__ import annotations

import psycopg

from pipeline.demo_site.dupes import evaluation_set
from tests.cli import newsdesk
from tests.dedupe_helpers import add_sources, from_item, partition, store


def test_dedupe_command_rebuilds_the_same_grouping(db_url):
    items = evaluation_set(seed=4, n_originals=6, n_short=2)
    with psycopg.connect(db_url) as conn:
        add_sources(conn)
        store(conn, [from_item(i) for i in items])
        before = partition(conn)
    result = newsdesk("dedupe", "--rebuild", "--batch-size", "10")
    assert result.returncode == 0, result.stderr
    assert "dedupe: articles grouped into stories" in result.stdout
    with psycopg.connect(db_url) as conn:
        assert partition(conn) == before
    again = newsdesk("dedupe")
    assert again.returncode == 0, again.stderr
    with psycopg.connect(db_url) as conn:
        assert partition(conn) == before

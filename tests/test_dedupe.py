"""Dedupe on a real Postgres: each level, each false-merge guard, originals, versions,
concurrency and reruns."""

from __future__ import annotations

import shutil
import threading
from datetime import timedelta

import psycopg
import pytest

from pipeline.db import migrate as migrate_module
from pipeline.dedupe import minhash
from pipeline.dedupe.backlog import dedupe_pending, pending_count, reset
from pipeline.dedupe.config import DedupeConfig
from pipeline.dedupe.matching import index_keys, worth_confirming
from pipeline.demo_site.dupes import ANCHOR, BOILERPLATE, evaluation_set
from tests.dedupe_helpers import add_sources, article, from_item, partition, store, story_of

ITEMS = {item.key: item for item in evaluation_set(seed=3, n_originals=8, n_short=3)}


@pytest.fixture
def conn(db_url):
    with psycopg.connect(db_url) as conn:
        add_sources(conn)
        yield conn


def _same_story(conn, *keys) -> bool:
    stories = story_of(conn)
    return len({stories[ITEMS[k].url] for k in keys}) == 1


def _apart(conn, *keys) -> bool:
    stories = story_of(conn)
    return len({stories[ITEMS[k].url] for k in keys}) == len(keys)


def test_exact_copy_under_another_url_joins_the_story_as_exact(conn):
    stats = store(conn, [from_item(ITEMS["o0"]), from_item(ITEMS["o0/headline"])])
    assert _same_story(conn, "o0", "o0/headline")
    assert (stats.exact, stats.near, stats.stories_new) == (1, 0, 1)
    kinds = conn.execute("SELECT relation FROM story_members ORDER BY relation").fetchall()
    assert kinds == [("exact",), ("original",)]


@pytest.mark.parametrize("kind", ["template", "added", "dropped", "edited", "teaser"])
def test_near_copy_joins_the_story_across_batches(conn, kind):
    store(conn, [from_item(ITEMS["o1"])])
    stats = store(conn, [from_item(ITEMS[f"o1/{kind}"])])
    assert _same_story(conn, "o1", f"o1/{kind}")
    assert stats.near == 1 and stats.stories_new == 0
    pair = conn.execute("SELECT kind, jaccard, containment FROM duplicate_pairs").fetchone()
    assert pair[0] == "near" and 0 < pair[1] < 1


def test_every_copy_ends_in_one_story_with_one_original(conn):
    keys = [k for k in ITEMS if k.split("/")[0] == "o2"]
    store(conn, [from_item(ITEMS[k]) for k in keys])
    assert _same_story(conn, *keys)
    row = conn.execute(
        "SELECT original_url, original_reason, article_count, source_count FROM story_originals"
    ).fetchone()
    assert row[0] == ITEMS["o2"].url and row[1] == "earliest"  # the copies carry no signal here
    assert row[2] == len(keys) and row[3] >= 2


def test_same_event_boilerplate_and_short_template_items_stay_apart(conn):
    store(conn, [from_item(i) for i in ITEMS.values()])
    assert _apart(conn, "o0", "same0")
    assert _apart(conn, "o6", "same6")
    assert _apart(conn, "boiler0a", "boiler0b", "boiler4a", "boiler4b")
    assert _apart(conn, "short0a", "short0b", "short1a", "short1b", "short2a", "short2b")


def test_short_bodies_match_only_exactly_and_with_the_same_title(conn):
    body = ("Results: the home side won three to one after extra time in front of a full "
            "stadium on a cold evening.\nTickets for the next match go on sale on Monday.")
    store(conn, [
        article("https://dailyplanet.example/a", body, title="Match report"),
        article("https://metroherald.example/b", body, title="Match report", source="metroherald"),
        article("https://citypost.example/c", body, title="Other match", source="citypost"),
    ])
    stories = story_of(conn)
    assert stories["https://dailyplanet.example/a"] == stories["https://metroherald.example/b"]
    assert stories["https://citypost.example/c"] != stories["https://dailyplanet.example/a"]


def test_boilerplate_alone_is_no_match_even_with_high_containment(conn):
    item = ITEMS["o3"]
    store(conn, [
        article("https://dailyplanet.example/x", item.body + "\n" + BOILERPLATE),
        article("https://metroherald.example/y",
                "\n".join(ITEMS["o4"].body.splitlines()[:1]) + "\n" + BOILERPLATE,
                source="metroherald"),
    ])
    assert len(set(story_of(conn).values())) == 2


def test_original_is_the_earliest_without_signals(conn):
    body = ITEMS["o5"].body
    store(conn, [
        article("https://metroherald.example/late", body, source="metroherald",
                published_at=ANCHOR),
        article("https://dailyplanet.example/early", body,
                published_at=ANCHOR - timedelta(hours=3)),
    ])
    row = conn.execute("SELECT original_url, original_reason FROM story_originals").fetchone()
    assert row == ("https://dailyplanet.example/early", "earliest")


@pytest.mark.parametrize("signal", [
    {"provenance": "rel-canonical", "original_url": "https://dailyplanet.example/orig",
     "credited_to": None},
    {"provenance": "credit-line", "original_url": None, "credited_to": "Daily Planet"},
])
def test_an_explicit_signal_beats_an_earlier_date(conn, signal):
    body = ITEMS["o5"].body
    store(conn, [article("https://metroherald.example/copy", body, source="metroherald",
                         published_at=ANCHOR - timedelta(hours=5), extras=signal)])
    store(conn, [article("https://dailyplanet.example/orig", body, published_at=ANCHOR)])
    row = conn.execute("SELECT original_url, original_reason FROM story_originals").fetchone()
    assert row == ("https://dailyplanet.example/orig", signal["provenance"])
    copy = conn.execute(
        "SELECT provenance, delay FROM story_members WHERE NOT is_original").fetchone()
    assert copy == (signal["provenance"], timedelta(hours=-5))


def test_a_wire_byline_points_at_the_wire(conn):
    add_sources(conn, ["reuters"])
    body = ITEMS["o6"].body
    store(conn, [
        article("https://citypost.example/w", body, source="citypost",
                published_at=ANCHOR - timedelta(hours=1),
                extras={"provenance": "wire-byline", "credited_to": "Reuters"}),
        article("https://reuters.example/w", body, source="reuters", published_at=ANCHOR),
    ])
    row = conn.execute("SELECT original_url, original_reason FROM story_originals").fetchone()
    assert row == ("https://reuters.example/w", "wire-byline")


def test_content_update_keeps_the_old_version_and_the_story(conn):
    item, copy = ITEMS["o7"], ITEMS["o7/headline"]
    store(conn, [from_item(item), from_item(copy)])
    old_keys = conn.execute("SELECT count(*) FROM article_bands").fetchone()[0]
    updated_body = item.body + "\nUpdate: the council confirmed the vote would go ahead."
    store(conn, [article(item.url, updated_body, source=item.source, title=item.title + " (update)",
                         published_at=item.published_at,
                         fetched_at=item.published_at + timedelta(days=30))])
    versions = conn.execute(
        "SELECT a.canonical_url, v.title, v.changed, v.cause, v.body = %s"
        "  FROM article_versions v JOIN articles a ON a.id = v.article_id", [item.body]
    ).fetchall()
    assert versions == [(item.url, item.title, ["body", "title"], "refetch", True)]
    assert _same_story(conn, "o7", "o7/headline")
    # The old body's keys are gone: only keys of the two current bodies remain.
    cfg = DedupeConfig()
    expected = set(index_keys(updated_body, cfg)) | set(
        index_keys(copy.body, cfg))
    assert conn.execute("SELECT count(*) FROM article_bands").fetchone()[0] == len(
        index_keys(updated_body, cfg)) + len(index_keys(copy.body, cfg))
    assert old_keys > 0 and len(expected) > 0
    # The same version again writes nothing.
    store(conn, [article(item.url, updated_body, source=item.source, title=item.title + " (update)",
                         published_at=item.published_at,
                         fetched_at=item.published_at + timedelta(days=30))])
    assert conn.execute("SELECT count(*) FROM article_versions").fetchone()[0] == 1


def test_two_concurrent_dedupers_make_one_story(db_url):
    with psycopg.connect(db_url) as conn:
        add_sources(conn)
    keys = [k for k in ITEMS if k.split("/")[0] == "o1"]
    barrier = threading.Barrier(len(keys))
    errors: list[BaseException] = []

    def worker(key: str) -> None:
        try:
            with psycopg.connect(db_url) as conn:
                barrier.wait()
                store(conn, [from_item(ITEMS[key])])
        except BaseException as exc:  # asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM stories").fetchone()[0] == 1
        assert len(set(story_of(conn).values())) == 1


def test_rerun_and_rebuild_give_the_same_grouping(conn):
    items = [from_item(i) for i in ITEMS.values()]
    for start in range(0, len(items), 7):  # several batches, as the process stage makes
        store(conn, items[start:start + 7])
    first = partition(conn)
    stories = conn.execute("SELECT count(*) FROM stories").fetchone()[0]
    assert len(first) == stories
    store(conn, items)  # reprocessing the same articles changes nothing
    assert partition(conn) == first
    reset(conn)
    assert pending_count(conn) == len(items)
    dedupe_pending(conn, batch_size=50)
    assert partition(conn) == first
    originals = conn.execute("SELECT original_url FROM story_originals ORDER BY 1").fetchall()
    reset(conn)
    dedupe_pending(conn, batch_size=1000)
    assert conn.execute("SELECT original_url FROM story_originals ORDER BY 1").fetchall() == (
        originals)


def test_story_merge_keeps_the_lower_id(conn):
    item = ITEMS["o4"]
    store(conn, [from_item(ITEMS["o4/teaser"])])
    store(conn, [from_item(ITEMS["o4/added"])])  # the teaser and the longer copy: both match...
    store(conn, [from_item(item)])  # ... the original, which bridges them if they were apart
    assert _same_story(conn, "o4", "o4/teaser", "o4/added")
    assert conn.execute("SELECT count(*) FROM stories").fetchone()[0] == 1


def test_only_pairs_whose_shared_keys_make_a_copy_likely_are_confirmed():
    band, band2, opening, stock_opening = 1, 2, 3, 4
    rows = [
        (10, 20, None),  # same content hash
        (10, 21, band), (10, 21, band2),  # two shared bands
        (10, 22, opening),  # one opening: a teaser
        (10, 23, band),  # one band only: a stock phrase
        *[(10, 30 + n, stock_opening) for n in range(3)],  # a common opening, alone
        (10, 30, band2),  # ... unless something else is shared too
    ]
    kept = worth_confirming(rows, {opening, stock_opening}, max_per_key=3)
    assert kept == [(10, 20), (10, 21), (10, 22), (10, 30)]


def test_a_story_with_more_copies_than_max_per_key_still_gathers_them_all(conn, monkeypatch):
    """Once a story's keys hit the per-key limit, its keys are common: each copy still meets it
    through the keys it shares with the copies before it."""
    monkeypatch.setenv("NEWSDESK_DEDUPE_MAX_PER_KEY", "2")
    keys = ["o5", *(f"o5/{kind}" for kind in ("headline", "template", "added", "dropped",
                                               "edited", "teaser"))]
    for key in keys:
        store(conn, [from_item(ITEMS[key])])
    assert _same_story(conn, *keys)


def test_config_from_environment():
    cfg = DedupeConfig.from_env({"NEWSDESK_DEDUPE_JACCARD": "0.6",
                                        "NEWSDESK_DEDUPE_BANDS": "16"})
    assert (cfg.jaccard, cfg.bands, cfg.rows) == (0.6, 16, 3)
    with pytest.raises(Exception, match="NEWSDESK_DEDUPE_ROWS"):
        DedupeConfig.from_env({"NEWSDESK_DEDUPE_ROWS": "x"})


def test_migration_0008_folds_stored_band_rows_into_the_keys_dedupe_computes(
        empty_db_url, tmp_path, monkeypatch):
    every, before = migrate_module.MIGRATIONS_DIR, tmp_path / "migrations"
    shutil.copytree(every, before)
    for later in migrate_module.discover(before):
        if later.version >= 8:
            later.path.unlink()
    cfg = DedupeConfig()
    keys = index_keys(ITEMS["o1"].body, cfg)
    bands = [*range(cfg.bands), *[cfg.lead_band] * (len(keys) - cfg.bands)]
    with psycopg.connect(empty_db_url) as conn:
        monkeypatch.setattr(migrate_module.discover, "__defaults__", (before,))
        migrate_module.migrate(conn)
        # The 0002 layout: (band, BLAKE2b digest) rows, the band not folded into the digest
        # (band_key is an XOR: applied again, it unfolds a key).
        conn.execute(
            "INSERT INTO article_bands (band, hash, article_id) SELECT *, 7 FROM unnest(%s, %s)",
            [bands, [minhash.band_key(b, k) for b, k in zip(bands, keys, strict=True)]])
        conn.commit()
        monkeypatch.setattr(migrate_module.discover, "__defaults__", (every,))
        migrate_module.migrate(conn)
        stored = conn.execute("SELECT key, article_id FROM article_bands").fetchall()
    assert sorted(stored) == sorted((k, 7) for k in keys)

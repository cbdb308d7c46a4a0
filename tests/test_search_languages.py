"""Search parses the query with every stored language, and gives one hit per story.

Real Postgres, articles stored and deduplicated as the process stage does, from sources whose
config declares no `language:`.
"""

from __future__ import annotations

import dataclasses

import psycopg
import pytest

from pipeline.outputs.search import index_pending, search
from tests.cli import newsdesk
from tests.dedupe_helpers import add_sources, article, store

STORIES = [
    ("en", "https://en.example/climate",
     "The climate summit ended with a pledge on emissions after two weeks of talks between "
     "delegates from almost every country, who argued late into the night over money."),
    ("de", "https://de.example/haus",
     "Das Haus am Marktplatz wurde nach dem Brand im Winter abgerissen, und die Stadt plant an "
     "seiner Stelle eine Bibliothek mit einem kleinen Garten für die Nachbarschaft."),
    ("fr", "https://fr.example/election",
     "L'élection municipale a été reportée d'une semaine après une panne informatique qui a "
     "empêché le dépouillement des bulletins dans plusieurs bureaux de vote de la ville."),
]


def _store_languages(conn: psycopg.Connection) -> None:
    add_sources(conn, ["en_site", "de_site", "fr_site"])
    store(conn, [dataclasses.replace(article(url, body, source=f"{lang}_site",
                                             title=f"Story {n}"), language=lang)
                 for n, (lang, url, body) in enumerate(STORIES)])


@pytest.mark.parametrize("indexed", [False, True], ids=["pending", "indexed"])
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("climates", "https://en.example/climate"),  # stem climat
        ("Häuser", "https://de.example/haus"),  # stem haus
        ("élections", "https://fr.example/election"),  # stem élect
    ],
)
def test_stemmed_words_found_in_every_stored_language(db_url, query, expected, indexed):
    with psycopg.connect(db_url) as conn:
        _store_languages(conn)
        conn.commit()
        if indexed:
            assert index_pending(db_url, workers=1) == len(STORIES)
        hits = search(conn, query)
    assert [h.canonical_url for h in hits] == [expected]


@pytest.mark.parametrize("indexed", [False, True], ids=["pending", "indexed"])
def test_each_article_matches_the_query_in_its_own_language(db_url, indexed):
    """With several languages stored, `-word` still excludes, and another language's stemmer
    never makes a match ("rates" is German's stem `rat`; "summit -emissions" must not match
    the English article that mentions emissions)."""
    with psycopg.connect(db_url) as conn:
        _store_languages(conn)
        add_sources(conn, ["en_rats"])
        store(conn, [dataclasses.replace(article(
            "https://en.example/rat", "A rat was seen in the kitchen of the town hall canteen on "
            "Friday, and the inspectors closed it until the pest controllers had finished.",
            source="en_rats", title="Canteen closed"), language="en")])
        conn.commit()
        if indexed:
            index_pending(db_url, workers=1)
        assert [h.canonical_url for h in search(conn, "summit")] == ["https://en.example/climate"]
        assert search(conn, "summit -emissions") == []
        assert [h.canonical_url for h in search(conn, "rates")] == []


def _store_copies(conn: psycopg.Connection) -> None:
    """One story carried by three sources, and an unrelated article with the same word."""
    wire = ("Flood barriers along the river held overnight as water levels peaked, officials "
            "said, while engineers inspected the embankments for damage at first light.")
    add_sources(conn, ["paper_a", "paper_b", "paper_c"])
    store(conn, [article(f"https://{name}.example/flood", wire, source=name,
                         title="River flood barriers hold") for name in ("paper_a", "paper_b",
                                                                        "paper_c")])
    store(conn, [article("https://paper_a.example/flood-insurance",
                         "Insurers expect flood claims to rise this year, and premiums with "
                         "them, as more homes are built on low ground near the coast.",
                         source="paper_a", title="Flood insurance premiums")])
    conn.commit()


def test_copies_of_a_story_give_one_hit_with_their_count(db_url):
    with psycopg.connect(db_url) as conn:
        _store_copies(conn)
        per_story = search(conn, "flood")
        every = search(conn, "flood", every_copy=True)
    assert sorted(h.copies for h in per_story) == [1, 3]
    story = next(h for h in per_story if h.copies == 3)
    assert story.canonical_url.endswith("/flood")
    assert len({h.story_id for h in per_story}) == 2
    copies = [h for h in every if h.story_id == story.story_id]
    assert len(every) == 4 and len(copies) == 3
    assert {h.copies for h in copies} == {3}


def test_cli_prints_copies_and_every_copy(db_url):
    with psycopg.connect(db_url) as conn:
        _store_copies(conn)
    per_story = newsdesk("search", "barriers")
    every = newsdesk("search", "barriers", "--every-copy")
    assert per_story.returncode == 0 and every.returncode == 0, per_story.stderr + every.stderr
    assert "copies" in per_story.stdout
    rows = [line for line in per_story.stdout.splitlines() if "River flood" in line]
    assert len(rows) == 1 and " 3 " in rows[0].replace("│", " ")
    assert sum("River flood" in line for line in every.stdout.splitlines()) == 3


def test_search_uses_the_gin_index_over_stored_languages(db_url):
    """A few thousand indexed articles: the planner picks the GIN index for the OR-ed query."""
    with psycopg.connect(db_url) as conn:
        _store_languages(conn)
        conn.execute(
            """INSERT INTO articles (canonical_url, url, source, title, body, word_count,
                                     content_hash, fetched_at, extractor_version, language)
               SELECT 'https://en.example/filler/' || i, 'https://en.example/filler/' || i,
                      'en_site', 'Filler ' || i, 'Routine council minutes number ' || i,
                      4, md5(i::text), now(), 'test', (ARRAY['en', 'de', 'fr'])[i % 3 + 1]
                 FROM generate_series(1, 3000) AS i""")
        conn.commit()
        index_pending(db_url, workers=1)
        conn.execute("ANALYZE articles")
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT id FROM articles WHERE search_vector @@ newsdesk_tsquery('climates')"))
        assert "articles_search" in plan, plan
        configs = conn.execute("SELECT newsdesk_tsquery('climates')::text").fetchone()[0]
    assert {"'climat'", "'climates'"} <= set(configs.split(" | ")), configs

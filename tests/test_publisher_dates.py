"""Dates as the publisher wrote them (issue 18, error 1): a story published on 3 June at 01:01
+02:00 keeps that offset when extracted, stored, exported, printed and counted (its UTC day is
2 June); a date without a time of day keeps precision "day", prints without a time and counts
on its day. Existing rows get the new columns by re-extraction, and those whose raw page was
pruned are counted."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone

import psycopg
import pytest

from pipeline.extraction.extract import extract_article
from pipeline.outputs.exports import export_articles
from pipeline.outputs.report import build_report
from pipeline.processing.reprocess import reprocess
from pipeline.processing.stage import process_pending
from pipeline.sources.config import Source
from pipeline.text.urls import url_key
from tests.cli import newsdesk
from tests.dedupe_helpers import add_sources
from tests.test_extract import FETCHED, FRENCH, PARAGRAPHS, ld, page

SOURCE = Source(name="dailyplanet", homepage="https://dailyplanet.example/")
LATE_NIGHT_URL = "https://dailyplanet.example/news/late-night-vote"
DAY_ONLY_URL = "https://dailyplanet.example/news/council-budget"
# 01:01 in Paris in summer is 23:01 UTC the day before.
LATE_NIGHT = page('<meta property="article:published_time" content="2020-06-03T01:01:00+02:00">',
                  paragraphs=PARAGRAPHS, h1="Late-night vote on the transport budget")
DAY_ONLY = page(ld({"@context": "https://schema.org", "@type": "NewsArticle",
                    "headline": "Le conseil adopte le budget", "datePublished": "2020-01-12"}),
                paragraphs=FRENCH, lang="fr", h1="Le conseil adopte le budget")


def test_extraction_keeps_the_publishers_offset() -> None:
    art = extract_article(LATE_NIGHT, LATE_NIGHT_URL, fetched_at=FETCHED)
    assert art.published_at == datetime(2020, 6, 2, 23, 1, tzinfo=UTC)  # the instant
    assert art.published_at.utcoffset() == timedelta(hours=2)
    assert art.published_at.date() == date(2020, 6, 3)  # the publisher's day
    assert (art.published_offset_minutes, art.published_precision) == (120, "minute")
    printed = art.to_json()
    assert printed["published_at"] == "2020-06-03T01:01:00+02:00"
    assert printed["published_precision"] == "minute"


def test_a_day_only_date_is_never_given_a_time() -> None:
    art = extract_article(DAY_ONLY, DAY_ONLY_URL, fetched_at=FETCHED)
    assert art.published_at.date() == date(2020, 1, 12)
    assert (art.published_offset_minutes, art.published_precision) == (None, "day")
    assert art.to_json()["published_at"] == "2020-01-12"


def test_a_source_zone_gives_a_zone_less_time_its_offset() -> None:
    """A time written without a zone is the source's wall clock when its `timezone:` is set."""
    head = '<meta property="article:published_time" content="2020-06-03T01:01:00">'
    source = Source(name="x", homepage="https://x.example/", timezone="Europe/Paris")
    art = extract_article(page(head), "https://x.example/a", source=source, fetched_at=FETCHED)
    assert art.to_json()["published_at"] == "2020-06-03T01:01:00+02:00"
    bare = extract_article(page(head), "https://x.example/a", fetched_at=FETCHED)
    assert (bare.to_json()["published_at"], bare.published_offset_minutes) == (
        "2020-06-03T01:01:00", None)  # no zone anywhere: the wall clock, no offset claimed


def test_an_offset_no_place_uses_is_not_a_date() -> None:
    """"+19:00" parses, but no place keeps that clock: the page's date is not read from it (and
    cannot break the batch that stores it on the offset column's check)."""
    head = '<meta property="article:published_time" content="2020-06-03T01:01:00+19:00">'
    art = extract_article(page(head), "https://x.example/a", fetched_at=FETCHED)
    assert art.published_offset_minutes != 19 * 60


def test_extract_command_prints_the_publishers_offset(tmp_path) -> None:
    saved = tmp_path / "late.html"
    saved.write_text(LATE_NIGHT, encoding="utf-8")
    result = newsdesk("extract", str(saved), "--url", LATE_NIGHT_URL)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["published_at"] == "2020-06-03T01:01:00+02:00"


def _store_raw_page(conn: psycopg.Connection, url: str, html: str) -> None:
    body = html.encode()
    conn.execute(
        """INSERT INTO raw_pages (source, url, url_key, final_url, status, html_gz,
                                  content_sha256, discovered_via, fetched_at)
           VALUES (%s, %s, %s, %s, 200, %s, %s, 'import', %s)""",
        [SOURCE.name, url, url_key(url), url, gzip.compress(body), hashlib.sha256(body).digest(),
         FETCHED])


@pytest.fixture
def stored(db_url):
    """The two pages crawled and processed, through the process stage into real Postgres."""
    with psycopg.connect(db_url) as conn:
        add_sources(conn, [SOURCE.name])
        _store_raw_page(conn, LATE_NIGHT_URL, LATE_NIGHT)
        _store_raw_page(conn, DAY_ONLY_URL, DAY_ONLY)
        conn.commit()
        stats = process_pending(conn, [SOURCE], workers=1)
        assert stats.counts(SOURCE.name).new == 2
    return db_url


def _dates(conn: psycopg.Connection) -> dict[str, tuple]:
    return {url: tuple(rest) for url, *rest in conn.execute(
        """SELECT canonical_url, published_at, published_offset_minutes, published_precision,
                  published_date FROM articles""")}


def test_stored_with_the_offset_and_counted_on_the_publishers_day(stored, tmp_path) -> None:
    with psycopg.connect(stored) as conn:
        assert _dates(conn) == {
            LATE_NIGHT_URL: (datetime(2020, 6, 2, 23, 1, tzinfo=UTC), 120, "minute",
                             date(2020, 6, 3)),
            DAY_ONLY_URL: (datetime(2020, 1, 12, tzinfo=UTC), None, "day", date(2020, 1, 12)),
        }
        counts = dict(conn.execute("SELECT day, articles FROM v_daily_counts"))
        assert counts == {date(2020, 6, 3): 1, date(2020, 1, 12): 1}
        utc_counts = dict(conn.execute("SELECT day, articles FROM v_daily_counts_utc_days"))
        assert utc_counts == {date(2020, 6, 2): 1, date(2020, 1, 12): 1}  # deprecated shape
        assert dict(conn.execute("SELECT canonical_url, published_date FROM v_articles")) == {
            LATE_NIGHT_URL: date(2020, 6, 3), DAY_ONLY_URL: date(2020, 1, 12)}
        report = build_report(conn, date(2020, 6, 3), alerts=[])
    assert "dailyplanet 2020-06-03: 1<" in report and "dailyplanet 2020-06-02: 0<" in report


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_exports_print_the_date_as_the_publisher_wrote_it(stored, tmp_path, fmt) -> None:
    out = tmp_path / f"articles.{fmt}"
    with psycopg.connect(stored) as conn:
        assert export_articles(conn, out, fmt) == 2
    text = out.read_text(encoding="utf-8")
    assert "2020-06-03T01:01:00+02:00" in text
    assert "2020-01-12" in text and "2020-01-12T" not in text
    if fmt == "jsonl":
        rows = {r["url"]: r for r in map(json.loads, text.splitlines())}
        assert rows[DAY_ONLY_URL]["published_precision"] == "day"
        assert datetime.fromisoformat(rows[LATE_NIGHT_URL]["published_at"]).utcoffset() == \
            timedelta(hours=2)


def test_existing_rows_are_filled_by_reprocessing_and_pruned_ones_counted(stored,
                                                                         tmp_path) -> None:
    """Rows from before extractor 1.4.0 (UTC, no offset, no precision) get the publisher's dates
    back from their raw page; a row whose raw page was pruned is counted, in one line."""
    with psycopg.connect(stored) as conn:
        conn.execute("""UPDATE articles SET published_offset_minutes = NULL,
                               published_precision = NULL, extractor_version = 'old'""")
        conn.execute("UPDATE raw_pages SET extractor_version = 'old'")
        conn.execute("DELETE FROM raw_pages WHERE url = %s", [DAY_ONLY_URL])  # pruned
        conn.commit()
        assert _dates(conn)[LATE_NIGHT_URL][2:] == (None, date(2020, 6, 2))  # the UTC day
        stats = reprocess(conn, [SOURCE], workers=1)
        assert stats.fields["published_offset_minutes"] == 1
        assert _dates(conn)[LATE_NIGHT_URL][1:] == (120, "minute", date(2020, 6, 3))
        assert _dates(conn)[DAY_ONLY_URL][1:] == (None, None, date(2020, 1, 12))
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"sources:\n  - name: {SOURCE.name}\n    homepage: {SOURCE.homepage}\n")
    note = "1 article(s) keep a UTC date without the publisher's offset"
    for command in (("reprocess",), ("process", "--reprocess")):  # by hand; the maintenance DAG
        result = newsdesk(*command, "--sources", str(sources), "--workers", "1")
        assert result.returncode == 0, result.stderr
        assert note in result.stdout, command


def test_a_fixed_offset_survives_the_round_trip_through_postgres(stored) -> None:
    """What the exports and views read back: the instant, its offset, its precision."""
    with psycopg.connect(stored) as conn:
        instant, offset = conn.execute(
            "SELECT published_at, published_offset_minutes FROM articles WHERE url = %s",
            [LATE_NIGHT_URL]).fetchone()
    local = instant.astimezone(timezone(timedelta(minutes=offset)))
    assert local.isoformat() == "2020-06-03T01:01:00+02:00"

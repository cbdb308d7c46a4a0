"""Normalisation: AMP URLs, dates, author lists, body lines, content hash."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipeline.article import NO_ZONE, as_written, offset_minutes, precision
from pipeline.text.bylines import clean_authors
from pipeline.text.cleaning import clean_body, content_hash, fix_mojibake, normalise_language
from pipeline.text.dates import (
    parse_date,
    parse_iso8601,
    parse_relative,
    plausible_date,
    to_utc,
)
from pipeline.text.urls import amp_to_canonical, same_site, url_key


def test_same_site_compares_registered_domains() -> None:
    assert same_site("https://news.bbc.co.uk/a", "https://www.bbc.co.uk/b")
    assert not same_site("https://bbc.co.uk/a", "https://example.co.uk/b")
    assert same_site("http://127.0.0.1:8000/a", "http://127.0.0.1:8000/b")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["By Jane Doe"], ["Jane Doe"]),
        (["By JANE DOE and JOHN SMITH"], ["Jane Doe", "John Smith"]),
        (["Jane Doe, John Smith & Ann Lee"], ["Jane Doe", "John Smith", "Ann Lee"]),
        (["Jane Doe, Staff Writer"], ["Jane Doe"]),
        (["Jane Doe | Senior Political Correspondent"], ["Jane Doe"]),
        (["Jane Doe (jane.doe@example.com)"], ["Jane Doe"]),
        (["jane.doe@example.com Jane Doe"], ["Jane Doe"]),
        (["Par Jean Dupont et Marie Curie"], ["Jean Dupont", "Marie Curie"]),
        (["Von Anna Müller und Karl Weber"], ["Anna Müller", "Karl Weber"]),
        (["Jane Doe", "jane doe", "Jane  Doe"], ["Jane Doe"]),
        (["Example News", "Jane Doe"], ["Jane Doe"]),  # the site's own name
        (["example.com"], []),
        (["Redaktion"], []),
        (["https://www.facebook.com/janedoe"], []),
        (["Kate E. Smith"], ["Kate E. Smith"]),
        (["By Jane Doe in London"], ["Jane Doe"]),
        ([None, "", "  "], []),
        (["Jane Doe; John Smith"], ["Jane Doe", "John Smith"]),
    ],
)
def test_clean_authors(raw: list, expected: list[str]) -> None:
    assert clean_authors(raw, site_names=["Example News", "example.com"]) == expected


def test_parse_date_keeps_the_publishers_clock() -> None:
    paris = timezone(timedelta(hours=1))
    assert parse_date("2026-03-12T14:30:00+01:00") == datetime(2026, 3, 12, 13, 30, tzinfo=UTC)
    assert parse_date("2026-03-12T14:30:00+01:00").utcoffset() == timedelta(hours=1)
    assert parse_date("2026-03-12T14:30:00Z") == datetime(2026, 3, 12, 14, 30, tzinfo=UTC)
    # naive: read in the source's time zone (Paris is UTC+1 in March)
    parsed = parse_date("2026-03-12 14:30", "Europe/Paris")
    assert parsed == datetime(2026, 3, 12, 14, 30, tzinfo=paris)
    assert offset_minutes(parsed) == 60
    # naive without a source zone: the written wall clock, offset unknown
    parsed = parse_date("2026-03-12 23:30")
    assert (parsed.tzinfo, parsed.date().isoformat(), offset_minutes(parsed)) == (
        NO_ZONE, "2026-03-12", None)
    # bare day: the written day, no offset and no time, whatever the zone
    parsed = parse_date("2026-03-12", "America/New_York")
    assert (parsed.tzinfo, parsed.date().isoformat(), precision(parsed)) == (
        NO_ZONE, "2026-03-12", "day")
    assert parse_date("12 mars 2026 14h30", "Europe/Paris", ["fr"]) == datetime(
        2026, 3, 12, 14, 30, tzinfo=paris)
    # a zone written in the text is kept, whatever the source's zone
    written = parse_date("Thu, 12 Mar 2026 14:30:00 -0400", "Europe/Paris")
    assert (written.date().isoformat(), offset_minutes(written)) == ("2026-03-12", -240)
    assert parse_date("no date here") is None
    assert parse_date(None) is None


@pytest.mark.parametrize(("text", "tz", "written"), [
    # an abbreviation the source's own zone uses is read in that zone: dateparser alone takes
    # IST for Israel and CST for US Central
    ("Jun 3, 2020, 01:01 AM IST", "Asia/Kolkata", "2020-06-03T01:01:00+05:30"),
    ("June 3, 2020 10:01 PM CST", "Asia/Shanghai", "2020-06-03T22:01:00+08:00"),
    # "ET" names no season: the source's zone knows it is summer time
    ("June 3, 2020 10:01 PM ET", "America/New_York", "2020-06-03T22:01:00-04:00"),
    # an ambiguous abbreviation with no source zone: the wall clock, no offset claimed
    ("Jun 3, 2020, 01:01 AM IST", None, "2020-06-03T01:01:00"),
    # an unambiguous one, or a number, is the publisher's word, whatever the source's zone
    ("June 3, 2020 1:01 AM PDT", "America/New_York", "2020-06-03T01:01:00-07:00"),
    ("Wed, 03 Jun 2020 01:01:00 +0200", "America/New_York", "2020-06-03T01:01:00+02:00"),
])
def test_zone_abbreviations_are_trusted_only_when_they_name_one_offset(text, tz, written):
    parsed = parse_date(text, tz)
    assert as_written(parsed, offset_minutes(parsed), precision(parsed)) == written


def test_parse_date_keeps_declared_offset() -> None:
    local = parse_date("2026-07-10T00:30:00+02:00")
    assert local.date().isoformat() == "2026-07-10"
    assert to_utc(local).date().isoformat() == "2026-07-09"


@pytest.mark.parametrize(("value", "written", "minutes", "precision_"), [
    (datetime(2020, 6, 3, 1, 1, tzinfo=timezone(timedelta(hours=2))),
     "2020-06-03T01:01:00+02:00", 120, "minute"),
    (datetime(2020, 6, 3, 1, 1, 7, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
     "2020-06-03T01:01:07-05:30", -330, "second"),
    (datetime(2020, 6, 3, 1, 1, tzinfo=NO_ZONE), "2020-06-03T01:01:00", None, "minute"),
    (datetime(2020, 1, 12, tzinfo=NO_ZONE), "2020-01-12", None, "day"),
    (datetime(2020, 1, 12, tzinfo=timezone(timedelta(hours=9))), "2020-01-12", 540, "day"),
])
def test_dates_are_written_as_the_publisher_wrote_them(value, written, minutes, precision_):
    assert (offset_minutes(value), precision(value)) == (minutes, precision_)
    assert as_written(value, minutes, precision_) == written
    # read back from the database: the instant in UTC, with the offset and precision beside it
    assert as_written(value.astimezone(UTC), minutes, precision_) == written
    # and through a worker process: a zone-less date stays zone-less
    assert offset_minutes(pickle.loads(pickle.dumps(value))) == minutes


def test_stored_dates_without_precision_stay_utc() -> None:
    """Rows extracted before the offset was kept: their UTC instant, printed as one."""
    value = datetime(2020, 6, 2, 23, 1, tzinfo=UTC)
    assert as_written(value, None, None) == "2020-06-02T23:01:00+00:00"


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-03-18T07:30:00+01:00", datetime(2026, 3, 18, 6, 30, tzinfo=UTC)),
    (" 2026-03-18T07:30:00Z ", datetime(2026, 3, 18, 7, 30, tzinfo=UTC)),
    ("2026-03-18T07:30:00", datetime(2026, 3, 18, 7, 30, tzinfo=UTC)),  # naive: as UTC
    ("2026-03", datetime(2026, 3, 1, tzinfo=UTC)),  # W3C datetime allows a month alone
    ("Wed, 18 Mar 2026 07:30:00 +0100", None),  # not ISO 8601: undated, never guessed
    ("", None),
    (None, None),
    (20260318, None),
])
def test_parse_iso8601_reads_feed_and_sitemap_dates_strictly(value, expected) -> None:
    assert parse_iso8601(value) == expected


def test_plausible_date_bounds() -> None:
    fetched = datetime(2026, 3, 1, tzinfo=UTC)
    assert plausible_date(fetched - timedelta(days=3), fetched)
    assert plausible_date(fetched + timedelta(hours=2), fetched)  # small skew tolerated
    assert not plausible_date(fetched + timedelta(days=30), fetched)
    assert not plausible_date(datetime(1970, 1, 1, tzinfo=UTC), fetched)
    assert not plausible_date(None, fetched)


def test_clean_body_drops_boilerplate_and_folds_whitespace() -> None:
    text = "First   paragraph\u00a0here.\n\n  Advertisement \nShare this article\nSecond one.\n" \
           "Second one.\nRead more\n6 min read\nReading time: 4 minutes\n"
    assert clean_body(text) == "First paragraph here.\nSecond one."


def test_double_encoded_text_is_repaired_and_clean_text_left_alone() -> None:
    story = "The council\u2019s caf\u00e9 reopened\u00a0on Monday."
    garbled = story.encode("utf-8").decode("cp1252")  # what a double-encoding CMS publishes
    assert "\u00e2\u20ac\u2122" in garbled and "\u00c3\u00a9" in garbled
    assert fix_mojibake(garbled) == story
    assert clean_body(f"{garbled}\nSecond line.") == (
        "The council\u2019s caf\u00e9 reopened on Monday.\nSecond line.")
    # Legitimate capitals that also start mojibake (Portuguese, Romanian) stay as written.
    assert fix_mojibake("\u00c2NGULO reto, \u00c3rea") == "\u00c2NGULO reto, \u00c3rea"


def test_content_hash_ignores_case_and_whitespace() -> None:
    a = content_hash("Hello   World.\nSecond line")
    assert a == content_hash("hello world. second LINE")
    assert a != content_hash("hello world. second line!")
    assert len(a) == 64 and int(a, 16) >= 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [("en-GB", "en"), ("fr_FR", "fr"), ("DE", "de"), ("english", None), ("", None), (None, None)],
)
def test_normalise_language(value: str | None, expected: str | None) -> None:
    assert normalise_language(value) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://ex.com/2026/03/story/amp/", "https://ex.com/2026/03/story/"),
        ("https://ex.com/news/story.amp.html", "https://ex.com/news/story.html"),
        ("https://amp.ex.com/news/story", "https://ex.com/news/story"),
        ("https://ex.com/story?amp=1&id=3", "https://ex.com/story?id=3"),
        ("https://ex.com/story?outputType=amp", "https://ex.com/story"),
        ("https://ex.com/ampere/story", "https://ex.com/ampere/story"),
        ("https://ex.com/story?output=json", "https://ex.com/story?output=json"),
    ],
)
def test_amp_to_canonical(url: str, expected: str) -> None:
    assert url_key(amp_to_canonical(url)) == expected


@pytest.mark.parametrize(
    ("text", "tz", "languages", "expected"),
    [
        ("3 hours ago", None, ["en"], "2026-03-20T09:00:00+00:00"),
        ("Updated 5 min ago", None, ["en"], "2026-03-20T11:55:00+00:00"),
        ("Monday", "America/New_York", ["en"], "2026-03-16"),
        ("hier à 14h30", "Europe/Paris", ["fr"], "2026-03-19T14:30:00+01:00"),
        ("vor 2 Tagen", "Europe/Berlin", ["de"], "2026-03-18"),
        ("12 March 2026", None, ["en"], None),  # absolute: not this function's job
    ],
)
def test_parse_relative_against_fetch_time_and_source_zone(text, tz, languages, expected):
    reference = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # a Friday
    parsed = parse_relative(text, reference, tz, languages)
    if expected is None:
        assert parsed is None
    elif "T" in expected:
        assert parsed.isoformat() == expected
    else:
        assert parsed.date().isoformat() == expected

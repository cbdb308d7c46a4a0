"""The strict reading of common date shapes (pipeline/text/date_shapes.py) gives exactly what
dateparser gives, and leaves every other string to it."""

from __future__ import annotations

from datetime import datetime

import pytest

from pipeline.text import dates
from pipeline.text.date_shapes import parse_common

# Each string: what bylines and metadata write, in a language and a shape the reading knows.
READ = [
    ("en", "December 3, 2025"), ("en", "Feb. 27, 2025"), ("en", "Dec 20, 2025 at 3:00 am"),
    ("en", "Mon 9 Mar 2026 07.51 GMT"), ("en", "November 4th, 2025"), ("en", "16 December 2025"),
    ("en", "Sat, 20 Dec, 2025 - 06:36"), ("en", "Sept. 9, 2025 | 12:30 pm"),
    ("en", "2 Jan 2026 12:05 am UTC"), ("fr", "13 mars 2026 à 06h26"),
    ("fr", "1er mars 2026 à 01h11"), ("fr", "27 février 2026 à 00h15"), ("fr", "Mardi 3 mars 2026"),
    ("de", "13. Juli 2025 um 23:16"), ("de", "1. Juni 2025"), ("de", "Freitag, 28. April 2023"),
    ("es", "3 marzo 2025"), ("it", "12 maggio 2024 alle 10:30"), ("nl", "4 juni 2024"),
    ("pt", "3 junho 2024"), ("pl", "19 kwietnia 2026"), ("en", "March 3, 2025 by 10:00"),
    ("", "Jun 10, 2025"),
]
# Shapes left to dateparser: numbers only, another zone, a weekday that is not the date's,
# a day the month has not, words the language does not skip, another language's month.
LEFT = [
    ("en", "09.10.2024"), ("en", "Dec 20, 2025 3:00 EST"), ("en", "Tuesday 9 Mar 2026"),
    ("en", "31 February 2025"), ("en", "March 3, 2025 near 10:00"), ("en", "13 mars 2026"),
    ("es", "3 de marzo de 2025"), ("en", "March 3, 2025 10:00 pm EST"),
    ("de", "13. Juli 2025 at 23:16"), ("en", "25:10 March 3, 2025"), ("en", "March 3, 2025 25:10"),
    ("en", "by Peter Bell on August 21, 2019"), ("fr", "il y a 3 heures"),
]


@pytest.mark.parametrize(("language", "text"), READ)
def test_a_common_shape_reads_as_dateparser_reads_it(language: str, text: str) -> None:
    languages = (language,) if language else ()
    fast = parse_common(text, language or "en")
    slow = dates._date_parser(languages).get_date_data(text).date_obj
    assert fast is not None, text
    assert isinstance(slow, datetime), text
    assert fast.replace(tzinfo=None) == slow.replace(tzinfo=None)
    assert (fast.tzname(), fast.utcoffset()) == (
        (slow.tzname(), slow.utcoffset()) if slow.tzinfo else (None, None))


@pytest.mark.parametrize(("language", "text"), LEFT)
def test_other_shapes_are_left_to_dateparser(language: str, text: str) -> None:
    assert parse_common(text, language) is None


def test_parse_date_takes_the_common_shape_without_dateparser(monkeypatch) -> None:
    """The point of the reading: a byline date costs no dateparser call (about 1 ms each)."""
    def no_dateparser(languages):
        raise AssertionError(f"dateparser called for {languages}")

    monkeypatch.setattr(dates, "_date_parser", no_dateparser)
    parsed = dates.parse_date("13 mars 2026 à 06h26", "Europe/Paris", ["fr"])
    assert parsed.isoformat() == "2026-03-13T06:26:00+01:00"
    assert dates.parse_date("Mon 9 Mar 2026 07.51 GMT", None, ["en"]).isoformat() \
        == "2026-03-09T07:51:00+00:00"


def test_several_languages_are_left_to_dateparser() -> None:
    assert dates._common_shape("3 mars 2026", ("fr", "en")) is None
    assert dates._common_shape("3 mars 2026", ("fr",)) is not None

"""Date parsing shared by extraction and discovery: aware datetimes, relative dates, feed and
sitemap entry dates, checks."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import dateparser
import dateparser.date
from dateutil.parser import isoparse

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# Tolerance for dates "in the future": covers clock skew and a naive local time read in the
# wrong zone (UTC+14 at worst), while rejecting embargo/event dates and placeholder years.
MAX_FUTURE_SKEW = timedelta(hours=15)
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


def to_utc(value: datetime, tz: str | None = None) -> datetime:
    """An aware UTC datetime: naive values are read in `tz` (an IANA name), else in UTC."""
    return _aware(value, tz).astimezone(UTC)


def parse_date(value: str | datetime | date | None, tz: str | None = None,
               languages: list[str] | None = None) -> datetime | None:
    """Parse a date as found in metadata or a byline into aware UTC, or None.

    ISO 8601 first (fast path, most metadata); anything else through dateparser in the given
    languages. A bare calendar date ("2026-03-12") is kept as midnight UTC of that day so that
    the declared day survives any time zone.
    """
    parsed = parse_date_local(value, tz, languages)
    try:
        return to_utc(parsed) if parsed else None
    except OverflowError:  # year 1 east of UTC: not a publication date anyway
        return None


def parse_date_local(value: str | datetime | date | None, tz: str | None = None,
                     languages: list[str] | None = None) -> datetime | None:
    """Like `parse_date`, but keeps the offset the page declared (the publisher's calendar day)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _aware(value, tz)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = " ".join(str(value).split())
    if not text or len(text) > 200:
        return None
    if _DATE_ONLY.match(text):
        try:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            return None
    try:
        return _aware(datetime.fromisoformat(text.replace("Z", "+00:00")), tz)
    except ValueError:
        pass
    parsed = None
    for langs in (tuple(languages or ()), ("en",)):
        try:
            parsed = _date_parser(langs).get_date_data(text).date_obj
        except (ValueError, TypeError, OverflowError, KeyError):
            parsed = None
        if parsed is not None or langs == ("en",):
            break
    return _aware(parsed, tz) if parsed else None


@lru_cache(maxsize=64)
def _date_parser(languages: tuple[str, ...]) -> dateparser.date.DateDataParser:
    """One dateparser parser per language set: building one (what `dateparser.parse` does on
    every call with languages) costs far more than parsing a date. No languages: all locales,
    the slow path, only when the page's language is unknown."""
    # No "relative-time": "2025 week" or "late 2025" would become a date counted back from the
    # clock of the machine. Relative bylines go through `parse_relative`, against the fetch time.
    settings = {"RETURN_AS_TIMEZONE_AWARE": False, "PREFER_DAY_OF_MONTH": "first",
                "PARSERS": ["timestamp", "custom-formats", "absolute-time"],
                "REQUIRE_PARTS": ["day", "month", "year"]}
    try:
        return dateparser.date.DateDataParser(languages=list(languages) or None, settings=settings)
    except ValueError:  # a language dateparser does not know
        return dateparser.date.DateDataParser(settings=settings)


# Bylines that give the date relative to when the page was served.
RELATIVE_DATE = re.compile(
    r"\b(?:ago|yesterday|today|just now|hier|aujourd'hui|il y a|gestern|heute|vorgestern|"
    r"vor\s+\d+|hace|ayer|hoy|ieri|oggi|\d+\s+(?:min|mins|minutes?|hours?|hrs?|h|days?)\b|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|lundi|mardi|mercredi|jeudi|vendredi|samedi|"
    r"dimanche|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lunes|martes|"
    r"miércoles|jueves|viernes|sábado|domingo)\b",
    re.IGNORECASE,
)


def parse_relative(text: str, reference: datetime, tz: str | None = None,
                   languages: list[str] | None = None) -> datetime | None:
    """"3 hours ago", "yesterday", "Monday", "hier à 14h30", "vor 2 Tagen": a date counted back
    from `reference` (the fetch time) on the source's wall clock (`tz`), aware, or None.

    Only for short byline texts: a weekday named in a story ("On Monday, ...") is not a date of
    publication, so callers pass byline elements, never article text."""
    text = " ".join(text.split())
    if not text or len(text) > 80 or not RELATIVE_DATE.search(text):
        return None
    zone = ZoneInfo(tz) if tz else UTC
    local_now = to_utc(reference).astimezone(zone).replace(tzinfo=None)
    # A parser per call: RELATIVE_BASE is a setting. Relative bylines are rare, so the cost
    # (a few ms) is paid on few pages.
    settings = {"RETURN_AS_TIMEZONE_AWARE": False, "PREFER_DATES_FROM": "past",
                "RELATIVE_BASE": local_now}
    for candidate in (text, RELATIVE_DATE.search(text).group(0)):
        try:
            parsed = dateparser.parse(candidate, languages=list(languages or ["en"]),
                                      settings=settings)
        except (ValueError, TypeError, OverflowError, KeyError):
            parsed = None
        if parsed is None:
            continue
        value = parsed.replace(tzinfo=zone)
        if value <= to_utc(reference).astimezone(zone) + MAX_FUTURE_SKEW:
            return value
    return None


def _aware(value: datetime, tz: str | None) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        value = value.replace(tzinfo=ZoneInfo(tz) if tz else UTC)
    return value


def plausible_date(value: datetime | None, reference: datetime | None = None) -> bool:
    """Not before 1990 and not after `reference` (the fetch time, else now) plus a small skew."""
    if value is None:
        return False
    reference = reference or datetime.now(UTC)
    return EARLIEST <= to_utc(value) <= to_utc(reference) + MAX_FUTURE_SKEW


def parse_iso8601(value: Any) -> datetime | None:
    """A feed or sitemap entry's date (ISO 8601 or W3C datetime, "2026-03" included, as the
    discovery parsers give it) as aware UTC, else None. Strict on purpose: these dates are
    machine-written, and an entry whose date cannot be read is kept undated, not guessed at."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return to_utc(isoparse(value.strip()))
    except (ValueError, OverflowError):
        return None


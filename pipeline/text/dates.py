"""Date parsing shared by extraction and discovery: aware datetimes from metadata, from the
dates written for readers (bylines, datelines), from relative bylines, from article URLs and
from feed and sitemap entries; and the plausibility check every chosen date passes.

Choosing which of a page's dates is its publication date is `pipeline.extraction.dates`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import dateparser
import dateparser.date
import dateparser.search
from dateparser.data.languages_info import language_order
from dateutil.parser import isoparse

from pipeline.article import NO_ZONE
from pipeline.text.date_shapes import parse_common

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# Tolerance for dates "in the future": covers clock skew and a naive local time read in the
# wrong zone (UTC+14 at worst), while rejecting embargo/event dates and placeholder years.
MAX_FUTURE_SKEW = timedelta(hours=15)
MAX_OFFSET = timedelta(hours=14)  # UTC-12 to UTC+14 are the offsets in use ("+19:00" is not one)
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


def to_utc(value: datetime, tz: str | None = None) -> datetime:
    """An aware UTC datetime: naive values are read in `tz` (an IANA name), else in UTC."""
    return _aware(value, tz).astimezone(UTC)


def publisher_clock(value: datetime | None) -> datetime | None:
    """An aware date in the fixed offset it has at that instant (a source's IANA zone becomes
    its offset then), as it is stored and read back; `NO_ZONE` stays as it is."""
    if value is None or value.tzinfo is NO_ZONE:
        return value
    return value.astimezone(timezone(value.utcoffset()))


def parse_date(value: str | datetime | date | None, tz: str | None = None,
               languages: list[str] | None = None) -> datetime | None:
    """Parse a date as found in metadata or a byline into an aware datetime in the offset the
    page wrote (the publisher's calendar day), or None.

    ISO 8601 first (fast path, most metadata); anything else through dateparser in the given
    languages. A time without a zone is read in the source's zone `tz` (an IANA name), else
    kept as the publisher's wall clock (`NO_ZONE`: its day is the written day, its offset
    unknown). A bare calendar date ("2026-03-12") is midnight `NO_ZONE` whatever `tz`: a day
    has no offset, and its day survives any time zone.
    """
    parsed = _parse_aware(value, tz, languages)
    if parsed is not None:
        try:
            to_utc(parsed)
        except OverflowError:  # year 1 east of UTC: no instant, and no publication date anyway
            return None
    return parsed


def _parse_aware(value: str | datetime | date | None, tz: str | None,
                 languages: list[str] | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return _aware(value, tz)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=NO_ZONE)
    text = " ".join(str(value).split())
    if not text or len(text) > 200:
        return None
    if _DATE_ONLY.match(text):
        try:
            return datetime.fromisoformat(text).replace(tzinfo=NO_ZONE)
        except ValueError:
            return None
    try:
        return _aware(datetime.fromisoformat(text.replace("Z", "+00:00")), tz)
    except ValueError:
        pass
    parsed = None
    for langs in (dateparser_languages(languages), ("en",)):
        parsed = _common_shape(text, langs)
        if parsed is None:
            try:
                parsed = _date_parser(langs).get_date_data(text).date_obj
            except (ValueError, TypeError, OverflowError, KeyError):
                parsed = None
        if parsed is not None or langs == ("en",):
            break
    return _aware(_trusted_zone(parsed, tz), tz) if parsed else None


def _common_shape(text: str, languages: tuple[str, ...]) -> datetime | None:
    """The strict reading of a common shape (`date_shapes`) where it is dateparser's own: one
    language, or none (all locales, English first in dateparser's order)."""
    if len(languages) > 1:
        return None  # several languages: dateparser weighs which one the string is in
    return parse_common(text, languages[0] if languages else "en")


# Abbreviations that name several zones (IST: India, Israel, Ireland; CST: China, US Central,
# Cuba) or none in particular of summer and winter (ET, PT): dateparser picks one offset for each.
_AMBIGUOUS_ZONES = frozenset({"IST", "CST", "BST", "AST", "ADT", "GST", "SST", "MST", "ET", "CT",
                              "MT", "PT"})


def _trusted_zone(parsed: datetime, tz: str | None) -> datetime:
    """The parse with the zone its text wrote only when that zone can be trusted: a numeric
    offset, UTC/GMT, or an abbreviation that names a single offset. An abbreviation the
    source's own zone uses at that wall clock ("IST" on an Indian site), or an ambiguous one, is
    read in the source's zone instead (`_aware`), or as the publisher's wall clock."""
    name = parsed.tzname()
    if name is None or name.startswith("UTC") or name in ("GMT", "Z"):
        return parsed  # dateparser names a numeric offset "UTC\\+02:00"
    wall = parsed.replace(tzinfo=None)
    if tz and ZoneInfo(tz).tzname(wall) == name:
        return wall
    return wall if name.upper() in _AMBIGUOUS_ZONES else parsed


@lru_cache(maxsize=64)
def _date_parser(languages: tuple[str, ...]) -> dateparser.date.DateDataParser:
    """One dateparser parser per language set: building one (what `dateparser.parse` does on
    every call with languages) costs far more than parsing a date. No languages: all locales,
    the slow path, only when the page's language is unknown (`dateparser_languages`)."""
    # No "relative-time": "2025 week" or "late 2025" would become a date counted back from the
    # clock of the machine. Relative bylines go through `parse_relative`, against the fetch time.
    # Without RETURN_AS_TIMEZONE_AWARE, a zone the text writes ("01:01 +0200", "1:01 AM EDT")
    # is kept on the result and a zone-less time stays naive (then read as `_aware` says).
    settings = {"PREFER_DAY_OF_MONTH": "first",
                "PARSERS": ["timestamp", "custom-formats", "absolute-time"],
                "REQUIRE_PARTS": ["day", "month", "year"]}
    return dateparser.date.DateDataParser(languages=list(languages) or None, settings=settings)


_DATEPARSER_KNOWN = frozenset(language_order)
# Norwegian pages declare the macrolanguage ("no"), which dateparser has only as its written
# standards; the withdrawn codes of Hebrew, Indonesian and Yiddish still appear in pages.
_DATEPARSER_NAMES = {"no": "nb", "iw": "he", "in": "id", "ji": "yi"}


def dateparser_languages(languages: list[str] | None) -> tuple[str, ...]:
    """The page's languages as dateparser knows them; English when it knows none of them, and
    nothing (every locale, where a caller allows it) when none is given. dateparser refuses an
    unknown language only when it parses, not when it is built: a page declaring "no" had its
    dates read in English alone, and htmldate's last resort read none."""
    named = (_DATEPARSER_NAMES.get(language, language) for language in languages or ())
    known = tuple(dict.fromkeys(n for n in named if n in _DATEPARSER_KNOWN))
    return known or (("en",) if languages else ())


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
            parsed = dateparser.parse(candidate,
                                      languages=list(dateparser_languages(languages) or ["en"]),
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
    """A naive value read in the source's zone, else as the publisher's wall clock."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        value = value.replace(tzinfo=ZoneInfo(tz) if tz else NO_ZONE)
    return value


def plausible_date(value: datetime | None, reference: datetime | None = None) -> bool:
    """Not before 1990, not after `reference` (the fetch time, else now) plus a small skew, and
    in a real UTC offset (the stored offset's range, `articles.published_offset_minutes`)."""
    if value is None or abs(value.utcoffset()) > MAX_OFFSET:
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


def parse_written_offset(value: Any) -> datetime | None:
    """A machine-written date (RFC 822 as RSS writes it, or ISO 8601) in the offset it was
    written in; None when it names no offset or cannot be read. For a feed entry, whose parser
    keeps only the UTC instant."""
    if not isinstance(value, str) or not value.strip():
        return None
    for parse in (parsedate_to_datetime, isoparse):
        try:
            parsed = parse(value.strip())
        except (TypeError, ValueError, IndexError, OverflowError):
            continue
        if parsed.tzinfo is not None:
            return parsed
    return None


# --- dates written for readers ------------------------------------------------------------------

# Words that label a byline date; stripped before parsing ("Publié le", "Veröffentlicht am").
DATE_LABEL = re.compile(
    r"^(?:\W|published|publication|posted|first published|updated|mis en ligne|"
    r"publié|publiée|veröffentlicht|erschienen|stand|publicado|publicada|pubblicato|"
    r"gepubliceerd|opublikowano|publicerad|on|le|am|el|il|op|em|at|:|,)+\s*",
    re.IGNORECASE,
)
# The word that starts a date's "updated" part: "Published X, updated Y".
UPDATED_MARK = re.compile(
    r"\b(?:updated|last updated|modified|mis à jour|modifié|actualisé|aktualisiert|akt\.|"
    r"actualizado|aggiornato|bijgewerkt|atualizado|uppfært|oppdatert|opdateret|uppdaterad|"
    r"päivitetty|zaktualizowano|aktualizováno|güncelleme|güncellendi|обновлено|更新)(?!\w)",
    re.IGNORECASE)
HAS_DIGIT_YEAR = re.compile(r"\b(?:19[9]\d|20\d\d)\b|\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b")

# Written English dates as regex fragments (used in case-insensitive patterns): month and
# weekday names, ordinal suffixes, and a whole written date with its weekday and time if any.
MONTH_NAME = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
              r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
WEEKDAY_NAME = r"(?:mon|tue|tues|wed|wednes|thu|thur|thurs|fri|sat|satur|sun)(?:day)?"
ORDINAL = r"(?:st|nd|rd|th)?"
# ("Sat, 20 Dec, 2025 - 06:36", "December 2nd, 2025", "03/10/2023").
DATE_PATTERN = (
    rf"(?:{WEEKDAY_NAME}\.?,?\s+)?(?:{MONTH_NAME}\.?\s+\d{{1,2}}{ORDINAL},?\s+\d{{4}}"
    rf"|\d{{1,2}}{ORDINAL}\.?\s+{MONTH_NAME}\.?,?\s+\d{{4}}|\d{{1,4}}[./-]\d{{1,2}}[./-]\d{{1,4}})"
    r"(?:,?\s+(?:at\s+)?\d{1,2}[:.h]\d{2}(?:\s*[ap]\.?m\.?)?)?")

# One written date, with its time of day if one follows: "Nov 25, 2025 5:00 am", "12.12.2025",
# "3/4/2025", "2025-12-19", "16 December 2025", "November 4th, 2025", "2024年12月3日".
_TIME = r"(?:,?\s*(?:at|um|à|a las|alle|-|\|)?\s*\d{1,2}[:.h]\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?)?"
DATE_IN_TEXT = re.compile(
    r"(?:\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?"
    r"|\d{4}[./年]\s?\d{1,2}[./月]\s?\d{1,2}日?"
    r"|\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})\b"
    r"|[^\W\d_]{3,}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    r"|\d{1,2}(?:st|nd|rd|th)?\.?\s+(?:de\s+)?[^\W\d_]{3,}\.?,?\s+(?:de\s+)?\d{4}"
    r"|\d{1,2}-[^\W\d_]{3}-\d{4})" + _TIME,
    re.IGNORECASE,
)


def parse_shown(raw: str, tz: str | None, languages: list[str] | None) -> datetime | None:
    """A date written for readers, labels and surrounding words allowed ("By Jane · 3/4/2025")."""
    stripped = DATE_LABEL.sub("", raw).strip()
    parsed = parse_date(stripped, tz, languages)
    if parsed:
        return parsed
    for match in DATE_IN_TEXT.finditer(raw):
        parsed = parse_date(match.group(0).strip(" ,-|"), tz, languages)
        if parsed:
            return parsed
    settings = {"REQUIRE_PARTS": ["day", "month", "year"],
                "PARSERS": ["timestamp", "custom-formats", "absolute-time"]}
    try:
        hits = dateparser.search.search_dates(raw,
                                              languages=list(dateparser_languages(languages)
                                                             or ["en"]),
                                              settings=settings)
    except (ValueError, TypeError, OverflowError, KeyError):
        hits = None
    return parse_date(hits[0][1], tz) if hits else None


_URL_DATE = re.compile(
    r"/((?:19|20)\d{2})[/-](\d{1,2}|[a-z]{3,9})[/-](\d{1,2})(?=/|$|[-_.])"
    r"|/((?:19|20)\d{2})(\d{2})(\d{2})(?=[-_/])", re.IGNORECASE)
_MONTHS = {name: number for number, names in enumerate(
    ("jan january", "feb february", "mar march", "apr april", "may", "jun june", "jul july",
     "aug august", "sep sept september", "oct october", "nov november", "dec december"), 1)
    for name in names.split()}


def url_date(url: str) -> date | None:
    """The publication day many sites write into their article URLs: /2023/05/17/,
    /2023/october/03/, /20241203-..."""
    match = _URL_DATE.search(url or "")
    if not match:
        return None
    year, month, day = match.group(1, 2, 3) if match[1] else match.group(4, 5, 6)
    number = int(month) if month.isdigit() else _MONTHS.get(month.lower())
    try:
        return date(int(year), number, int(day)) if number else None
    except ValueError:
        return None

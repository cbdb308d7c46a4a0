"""A strict, cheap reading of the commonest shapes of a written date, tried before dateparser.

dateparser spends about 1 ms on every string, most of it working out which of its locale's
words the string uses, before it parses: on news pages that was the bulk of the date steps'
CPU. The shapes here ("13 mars 2026 à 06h26", "December 3, 2025", "Feb. 27, 2025 at 3:00
am", "Mon 9 Mar 2026 07.51 GMT") are read with dateparser's own per-language data (month and
weekday names, am/pm, the words its parser skips), so they mean what they mean to dateparser;
any other string, or one that fails a check, is left to dateparser (None). The tests hold this
reading to dateparser's own answer, shape by shape and language by language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache, partial
from typing import NamedTuple

from dateparser.conf import settings as default_settings
from dateparser.languages.loader import default_loader

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ZONES = {"gmt": "GMT", "utc": "UTC"}  # the only zone words read here: offset zero either way

_WORD = r"[^\W\d_]+"
_DAY_FIRST = re.compile(
    rf"(?:(?P<wd>{_WORD})\.?,? )?(?P<d>\d{{1,2}})(?P<ord>{_WORD})?\.? (?P<m>{_WORD})\.?,? "
    r"(?P<y>\d{4})(?P<rest>.*)")
_MONTH_FIRST = re.compile(
    rf"(?:(?P<wd>{_WORD})\.?,? )?(?P<m>{_WORD})\.? (?P<d>\d{{1,2}})(?P<ord>{_WORD})?,? "
    r"(?P<y>\d{4})(?P<rest>.*)")
# What may follow the date: a joining word, a time of day, am/pm, a zero-offset zone.
_TIME = re.compile(rf",?(?: (?P<join>{_WORD}|-|\|))? (?P<h>\d{{1,2}})[:.](?P<min>\d{{2}})"
                   rf"(?: ?(?P<ampm>{_WORD}(?:\.{_WORD}\.?)?))?(?: (?P<zone>{_WORD}))?")


class _Words(NamedTuple):
    """One language's date words, from dateparser's locale data, lower-cased, and its
    rewriting of a string before it is parsed (lower case, "23h16" as "23:16" in French...)."""

    simplify: Callable[[str], str]
    months: dict[str, int]
    weekdays: dict[str, int]
    skip: frozenset[str]
    am: frozenset[str]
    pm: frozenset[str]


@lru_cache(maxsize=64)
def _words(language: str) -> _Words | None:
    try:
        locale = default_loader.get_locale(language)
    except (KeyError, ValueError):
        return None
    info = locale.info

    def names(keys: tuple[str, ...]) -> dict[str, int]:
        found: dict[str, int] = {}
        for number, key in enumerate(keys):
            for name in info.get(key, ()):
                if found.setdefault(name.lower(), number) != number:
                    return {}  # a name shared by two months: not a strict reading
        return found

    months = names(_MONTHS)
    # dateparser's own first step (a private method, hence dateparser pinned in constraints.txt
    # and the shape-by-shape tests against its answers).
    return _Words(partial(locale._simplify, settings=default_settings),
                  {name: n + 1 for name, n in months.items()}, names(_WEEKDAYS),
                  frozenset(w.lower() for w in info.get("skip", ())),
                  frozenset(w.lower() for w in info.get("am", ())),
                  frozenset(w.lower() for w in info.get("pm", ()))) if months else None


def parse_common(text: str, language: str) -> datetime | None:
    """`text` (whitespace already folded) read as dateparser reads it in `language`, when it is
    one of the common shapes; else None (not an answer: dateparser decides)."""
    words = _words(language)
    if words is None:
        return None
    simplified = words.simplify(text)
    for shape in (_DAY_FIRST, _MONTH_FIRST):
        match = shape.fullmatch(simplified)
        if match and (found := _read(match, words)) is not None:
            return found
    return None


def _read(match: re.Match, words: _Words) -> datetime | None:
    month = words.months.get(match["m"])
    ordinal = match["ord"] or ""
    if month is None or (ordinal and ordinal not in words.skip):
        return None
    try:
        day = date(int(match["y"]), month, int(match["d"]))
    except ValueError:
        return None
    weekday = match["wd"] or ""
    if weekday and words.weekdays.get(weekday) != day.weekday():
        return None  # a weekday that contradicts the date: dateparser's call
    clock = _clock(match["rest"], words)
    if clock is None:
        return None
    hour, minute, zone = clock
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def _clock(rest: str, words: _Words) -> tuple[int, int, timezone | None] | None:
    """(hour, minute, zone) of what follows the date; (0, 0, None) for nothing; None for a
    shape not read here."""
    if not rest:
        return 0, 0, None
    match = _TIME.fullmatch(rest)
    if match is None:
        return None
    join = match["join"] or ""
    if join and join not in words.skip:
        return None
    hour, minute = int(match["h"]), int(match["min"])
    ampm, zone_word = match["ampm"], match["zone"]
    if ampm and zone_word is None and ampm not in words.am | words.pm:
        ampm, zone_word = None, ampm  # "07.51 gmt": one word after the time, a zone
    if ampm:
        plain = ampm.replace(".", "")
        if not 1 <= hour <= 12:
            return None
        if plain in words.am or ampm in words.am:
            hour = 0 if hour == 12 else hour
        elif plain in words.pm or ampm in words.pm:
            hour = hour if hour == 12 else hour + 12
        else:
            return None
    zone = None
    if zone_word:
        name = _ZONES.get(zone_word)
        if name is None:
            return None
        zone = timezone(timedelta(0), name)
    if hour > 23 or minute > 59:
        return None
    return hour, minute, zone

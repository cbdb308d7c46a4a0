"""Dates as the page shows them to a reader: the dateline in the few short lines around the
headline ("Jane Doe · Dec 18, 2025", "Published October 14, 2025", "Updated: Sep 4, 2025").

This is what a reader (and a human labeller) takes as the article's date. Metadata is often
filled in by the CMS from other clocks: the database row's creation time of a page that was
rewritten and republished, a UTC timestamp that falls on the next day, the modified time
copied into both fields. Story text further down is never read: a date it mentions ("the
minister promised a decision on November 10") is not the publication date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import dateparser.search
from lxml import etree

from pipeline.text.dates import parse_date_local

# Words that label a byline date; stripped before parsing ("Publié le", "Veröffentlicht am").
DATE_LABEL = re.compile(
    r"^(?:\W|published|publication|posted|first published|updated|mis en ligne|"
    r"publié|publiée|veröffentlicht|erschienen|stand|publicado|publicada|pubblicato|"
    r"gepubliceerd|opublikowano|publicerad|on|le|am|el|il|op|em|at|:|,)+\s*",
    re.IGNORECASE,
)
UPDATED_MARK = re.compile(
    r"\b(?:updated|last updated|modified|mis à jour|modifié|actualisé|aktualisiert|akt\.|"
    r"actualizado|aggiornato|bijgewerkt|atualizado|uppfært|oppdatert|opdateret|uppdaterad|"
    r"päivitetty|zaktualizowano|aktualizováno|güncelleme|güncellendi|обновлено|更新)(?!\w)",
    re.IGNORECASE)
# A date after these words is not when the article came out: its last edit, its review, the
# print edition it also ran in, a paper's submission, a shop's offer.
_NOT_PUBLISHED_MARK = re.compile(
    rf"{UPDATED_MARK.pattern}|\b(?:reviewed|fact[- ]checked|revised|ausgabe vom|print edition|"
    r"received|accepted|redeem|expires?|valid until)\b", re.IGNORECASE)
HAS_DIGIT_YEAR = re.compile(r"\b(?:19[9]\d|20\d\d)\b|\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b")

# One written date, with its time of day if one follows: "Nov 25, 2025 5:00 am", "12.12.2025",
# "3/4/2025", "2025-12-19", "16 December 2025", "November 4th, 2025", "2024年12月3日".
_TIME = r"(?:,?\s*(?:at|um|à|a las|alle|-|\|)?\s*\d{1,2}[:.h]\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?)?"
_DATE_IN_TEXT = re.compile(
    r"(?:\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?"
    r"|\d{4}[./年]\s?\d{1,2}[./月]\s?\d{1,2}日?"
    r"|\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})\b"
    r"|[^\W\d_]{3,}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    r"|\d{1,2}(?:st|nd|rd|th)?\.?\s+(?:de\s+)?[^\W\d_]{3,}\.?,?\s+(?:de\s+)?\d{4}"
    r"|\d{1,2}-[^\W\d_]{3}-\d{4})" + _TIME,
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ShownDate:
    """One date written near the headline."""

    value: datetime  # aware (the page's offset, else the source's zone, else UTC)
    updated: bool  # labelled as an update or a review, not the publication


def parse_shown(raw: str, tz: str | None, languages: list[str] | None) -> datetime | None:
    """A date written for readers, labels and surrounding words allowed ("By Jane · 3/4/2025")."""
    stripped = DATE_LABEL.sub("", raw).strip()
    parsed = parse_date_local(stripped, tz, languages)
    if parsed:
        return parsed
    for match in _DATE_IN_TEXT.finditer(raw):
        parsed = parse_date_local(match.group(0).strip(" ,-|"), tz, languages)
        if parsed:
            return parsed
    settings = {"REQUIRE_PARTS": ["day", "month", "year"], "RETURN_AS_TIMEZONE_AWARE": False,
                "PARSERS": ["timestamp", "custom-formats", "absolute-time"]}
    try:
        hits = dateparser.search.search_dates(raw, languages=languages or ["en"],
                                              settings=settings)
    except (ValueError, TypeError, OverflowError, KeyError):
        hits = None
    return parse_date_local(hits[0][1], tz) if hits else None


# The headline, the text lines after it (a byline, a dateline, a standfirst) and the few lines
# just before it (a kicker or a date above the headline).
_AFTER_HEADLINE = etree.XPath("following::text()[normalize-space()][position() <= 40]")
_BEFORE_HEADLINE = etree.XPath("preceding::text()[normalize-space()][position() <= 8]")
_HEADINGS = etree.XPath("//h1")
_MAX_LINE = 160  # a longer line, or a paragraph this long, is story text: the zone ends there
_SKIP_PARENTS = frozenset({"script", "style", "noscript", "template"})
_CAPTION = re.compile(r"caption|credit", re.IGNORECASE)


def headline_dates(tree: etree._Element, tz: str | None, languages: list[str] | None,
                   url_day: date | None = None) -> list[ShownDate]:
    """The dates written in the short lines after the headline, then in those just before it,
    in reading order; each says whether a label marks it as an update (or a review...).
    `url_day`, the date in the page's URL, settles "03/10/2023" (day or month first)."""
    heads = _HEADINGS(tree)
    if not heads:
        return []
    # A logo or site name may come first: the headline is the longest of the first few.
    head = max(heads[:3], key=lambda h: len(" ".join("".join(h.itertext()).split())))
    after = []
    read = 0
    standfirst = True
    for node in _AFTER_HEADLINE(head):
        if node.getparent() is None or node.getparent().tag in _SKIP_PARENTS:
            continue
        text = " ".join(str(node).split())
        read += len(text)
        if read > 1500 or _in_long_paragraph(node):
            break  # the story's first paragraph: stop before it
        if len(text) > _MAX_LINE:
            if standfirst and node.getparent().tag != "p":
                standfirst = False  # a summary between headline and byline: skip it
                continue
            break
        after.append((node, text))
    before = []
    for node in reversed(_BEFORE_HEADLINE(head)):  # nearest first, up to a long line
        if node.getparent() is None or node.getparent().tag in _SKIP_PARENTS:
            continue
        text = " ".join(str(node).split())
        if len(text) > _MAX_LINE:
            break
        before.insert(0, (node, text))
    # Each line goes with the one before it in reading order, which may hold its label.
    heading = " ".join("".join(head.itertext()).split())
    reading = [*before, (None, heading), *after]
    previous = {id(node): reading[i - 1][1] if i else "" for i, (node, _) in enumerate(reading)}
    found: list[ShownDate] = []
    for node, text in after + before:
        found += _line_dates(node, text, previous[id(node)], tz, languages, url_day)
    return found


def _in_long_paragraph(node: etree._ElementUnicodeResult) -> bool:
    parent = node.getparent()
    while parent is not None and parent.tag not in ("p", "div", "li", "section", "article"):
        parent = parent.getparent()
    if parent is None or parent.tag != "p":
        return False
    length = 0
    for piece in parent.itertext():
        length += len(piece)
        if length > _MAX_LINE:
            return True
    return False


# Markup that names the date an update: class="updated", itemprop="dateModified".
_UPDATE_MARKUP = re.compile(r"updated|modified", re.IGNORECASE)


def _marked_as_update(element: etree._Element) -> bool:
    for el in (element, element.getparent()):
        if el is None:
            return False
        names = f"{el.get('class') or ''} {el.get('itemprop') or ''}"
        if "publi" in names.lower():
            return False
        if _UPDATE_MARKUP.search(names):
            return True
    return False


def _in_caption(element: etree._Element) -> bool:
    for _ in range(4):
        if element is None:
            return False
        if element.tag in ("figcaption", "figure") or _CAPTION.search(element.get("class") or ""):
            return True
        element = element.getparent()
    return False


def _line_dates(node: etree._ElementUnicodeResult, text: str, previous: str, tz: str | None,
                languages: list[str] | None, url_day: date | None) -> list[ShownDate]:
    parent = node.getparent()
    if parent is None or parent.tag in _SKIP_PARENTS or not HAS_DIGIT_YEAR.search(text) \
            or _in_caption(parent):
        return []
    # "April 26, 2024 Updated on: October 28, 2024": the piece before the label is the
    # publication; a label in the line just before ("<span>Updated</span> <time>…") counts too.
    pieces = _NOT_PUBLISHED_MARK.split(text)
    first_updated = bool(_NOT_PUBLISHED_MARK.search(previous[-40:])) or _marked_as_update(parent)
    attr = parent.get("datetime") if parent.tag == "time" else None
    declared = parse_date_local(attr, tz) if attr else None
    found = []
    for index, piece in enumerate(pieces):
        if not HAS_DIGIT_YEAR.search(piece) or not _DATE_IN_TEXT.search(piece):
            continue  # "Best cameras (2026)": a year, no date; parsing it costs
        parsed = parse_shown(piece, tz, languages)
        if parsed is None:
            continue
        parsed = _settle_day_month(piece, parsed, declared.date() if declared else url_day)
        if declared is not None and (abs((declared.date() - parsed.date()).days) > 1
                                     or declared.date() == parsed.date()):
            # The markup's own datetime: exact, unless it is the text's day in another zone.
            parsed = declared
        found.append(ShownDate(parsed, updated=index > 0 or first_updated))
    return found


_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})\b")


def _settle_day_month(text: str, parsed: datetime, evidence: date | None) -> datetime:
    """"03/10/2023" reads as 10 March or 3 October: the URL's or the markup's date decides."""
    match = _NUMERIC_DATE.search(text)
    if evidence is None or match is None or parsed.date() == evidence:
        return parsed
    first, second = int(match[1]), int(match[2])
    if first <= 12 and second <= 12 and first != second:
        try:
            swapped = parsed.replace(month=parsed.day, day=parsed.month)
        except ValueError:
            return parsed
        if swapped.date() == evidence:
            return swapped
    return parsed


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

"""Dates as the page shows them to a reader: the dateline in the few short lines around the
headline ("Jane Doe · Dec 18, 2025", "Published October 14, 2025", "Updated: Sep 4, 2025"),
and the dates in its byline/dateline elements (`byline_dates`), relative ones included.

This is what a reader (and a human labeller) takes as the article's date. Metadata is often
filled in by the CMS from other clocks: the database row's creation time of a page that was
rewritten and republished, a UTC timestamp that falls on the next day, the modified time
copied into both fields. Story text further down is never read: a date it mentions ("the
minister promised a decision on November 10") is not the publication date.

Reads only the headline zone and the byline elements; `pipeline.extraction.dates` weighs what
it finds against the page's declared dates, and `pipeline.text.dates` parses each written date.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from lxml import etree

from pipeline.text.dates import (
    DATE_IN_TEXT,
    DATE_LABEL,
    HAS_DIGIT_YEAR,
    UPDATED_MARK,
    parse_date,
    parse_relative,
    parse_shown,
)

# A date after these words is not when the article came out: its last edit, its review, the
# print edition it also ran in, a paper's submission, a shop's offer.
_NOT_PUBLISHED_MARK = re.compile(
    rf"{UPDATED_MARK.pattern}|\b(?:reviewed|fact[- ]checked|revised|ausgabe vom|print edition|"
    r"received|accepted|redeem|expires?|valid until)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ShownDate:
    """One date written near the headline."""

    value: datetime  # aware (the page's offset, else the source's zone, else UTC)
    updated: bool  # labelled as an update or a review, not the publication


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
    declared = parse_date(attr, tz) if attr else None
    found = []
    for index, piece in enumerate(pieces):
        if not HAS_DIGIT_YEAR.search(piece) or not DATE_IN_TEXT.search(piece):
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


# --- byline elements ------------------------------------------------------------------------

# Elements that may hold the byline's date: <time>, itemprop=datePublished, and class/id names
# that say date, byline, published, posted, timestamp, meta (datum, fecha in other languages).
# Matched in Python over a lazy walk, which stops at the first few hits: an XPath with
# translate() over every element's attributes cost 20 ms on a large page.
_BYLINE_CLASS = re.compile(r"date|byline|publi|posted|timestamp|meta|datum|fecha")
_SKIP_BYLINE_TAGS = frozenset({"script", "style", "body", "html", "article", "main", "meta",
                               "head", "link", "noscript", "svg", "path"})


def _byline_elements(tree: etree._Element, limit: int = 30) -> Iterator[etree._Element]:
    seen = 0
    for el in tree.iter(tag=etree.Element):
        if el.tag == "time" or el.get("itemprop") == "datePublished" or _BYLINE_CLASS.search(
                f"{el.get('class') or ''} {el.get('id') or ''}".lower()):
            seen += 1
            if seen > limit:
                return
            if el.tag not in _SKIP_BYLINE_TAGS:
                yield el


def byline_dates(tree: etree._Element, tz: str | None, languages: list[str] | None,
                 fetched_at: datetime | None = None) -> list[datetime]:
    """Dates written in the page's byline/dateline elements (not in the article text).

    A relative byline ("3 hours ago", "hier", "Monday") counts back from the fetch time on
    the source's clock; without a fetch time it gives no date."""
    found: list[datetime] = []
    for el in _byline_elements(tree):
        attr = el.get("datetime") or (el.get("content") if el.tag != "meta" else None)
        text = " ".join("".join(el.itertext()).split())
        for raw in (attr, text):
            if not raw or len(raw) > 160:
                continue
            if not HAS_DIGIT_YEAR.search(raw):
                wording = DATE_LABEL.sub("", UPDATED_MARK.split(raw)[0] or raw)
                relative = (parse_relative(wording, fetched_at, tz, languages)
                            if fetched_at and raw is text else None)
                if relative:
                    found.append(relative)
                    break
                continue
            raw = UPDATED_MARK.split(raw)[0] or raw  # "Published X, updated Y" -> X
            parsed = parse_shown(raw, tz, languages)
            if parsed:
                found.append(parsed)
                break
        if len(found) >= 3:
            break
    return found

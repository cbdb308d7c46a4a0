"""Choosing a page's publication and modification dates among all the dates it offers.

The published date is the first usable value of an ordered list of steps (`STEPS`), each with
the `date_source` label it stores; a date must also be plausible (after 1990, not after the
fetch time plus a small skew). In order:

- "override": the source's YAML date selector (`extraction:` in sources.yaml), if set;
- "json-ld", "opengraph", "meta": the dates the page declares (JSON-LD `datePublished`,
  `article:published_time`, Dublin Core, microdata and other `<meta>` names). The date shown
  under the headline replaces one of them when there is a reason to doubt it (`_shown_wins`),
  and is then stored as "headline";
- "headline": the date shown in the lines around the headline (`shown_dates`);
- "trafilatura": trafilatura's metadata guess; a bare day takes its time from a byline date on
  the same day (stored as "byline");
- "byline": the dates written in byline/dateline elements, relative ones ("3 hours ago")
  counted back from the fetch time;
- "feed" / "sitemap": the date discovery found in the feed or sitemap entry;
- "headline-updated": the date shown under the headline labelled as an update, when the page
  shows no other date;
- "htmldate": htmldate's extensive search over the page text.

Discovery's date comes before htmldate's extensive search on purpose: a feed or sitemap date is
declared by the publisher, while the extensive search picks any date the text mentions and
costs a third of the whole extraction on the pages that reach it. A weak date (a 1 January,
usually a footer's "© 2026"; a trafilatura date that is the declared modification day; a
JSON-LD date a template filled in wrongly) is kept only if no step finds a date that is not
weak; the first weak one is then the page's date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cached_property, lru_cache

import htmldate
import htmldate.extractors as htmldate_extractors
from dateparser.date import DateDataParser
from lxml import etree

from pipeline.extraction import declared_dates
from pipeline.extraction.fallback_metadata import TrafilaturaMetadata
from pipeline.extraction.metadata import PageMetadata
from pipeline.extraction.shown_dates import ShownDate, byline_dates, headline_dates
from pipeline.text.dates import (
    MAX_FUTURE_SKEW,
    dateparser_languages,
    parse_date,
    parse_shown,
    plausible_date,
    publisher_clock,
    url_date,
)

_MIDNIGHT = time(0, 0)

# htmldate's settings for trafilatura's date guess; its extensive search is our last step.
TRAFILATURA_DATE_PARAMS = {"original_date": True, "extensive_search": False,
                           "outputformat": "%Y-%m-%d"}


def trafilatura_date_params(fetched_at: datetime | None) -> dict:
    """The settings trafilatura's date guess runs with: no date after the fetch day."""
    return {**TRAFILATURA_DATE_PARAMS, "max_date": _max_date(fetched_at)}


@dataclass(frozen=True, slots=True)
class PageDates:
    """The dates chosen for one page, each in the offset the page wrote (`publisher_clock`,
    `NO_ZONE` when it gave none): its calendar day is the publisher's."""

    published: datetime | None
    modified: datetime | None  # None when it is before the publication
    source: str | None  # the `date_source` label of the step that gave `published`


def choose(page: PageMetadata, guessed: TrafilaturaMetadata, tree: etree._Element, url: str, *,
           tz: str | None, languages: list[str] | None, fetched_at: datetime | None,
           hints: dict) -> PageDates:
    """The page's publication date (and the step that gave it) and its modification date."""
    clues = DateClues(page, guessed, tree, url, tz, languages, fetched_at, hints)
    published_at, source = published(clues)
    modified = clues.modified[0] if clues.modified else None
    if modified and published_at and modified < published_at:
        modified = None
    return PageDates(publisher_clock(published_at), publisher_clock(modified), source)


@dataclass
class DateClues:
    """What one page offers its date steps. The costly readings (the headline zone, the byline
    elements) are made once, and only when a step first needs them: the headline zone's
    dateparser calls are a fifth of extraction time, and a declared date nothing casts doubt
    on needs no second opinion."""

    page: PageMetadata
    guessed: TrafilaturaMetadata
    tree: etree._Element
    url: str
    tz: str | None
    languages: list[str] | None  # the page's language, then the source's
    fetched_at: datetime | None
    hints: dict  # what discovery and the source's selectors found (`extract_article`)

    def plausible(self, values: Iterable[str | datetime]) -> Iterator[datetime]:
        """Each value parsed in the page's languages, if it is a plausible date."""
        for value in values:
            parsed = parse_date(value, self.tz, self.languages)
            if plausible_date(parsed, self.fetched_at):
                yield parsed

    @cached_property
    def url_day(self) -> date | None:
        return url_date(self.url)

    @cached_property
    def modified(self) -> list[datetime]:
        """The page's declared modification dates (in their own offsets), plausible ones only."""
        return list(self.plausible(declared_dates.modified(self.page)))

    @cached_property
    def _shown(self) -> list[ShownDate]:
        return [d for d in headline_dates(self.tree, self.tz, self.languages, self.url_day)
                if plausible_date(d.value, self.fetched_at)]

    @property
    def shown_published(self) -> datetime | None:
        """The first date shown around the headline that is not labelled an update."""
        return next((d.value for d in self._shown if not d.updated), None)

    @property
    def shown_updated(self) -> datetime | None:
        return next((d.value for d in self._shown if d.updated), None)

    @cached_property
    def byline(self) -> list[datetime]:
        return byline_dates(self.tree, self.tz, self.languages, self.fetched_at)

    @cached_property
    def doubtful_jsonld(self) -> bool:
        return declared_dates.doubtful_jsonld(self.page, self.tz, self.languages)


@dataclass(frozen=True, slots=True)
class Found:
    """A publication date a step offers."""

    value: datetime
    weak: bool = False  # likely wrong: kept only if no step finds a date that is not weak
    credit: str | None = None  # the label of the step whose reader gave the value, if another


@dataclass(frozen=True, slots=True)
class Step:
    """One source of a publication date, and the `date_source` label it stores."""

    label: str
    find: Callable[[DateClues], Iterator[Found]]


def published(clues: DateClues) -> tuple[datetime | None, str | None]:
    """The first date a step finds that is not weak, with its label; else the first weak one."""
    fallback: tuple[datetime | None, str | None] = (None, None)
    for step in STEPS:
        for found in step.find(clues):
            if not found.weak:
                return found.value, found.credit or step.label
            if fallback[0] is None:
                fallback = (found.value, found.credit or step.label)
    return fallback


def _new_year(value: datetime) -> bool:
    """1 January: most often a footer's "© 2026" read as a date."""
    return (value.month, value.day) == (1, 1)


def _override(clues: DateClues) -> Iterator[Found]:
    """What the source's date selector found, read as a date written for readers."""
    value = clues.hints.get("override_date")
    parsed = parse_shown(value, clues.tz, clues.languages) if value else None
    if plausible_date(parsed, clues.fetched_at):
        yield Found(parsed)


def _json_ld(clues: DateClues) -> Iterator[Found]:
    """JSON-LD's dates; weak when the template filled them in wrongly (`doubtful_jsonld`)."""
    for parsed in clues.plausible(declared_dates.jsonld_published(clues.page)):
        yield Found(parsed, weak=True) if clues.doubtful_jsonld else _declared(clues, parsed)


def _opengraph(clues: DateClues) -> Iterator[Found]:
    for parsed in clues.plausible(declared_dates.opengraph_published(clues.page)):
        yield _declared(clues, parsed)


def _meta(clues: DateClues) -> Iterator[Found]:
    for parsed in clues.plausible(declared_dates.meta_published(clues.page)):
        yield _declared(clues, parsed)


def _headline(clues: DateClues) -> Iterator[Found]:
    """The date shown around the headline, when nothing declared one."""
    shown = clues.shown_published
    for parsed in clues.plausible([shown] if shown else []):
        yield Found(parsed, weak=_new_year(parsed))


def _trafilatura(clues: DateClues) -> Iterator[Found]:
    """trafilatura's guess: weak on the declared modification day or on a 1 January."""
    guessed = clues.guessed.date
    for parsed in clues.plausible([guessed] if guessed else []):
        if parsed.date() in {m.date() for m in clues.modified} or _new_year(parsed):
            yield Found(parsed, weak=True)  # the modification day, or a footer's year
        elif parsed.time() == _MIDNIGHT and (timed := next(
                (d for d in clues.byline if d.date() == parsed.date()), None)):
            yield Found(timed, credit="byline")  # a bare day: the byline gives its time
        else:
            yield Found(parsed)


def _byline(clues: DateClues) -> Iterator[Found]:
    """The dates in byline/dateline elements, in page order."""
    for parsed in clues.plausible(clues.byline):
        yield Found(parsed, weak=_new_year(parsed))


def _discovered(via: str) -> Callable[[DateClues], Iterator[Found]]:
    """The feed's or sitemap's date for the page, when discovery came `via` that (feed when it
    does not say). Parsed without the page's languages: discovery's dates are not the page's."""
    def find(clues: DateClues) -> Iterator[Found]:
        hints = clues.hints
        if ("sitemap" if hints.get("via") == "sitemap" else "feed") != via:
            return
        hinted = hints.get("published") or hints.get("published_at")
        parsed = parse_date(hinted, clues.tz) if hinted else None
        if plausible_date(parsed, clues.fetched_at):
            yield Found(parsed)
    return find


def _headline_updated(clues: DateClues) -> Iterator[Found]:
    if (updated := clues.shown_updated) is not None:  # the page shows only its last update
        yield Found(updated)


def _htmldate_search(clues: DateClues) -> Iterator[Found]:
    """Any date in the page's text: slow, and the most likely to pick a date the article merely
    mentions, hence last. A 1 January here is dropped, not kept as a weak date."""
    for value in _htmldate(clues.tree, clues.fetched_at, clues.languages):
        parsed = parse_date(value, clues.tz, clues.languages)
        if plausible_date(parsed, clues.fetched_at) and not _new_year(parsed):
            yield Found(parsed)


STEPS = (
    Step("override", _override),
    Step("json-ld", _json_ld),
    Step("opengraph", _opengraph),
    Step("meta", _meta),
    Step("headline", _headline),
    Step("trafilatura", _trafilatura),
    Step("byline", _byline),
    Step("feed", _discovered("feed")),
    Step("sitemap", _discovered("sitemap")),
    Step("headline-updated", _headline_updated),
    Step("htmldate", _htmldate_search),
)


# --- declared dates against the shown one ------------------------------------------------------

def _declared(clues: DateClues, declared: datetime) -> Found:
    """A date the page's metadata declares, or instead the date shown around its headline when
    there is a reason to doubt the declared one."""
    if _may_be_doubted(declared, clues) and (shown := clues.shown_published) is not None \
            and _shown_wins(shown, declared, clues):
        return Found(shown, credit="headline")
    return Found(declared)


def _may_be_doubted(declared: datetime, clues: DateClues) -> bool:
    """Whether any reason `_shown_wins` weighs can hold for this declared date, whatever the
    page shows: if none can, the shown date need not be looked up."""
    if clues.url_day is not None:
        return declared.date() != clues.url_day
    if clues.modified:
        return True
    return any((p := parse_date(v, clues.tz, clues.languages)) and p.date() != declared.date()
               for v in declared_dates.all_published(clues.page))


def _shown_wins(shown: datetime, declared: datetime, clues: DateClues) -> bool:
    """Whether the date the page shows under its headline replaces its declared publication
    date, which the CMS often fills from another clock. Only with a reason to doubt the
    declared one: the URL's date sides with the shown day (a UTC timestamp past midnight);
    the declared "published" is also the declared "modified" time (one timestamp copied into
    both, perhaps with another offset), or later than it; another declared publication date
    says the shown day; or, off news pages, the shown day is the declared modification day
    (a template printing the last edit as the page's date)."""
    gap = abs((shown.date() - declared.date()).days)
    if gap == 0:
        return False
    if clues.url_day is not None:
        return shown.date() == clues.url_day != declared.date()
    modified = clues.modified
    if any(declared >= m or declared.replace(tzinfo=None) == m.replace(tzinfo=None)
           for m in modified):
        return True
    if gap == 1:
        return False  # the same instant seen from two zones, most likely
    if any((p := parse_date(v, clues.tz, clues.languages)) and p.date() == shown.date()
           for v in declared_dates.all_published(clues.page)):
        return True
    return not clues.page.is_news_article and shown.date() in {m.date() for m in modified}


# --- htmldate's extensive search ------------------------------------------------------------

def _max_date(fetched_at: datetime | None) -> str:
    reference = fetched_at or datetime.now(UTC)
    return (reference + MAX_FUTURE_SKEW).strftime("%Y-%m-%d")


def _htmldate(tree: etree._Element, fetched_at: datetime | None,
              languages: list[str] | None = None) -> list[str]:
    # htmldate's last resort hands text to a dateparser parser that tries every locale it
    # knows (200+), which cost 0.6 s on some pages; ours knows the page's language.
    original = htmldate_extractors.get_external_parser
    htmldate_extractors.get_external_parser = lambda: _external_parser(
        dateparser_languages(languages) or ("en",))
    try:
        found = htmldate.find_date(tree, extensive_search=True, original_date=True,
                                   max_date=_max_date(fetched_at))
    except (ValueError, TypeError):
        return []
    finally:
        htmldate_extractors.get_external_parser = original
    return [found] if found else []


@lru_cache(maxsize=32)
def _external_parser(languages: tuple[str, ...]) -> DateDataParser:
    """htmldate's own dateparser settings, limited to the page's languages."""
    settings = {"NORMALIZE": True, "PARSERS": ["custom-formats", "absolute-time"],
                "PREFER_DATES_FROM": "past", "PREFER_LOCALE_DATE_ORDER": True,
                "RETURN_AS_TIMEZONE_AWARE": False, "STRICT_PARSING": True}
    return DateDataParser(languages=list(languages), settings=settings)

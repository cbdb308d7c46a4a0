"""HTML page -> `Article`: trafilatura for the body, the page's structured metadata for the rest.

The page is parsed once (trafilatura's own loader, so its decoding and repairs apply); the
metadata harvest reads that tree, then trafilatura extracts the body from it (it takes its own
copy). trafilatura's metadata guesses are worked out from the same tree only when a step below
falls back to them (`fallback_metadata`).

Field reconciliation, first usable value wins (a date must also be plausible: after 1990, not
after the fetch time plus a small skew):

0. the source's YAML selectors (`extraction:` in sources.yaml, `pipeline.sources.overrides`), if set
1. JSON-LD (the page's article object, `@graph` flattened)
2. `article:*` / OpenGraph
3. Dublin Core, microdata `itemprop`, and other `<meta>` names (`author`, `pubdate`, parsely...)
4. trafilatura's own metadata guess
5. the visible byline (dateparser, any language: "Publié le 12 mars 2026 à 14h30")
6. discovery hints (a feed item's or sitemap's date)
7. htmldate's extensive search over the page text (dates only)

For the published date, the date shown in the lines around the headline
(`shown_dates`) comes before trafilatura's guess, and replaces a declared date (1-3)
when there is a reason to doubt that one (`_shown_wins`); a trafilatura date that is the page's
declared modification day is kept for the end.

Hints come before htmldate's extensive search on purpose: a feed or sitemap date is declared by
the publisher, while the extensive search picks any date the text mentions and costs a third of
the whole extraction on the pages that reach it.

`date_source` records which step gave `published_at`: "override", "json-ld", "opengraph", "meta",
"trafilatura", "byline", "feed"/"sitemap", "htmldate".
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from functools import lru_cache
from importlib.metadata import version
from itertools import chain
from urllib.parse import urljoin, urlsplit

import charset_normalizer
import htmldate
import htmldate.extractors as htmldate_extractors
import trafilatura
from dateparser.date import DateDataParser
from lxml import etree
from trafilatura.utils import load_html
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

from pipeline.article import Article
from pipeline.errors import NewsdeskError
from pipeline.extraction import app_state, provenance, titles
from pipeline.extraction import authors as author_steps
from pipeline.extraction import body as body_rules
from pipeline.extraction import boilerplate as bp
from pipeline.extraction import shown_dates as sd
from pipeline.extraction.fallback_metadata import TrafilaturaMetadata
from pipeline.extraction.metadata import PageMetadata, harvest, ld_strings
from pipeline.sources import overrides as ov
from pipeline.sources.config import Source
from pipeline.text.cleaning import clean_body, content_hash, normalise_language, word_count
from pipeline.text.dates import (
    MAX_FUTURE_SKEW,
    parse_date_local,
    parse_relative,
    plausible_date,
    to_utc,
)
from pipeline.text.names import name_key
from pipeline.text.urls import amp_to_canonical, canonical_url, registered_domain, same_site

EXTRACTOR_VERSION = f"1.3.0+trafilatura{version('trafilatura')}"

MIN_WORDS = 20  # fewer words than this is a stub, a teaser or an error page, not an article


class NotAnArticle(NewsdeskError):
    """The page holds no article body (too short, script-only, an index page)."""


# --- date steps -----------------------------------------------------------------------------

_OG_PUBLISHED = ("article:published_time", "og:published_time", "og:article:published_time",
                 "article:published", "article.published")
_META_PUBLISHED = (
    "dc.date.issued", "dcterms.issued", "dc.date.created", "dcterms.created", "dc.date",
    "dcterms.date", "citation_publication_date", "datepublished", "pubdate", "publishdate",
    "publish-date", "publish_date", "date", "sailthru.date", "parsely-pub-date",
    "cxenseparse:recs:publishtime", "original-publish-date", "article_date_original",
    "published_time", "published-date", "release_date", "created",
)
_OG_MODIFIED = ("article:modified_time", "og:updated_time", "article:modified",
                "og:modified_time")
_META_MODIFIED = ("dc.date.modified", "dcterms.modified", "datemodified", "last-modified",
                  "lastmod", "modified", "revised", "article.updated")
_MIDNIGHT = time(0, 0)
_DATE_PARAMS = {"original_date": True, "extensive_search": False, "outputformat": "%Y-%m-%d"}

# Elements that may hold the byline's date: <time>, itemprop=datePublished, and class/id names
# that say date, byline, published, posted, timestamp, meta (datum, fecha in other languages).
# Matched in Python over a lazy walk, which stops at the first few hits: an XPath with
# translate() over every element's attributes cost 20 ms on a large page.
_BYLINE_CLASS = re.compile(r"date|byline|publi|posted|timestamp|meta|datum|fecha")
_SKIP_BYLINE_TAGS = frozenset({"script", "style", "body", "html", "article", "main", "meta",
                               "head", "link", "noscript", "svg", "path"})


def _byline_elements(tree: etree._Element, limit: int = 30):
    seen = 0
    for el in tree.iter(tag=etree.Element):
        if el.tag == "time" or el.get("itemprop") == "datePublished" or _BYLINE_CLASS.search(
                f"{el.get('class') or ''} {el.get('id') or ''}".lower()):
            seen += 1
            if seen > limit:
                return
            if el.tag not in _SKIP_BYLINE_TAGS:
                yield el


# --- paywall markers ------------------------------------------------------------------------

# Paywall boxes: class/id naming one, or a data-paywall attribute (walked in Python, and only
# when the markup mentions one at all; see `_parse`).
_PAYWALL_CLASS = re.compile(r"pay-?wall|subscriber-only|premium-lock", re.IGNORECASE)


def _paywall_boxes(tree: etree._Element, limit: int = 10) -> list[etree._Element]:
    found = []
    for el in tree.iter(tag=etree.Element):
        attrs = el.attrib
        if attrs and ("data-paywall" in attrs or _PAYWALL_CLASS.search(
                f"{attrs.get('class') or ''} {attrs.get('id') or ''}")):
            found.append(el)
            if len(found) >= limit:
                break
    return found


_PAYWALL_TEXT = re.compile(
    r"subscri|abonn|abo\b|register to|sign in to (?:read|continue)|members only|"
    r"premium|réservé aux abonnés|nur für abonnenten", re.IGNORECASE)


def extract_article(html: str | bytes, url: str, *, source: Source | None = None,
                    fetched_at: datetime | None = None, hints: dict | None = None,
                    boilerplate: frozenset[str] | None = None,
                    title_affixes: tuple[tuple[str, str], ...] | None = None) -> Article:
    """Extract one article page.

    `hints` is what discovery knew: `published` (ISO string or datetime), `title`, `authors`,
    `via` ("feed" or "sitemap", default "feed"), `content_type` (the HTTP header, for decoding
    bytes). `source.extraction` holds the source's selector overrides (`sources.overrides`);
    `boilerplate` the keys of lines learned as the source's furniture (`boilerplate`),
    removed from the body; `title_affixes` its learned title prefixes and suffixes
    (`title_affixes`), removed from the title. Raises `NotAnArticle` when the page has
    no article body.
    """
    hints = hints or {}
    tz = source.timezone if source else None
    if fetched_at is not None:
        fetched_at = to_utc(fetched_at)
    tree, may_be_paywalled = _parse(html, hints.get("content_type"), url)
    rules = source.extraction if source is not None and not source.extraction.empty else None
    if rules:
        ov.drop(tree, rules)
        hints = {**hints, **_override_hints(tree, rules)}
    page = harvest(tree)
    site_names = _site_names(page, url, source)
    _drop_consent_banners(tree)

    date_params = {**_DATE_PARAMS, "max_date": _max_date(fetched_at)}
    if hints.get("override_body"):
        text = hints["override_body"]
    else:
        text = body_rules.prefer_publisher_body(
            _trafilatura(tree, url, date_params), _article_body(page), _app_state_body(tree),
            min_words=MIN_WORDS)
    if not text.strip():
        raise NotAnArticle(f"{url}: no article text found on the page")
    guessed = TrafilaturaMetadata(tree, url, date_params)

    section = _section(page, tree)
    title = titles.choose(page, site_names=site_names, section=section,
                          fallbacks=(lambda: guessed.title, lambda: hints.get("title")),
                          override=hints.get("override_title"), learned=title_affixes or ())
    body = _body(text, title)
    removed = 0
    if boilerplate:
        body, removed = bp.strip_lines(body, boilerplate)
    words = word_count(body)
    if words < MIN_WORDS:
        raise NotAnArticle(f"{url}: article text too short ({words} words, minimum {MIN_WORDS})")
    if _looks_like_index(page, tree, body):
        raise NotAnArticle(f"{url}: looks like an index page (body is mostly link texts)")

    language = _language(page, source, body)
    # The page's language, then the source's (a byline may keep the site's language).
    languages = list(dict.fromkeys(x for x in (language, source.language if source else None)
                                   if x)) or None
    published_local, date_source = _published(page, guessed, tree, url, tz, languages,
                                                fetched_at, hints)
    published = to_utc(published_local) if published_local else None
    modified = _modified(page, tz, fetched_at)
    if modified and published and modified < published:
        modified = None

    authors = author_steps.reconcile(page, guessed, tree, hints, site_names)
    return Article(
        url=url,
        canonical_url=_canonical(page, url),
        source=source.name if source else None,
        title=title,
        description=_description(page, guessed),
        authors=authors,
        published_at=published,
        modified_at=modified,
        date_source=date_source,
        language=language,
        section=section,
        tags=_tags(page),
        image_url=_image(page, guessed, tree, url),
        body=body,
        word_count=words,
        is_paywalled=_paywalled(page, tree, may_be_paywalled),
        content_hash=content_hash(body),
        fetched_at=fetched_at,
        extractor_version=EXTRACTOR_VERSION,
        # published_local: the date in the offset the page declared (its calendar day).
        extras={"jsonld_types": page.jsonld_types, "published_local": published_local,
                "boilerplate_removed": removed,
                # dedupe's explicit original signals (cross-site canonical, credit, wire byline)
                **provenance.signals(tree, page, url, authors)},
    )


def _trafilatura(tree: etree._Element, url: str, date_params: dict) -> str:
    """trafilatura's body text ("" when it finds none); when its balanced mode finds no body
    (or a stub), once more favouring recall: some layouts (product roundups, page builders)
    only yield to that mode, and a page that yields nothing either way costs the retry only.
    Without its metadata: `TrafilaturaMetadata` guesses that only where our steps need it."""
    options = {"url": url, "with_metadata": False, "include_comments": False,
               "include_tables": True, "date_extraction_params": date_params}
    doc = trafilatura.bare_extraction(tree, **options)
    text = (doc.text or "") if doc is not None else ""
    if word_count(text) < MIN_WORDS:
        retry = trafilatura.bare_extraction(tree, favor_recall=True, **options)
        if retry is not None and word_count(retry.text or "") > word_count(text):
            return retry.text
    return text


def _article_body(page: PageMetadata) -> str | None:
    found = "\n".join(ld_strings(page.ld("articleBody")))
    return body_rules.article_body_text(found) if found else None


def _app_state_body(tree: etree._Element) -> str | None:
    found = app_state.story_html(tree)
    return body_rules.article_body_text(found) if found else None


# Substrings whose absence from the markup means no paywall box (plain `in`: a case-blind regex
# over the whole page cost 5 ms).
_PAYWALL_MARKUP = ("aywall", "ayWall", "AYWALL", "ay-wall", "subscriber-only", "premium-lock")


def _parse(html: str | bytes, content_type: str | None,
           url: str) -> tuple[etree._Element, bool]:
    """Decode (HTTP header, BOM, declared charset, then detection) and parse once. Also says
    whether the markup mentions a paywall class at all: one scan of the text is far cheaper
    than looking for one on every element."""
    if isinstance(html, bytes):
        if html[:2] == b"\x1f\x8b":
            try:
                html = gzip.decompress(html)
            except (OSError, EOFError):
                raise NotAnArticle(f"{url}: gzip-compressed body is corrupt") from None
        html = _decode(html, content_type)
    tree = load_html(html) if html and html.strip() else None
    if tree is None:
        raise NotAnArticle(f"{url}: empty or unparsable HTML")
    return tree, any(marker in html for marker in _PAYWALL_MARKUP)


def _override_hints(tree: etree._Element, rules: ov.ExtractionOverrides) -> dict:
    """What the source's selectors find, read before trafilatura (which prunes its copy)."""
    found: dict = {}
    if rules.title:
        found["override_title"] = ov.first_text(tree, rules.title, "content")
    if rules.date:
        found["override_date"] = ov.first_text(tree, rules.date, "datetime", "content")
    if rules.author:
        found["override_authors"] = ov.all_texts(tree, rules.author)
    if rules.body:
        found["override_body"] = ov.body_text(tree, rules.body)
    return {k: v for k, v in found.items() if v}


# Cookie/consent dialogs are the longest text block on a page with little else (live blogs,
# video pages): trafilatura's fallback would then return the banner as the article.
# Walked in Python over the block tags that hold banners: an EXSLT regex (or contains()) XPath
# over every block's attributes cost 1.5-2 ms a page, this under 1 ms.
_CONSENT_WORD = re.compile(r"(^|[\s_-])(cookies?|consent|gdpr)([\s_-]|$)", re.IGNORECASE)


def _consent_banners(tree: etree._Element) -> list[etree._Element]:
    found = []
    for el in tree.iter("div", "section", "aside", "dialog", "form"):
        attrs = el.attrib
        if attrs and _CONSENT_WORD.search(
                f" {attrs.get('id') or ''} {attrs.get('class') or ''} "
                f"{attrs.get('aria-label') or ''}"):
            found.append(el)
    return found


def _drop_consent_banners(tree: etree._Element) -> None:
    for element in _consent_banners(tree):
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)


def _decode(data: bytes, content_type: str | None) -> str:
    """Decode with the first candidate the bytes really are in: a BOM, the HTTP header's charset,
    UTF-8 (pages often declare a legacy charset they no longer use), the page's own declaration;
    else detection (charset_normalizer). Strict decoding is the test: a server that labels
    windows-1251 as UTF-8 must not win with a page of replacement characters."""
    bom_encoding, bom = read_bom(data)
    if bom_encoding:
        return data[len(bom):].decode(bom_encoding, errors="replace")
    header = http_content_type_encoding(content_type) if content_type else None
    for candidate in (header, "utf-8", html_body_declared_encoding(data)):
        if candidate:
            try:
                return data.decode(candidate)
            except (UnicodeDecodeError, LookupError):
                continue
    best = charset_normalizer.from_bytes(data[:200_000]).best()  # a sample is enough to tell
    return data.decode(best.encoding if best else "cp1252", errors="replace")


def _max_date(fetched_at: datetime | None) -> str:
    reference = fetched_at or datetime.now(UTC)
    return (reference + MAX_FUTURE_SKEW).strftime("%Y-%m-%d")


# --- fields ---------------------------------------------------------------------------------


def _site_names(page: PageMetadata, url: str, source: Source | None) -> list[str]:
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    names = [*page.all("og:site_name", "application-name", "twitter:site"),
             *page.publisher_names, registered_domain(url), host]
    if source:
        names.append(source.name)
    return [n.lstrip("@") for n in names if n]


def _body(text: str, title: str | None) -> str:
    body = clean_body(text)
    if title and body:
        first, _, rest = body.partition("\n")
        if name_key(first) == name_key(title):
            body = rest
    return body_rules.strip_edge_promos(body_rules.drop_placeholder_lines(body))


def _language(page: PageMetadata, source: Source | None, body: str) -> str | None:
    declared = (normalise_language(page.html_lang)
                or normalise_language(next(iter(ld_strings(page.ld("inLanguage"))), None))
                or normalise_language(page.first("og:locale", "content-language",
                                                    "dc.language", "language")))
    guessed = guess_language(body)
    if declared and guessed and guessed != declared:
        return guessed  # a template's default lang="en" on a German page, say
    return declared or guessed or (source.language if source else None)


# Frequent function words, for a cheap check of the declared language (no model needed).
_STOPWORDS = {
    "en": "the and of to in is that for it with was on as are be this by have from",
    "fr": "le la les des est et un une du que dans pour pas qui sur au avec il elle",
    "de": "der die und das ist nicht den von zu mit sich des auf für ein eine dem im",
    "es": "el la los las de que y en un una es por con para del se al lo",
    "it": "il di che la è e un una per non del della con sono gli le si nel",
    "pt": "o a os as de que e do da em um uma para com não no na se por",
    "nl": "de het een en van is dat in op te zijn niet met voor die er",
    "sv": "och att det som en på är av för med till den inte har om ett",
    "da": "og i at det er en til på af for med som ikke den har de",
    "no": "og i det som er en til på av for med at ikke den har de",
    "pl": "i w na nie się z że do to jest jak o po co ale od",
    "tr": "ve bir bu da de için ile çok olarak daha gibi ne ama",
}
_STOPSETS = {lang: frozenset(words.split()) for lang, words in _STOPWORDS.items()}


def guess_language(text: str) -> str | None:
    """The language whose function words dominate `text`, when clearly so; else None."""
    tokens = re.findall(r"\w+", text[:5000].casefold())
    if len(tokens) < 30:
        return None
    counts = Counter(tokens)  # counted once, in C: scoring each language token by token cost 2 ms
    scores = {lang: sum(counts[w] for w in words) for lang, words in _STOPSETS.items()}
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top >= 0.12 * len(tokens) and top >= 2 * second:
        return best
    return None


def _published(page: PageMetadata, guessed: TrafilaturaMetadata, tree: etree._Element,
               url: str, tz: str | None, languages: list[str] | None,
               fetched_at: datetime | None, hints: dict) -> tuple[datetime | None, str | None]:
    url_day = sd.url_date(url)
    looked_up: list[tuple[datetime | None, datetime | None]] = []

    def shown() -> tuple[datetime | None, datetime | None]:
        """(published, updated) as shown under the headline. Looked up only when needed: its
        dateparser calls are a fifth of extraction time, and a declared date nothing casts
        doubt on needs no second opinion."""
        if not looked_up:
            dates = [d for d in sd.headline_dates(tree, tz, languages, url_day)
                     if plausible_date(d.value, fetched_at)]
            looked_up.append((next((d.value for d in dates if not d.updated), None),
                              next((d.value for d in dates if d.updated), None)))
        return looked_up[0]

    modified = _declared_modified(page, tz, fetched_at)
    is_news = page.is_news_article
    steps = [
        ("override", lambda: [hints["override_date"]] if hints.get("override_date") else []),
        ("json-ld", lambda: ld_strings(page.ld("datePublished"))
         + ld_strings(page.ld("dateCreated"))),
        ("opengraph", lambda: page.all(*_OG_PUBLISHED)),
        ("meta", lambda: page.all(*_META_PUBLISHED) + page.itemprops.get("datePublished", [])),
        ("byline", lambda: [shown()[0]] if shown()[0] else []),
        ("trafilatura", lambda: [guessed.date] if guessed.date else []),
        ("byline", lambda: byline()),
    ]
    found: list[list[datetime]] = []

    def byline() -> list[datetime]:  # computed once, used by two steps
        if not found:
            found.append(_byline_dates(tree, tz, languages, fetched_at))
        return found[0]

    weak: tuple[datetime | None, str | None] = (None, None)
    doubtful_ld = _doubtful_jsonld_dates(page, tz, languages)
    for label, values in steps:
        for value in values():
            parsed = (sd.parse_shown(value, tz, languages) if label == "override"
                      else parse_date_local(value, tz, languages))
            if not plausible_date(parsed, fetched_at):
                continue
            if label == "json-ld" and doubtful_ld:
                weak = weak if weak[0] else (parsed, label)
                continue
            if label in ("json-ld", "opengraph", "meta") and _may_be_doubted(
                    parsed, page, modified, url_day, tz, languages) \
                    and (shown_published := shown()[0]) is not None \
                    and _shown_wins(shown_published, parsed, page, modified, url_day, is_news,
                                    tz, languages):
                return shown_published, "byline"
            if label == "trafilatura" and parsed.date() in {m.date() for m in modified}:
                weak = weak if weak[0] else (parsed, label)
                continue
            if label in ("trafilatura", "htmldate", "byline") and (parsed.month,
                                                                   parsed.day) == (1, 1):
                # htmldate's last resort is often the footer's "© 2026": keep it for the end.
                weak = weak if weak[0] else (parsed, label)
                continue
            if label == "trafilatura" and parsed.time() == _MIDNIGHT:
                # A bare day; the byline may give the time on that same day.
                for precise in byline():
                    precise = parse_date_local(precise, tz)
                    if precise and precise.date() == parsed.date():
                        return precise, "byline"
            return parsed, label
    hinted = hints.get("published") or hints.get("published_at")
    parsed = parse_date_local(hinted, tz) if hinted else None
    if plausible_date(parsed, fetched_at):
        via = hints.get("via") if hints.get("via") in ("feed", "sitemap") else "feed"
        return parsed, via
    if (shown_updated := shown()[1]) is not None:  # the page shows only its last update
        return shown_updated, "byline"
    # Last, htmldate's extensive search: any date in the page's text (slow, and the most likely
    # to pick a date the article merely mentions, hence after what the publisher declared).
    for value in _htmldate(tree, fetched_at, languages):
        parsed = parse_date_local(value, tz, languages)
        if plausible_date(parsed, fetched_at) and (parsed.month, parsed.day) != (1, 1):
            return parsed, "htmldate"
    return weak


def _declared_published(page: PageMetadata) -> list[str]:
    return (ld_strings(page.ld("datePublished")) + page.all(*_OG_PUBLISHED)
            + page.all(*_META_PUBLISHED) + page.itemprops.get("datePublished", []))


def _may_be_doubted(declared: datetime, page: PageMetadata, modified: list[datetime],
                    url_day: date | None, tz: str | None, languages: list[str] | None) -> bool:
    """Whether any reason `_shown_wins` weighs can hold for this declared date, whatever the
    page shows: if none can, the shown date need not be looked up."""
    if url_day is not None:
        return declared.date() != url_day
    if modified:
        return True
    return any((p := parse_date_local(v, tz, languages)) and p.date() != declared.date()
               for v in _declared_published(page))


def _shown_wins(shown: datetime, declared: datetime, page: PageMetadata,
                modified: list[datetime], url_day: date | None, is_news: bool,
                tz: str | None, languages: list[str] | None) -> bool:
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
    if url_day is not None:
        return shown.date() == url_day != declared.date()
    if any(declared >= m or declared.replace(tzinfo=None) == m.replace(tzinfo=None)
           for m in modified):
        return True
    if gap == 1:
        return False  # the same instant seen from two zones, most likely
    if any((p := parse_date_local(v, tz, languages)) and p.date() == shown.date()
           for v in _declared_published(page)):
        return True
    return not is_news and shown.date() in {m.date() for m in modified}


_ISO_LIKE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")


def _doubtful_jsonld_dates(page: PageMetadata, tz: str | None,
                           languages: list[str] | None) -> bool:
    """JSON-LD dates a template filled in wrongly: published on a later day than modified, or
    the same display string ("Jun 24, 2025", not ISO 8601) in both, which is the page's
    "last updated" line copied into both. Such a datePublished is used only if nothing else
    gives a date."""
    published = ld_strings(page.ld("datePublished"))
    modified = ld_strings(page.ld("dateModified"))
    if not published or not modified:
        return False
    pub = parse_date_local(published[0], tz, languages)
    mod = parse_date_local(modified[0], tz, languages)
    if pub is None or mod is None:
        return False
    if pub.date() > mod.date():
        return True
    return pub == mod and not _ISO_LIKE.match(published[0])


def _declared_modified(page: PageMetadata, tz: str | None,
                       fetched_at: datetime | None) -> list[datetime]:
    """The page's declared modification dates (in their own offsets), plausible ones only."""
    values = (ld_strings(page.ld("dateModified")) + page.all(*_OG_MODIFIED)
              + page.all(*_META_MODIFIED) + page.itemprops.get("dateModified", []))
    return [parsed for parsed in (parse_date_local(v, tz) for v in values)
            if plausible_date(parsed, fetched_at)]


def _modified(page: PageMetadata, tz: str | None, fetched_at: datetime | None) -> datetime | None:
    declared = _declared_modified(page, tz, fetched_at)
    return to_utc(declared[0]) if declared else None


def _byline_dates(tree: etree._Element, tz: str | None, languages: list[str] | None,
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
            if not sd.HAS_DIGIT_YEAR.search(raw):
                wording = sd.DATE_LABEL.sub("", sd.UPDATED_MARK.split(raw)[0] or raw)
                relative = (parse_relative(wording, fetched_at, tz, languages)
                            if fetched_at and raw is text else None)
                if relative:
                    found.append(relative)
                    break
                continue
            raw = sd.UPDATED_MARK.split(raw)[0] or raw  # "Published X, updated Y" -> X
            parsed = sd.parse_shown(raw, tz, languages)
            if parsed:
                found.append(parsed)
                break
        if len(found) >= 3:
            break
    return found


def _htmldate(tree: etree._Element, fetched_at: datetime | None,
              languages: list[str] | None = None) -> list[str]:
    # htmldate's last resort hands text to a dateparser parser that tries every locale it
    # knows (200+), which cost 0.6 s on some pages; ours knows the page's language.
    original = htmldate_extractors.get_external_parser
    htmldate_extractors.get_external_parser = lambda: _external_parser(tuple(languages or ["en"]))
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
    try:
        return DateDataParser(languages=list(languages), settings=settings)
    except ValueError:  # a language dateparser does not know
        return DateDataParser(languages=["en"], settings=settings)


def _canonical(page: PageMetadata, url: str) -> str:
    for candidate in (*page.links.get("canonical", []), page.first("og:url"),
                      *ld_strings(page.ld("url"))):
        if candidate:
            absolute = urljoin(url, candidate.strip())
            if same_site(absolute, url):
                return canonical_url(absolute)
    return canonical_url(amp_to_canonical(url))


def _description(page: PageMetadata, guessed: TrafilaturaMetadata) -> str | None:
    declared = (*ld_strings(page.ld("description")), page.first("og:description"),
                page.first("description", "dc.description", "twitter:description"))
    for value in chain(declared, _lazily(lambda: guessed.description)):
        if value and value.strip():
            return " ".join(value.split())
    return None


def _lazily(value: Callable[[], str | None]) -> Iterator[str | None]:
    """A last candidate that costs nothing unless the ones before it all fail."""
    yield value()


# A breadcrumb trail ("Home > World > ..."), named in English or French ("fil d'Ariane"), by
# class, id or aria-label; "readcrumb" matches "Breadcrumb" and "breadcrumbs" alike.
_XP_BREADCRUMB_LINKS = etree.XPath(
    "(//*[contains(concat(@class, ' ', @id, ' ', @aria-label), 'readcrumb')"
    " or contains(concat(@class, ' ', @id), 'ariane')])[1]//a")
# The lead picture: the first figure after the headline (a page without og:image still has one).
_XP_LEAD_IMAGE = etree.XPath("(//h1/following::figure//img[@src or @data-src])[1]")


def _section(page: PageMetadata, tree: etree._Element) -> str | None:
    for value in (page.first("article:section"), *ld_strings(page.ld("articleSection")),
                  page.first("section", "parsely-section", "category")):
        if value and value.strip():
            return " ".join(value.split())
    return _breadcrumb_section(tree)


def _lead_image(tree: etree._Element) -> Iterator[str | None]:
    """The first figure's picture after the headline, looked up only when asked for."""
    for img in _XP_LEAD_IMAGE(tree):
        yield img.get("src") or img.get("data-src")


def _breadcrumb_section(tree: etree._Element) -> str | None:
    """The breadcrumb's deepest link that is not the home page: the article's section."""
    for link in reversed(_XP_BREADCRUMB_LINKS(tree)):
        text = " ".join(link.text_content().split())
        if text and len(text) <= 40 and urlsplit(link.get("href", "")).path.strip("/"):
            return text
    return None


def _tags(page: PageMetadata) -> list[str]:
    raw = [*page.all("article:tag"), *ld_strings(page.ld("keywords")),
           *page.all("news_keywords", "keywords", "parsely-tags")]
    tags: list[str] = []
    seen: set[str] = set()
    for value in raw:
        for tag in re.split(r"\s*[,;]\s*", value):
            tag = " ".join(tag.split())
            if tag and len(tag) <= 80 and tag.casefold() not in seen:
                seen.add(tag.casefold())
                tags.append(tag)
    return tags


def _image(page: PageMetadata, guessed: TrafilaturaMetadata, tree: etree._Element,
           url: str) -> str | None:
    declared = (page.first("og:image", "og:image:url", "og:image:secure_url"),
                *ld_strings(page.ld("image"), "url", "contentUrl"),
                page.first("twitter:image", "twitter:image:src"))
    for value in chain(declared, _lazily(lambda: guessed.image), _lead_image(tree)):
        if value and value.strip() and not value.startswith("data:"):
            return urljoin(url, value.strip())
    return None


def _paywalled(page: PageMetadata, tree: etree._Element, markup: bool = True) -> bool:
    ld = page.jsonld
    flags = [ld.get("isAccessibleForFree")]
    parts = ld.get("hasPart")
    for part in parts if isinstance(parts, list) else [parts]:
        if isinstance(part, dict):
            flags.append(part.get("isAccessibleForFree"))
    if any(flag is False or (isinstance(flag, str) and flag.strip().lower() == "false")
           for flag in flags):
        return True
    tier = (page.first("article:content_tier") or "").lower()
    if tier in ("locked", "metered", "premium"):
        return True
    for el in _paywall_boxes(tree) if markup else ():
        if _PAYWALL_TEXT.search(" ".join("".join(el.itertext()).split())[:500]):
            return True
    return False


_ANCHORS = etree.XPath("//a")


def _looks_like_index(page: PageMetadata, tree: etree._Element, body: str) -> bool:
    """A listing page: no article markup, and most of the extracted text is link texts."""
    if set(page.jsonld_types) & {"NewsArticle", "Article", "BlogPosting", "ReportageNews"}:
        return False
    if (page.first("og:type") or "").lower() == "article":
        return False
    anchors = {" ".join("".join(a.itertext()).split()) for a in _ANCHORS(tree)}
    anchors.discard("")
    lines = body.splitlines()
    linked = sum(word_count(line) for line in lines if line in anchors)
    return linked > 0.6 * max(1, word_count(body))


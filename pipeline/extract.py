"""HTML page -> `Article`: trafilatura for the body, the page's structured metadata for the rest.

The page is parsed once (trafilatura's own loader, so its decoding and repairs apply); the
metadata harvest reads that tree, then trafilatura works on it (it takes its own copy).

Field reconciliation, first usable value wins (a date must also be plausible: after 1990, not
after the fetch time plus a small skew):

1. JSON-LD (the page's article object, `@graph` flattened)
2. `article:*` / OpenGraph
3. Dublin Core, microdata `itemprop`, and other `<meta>` names (`author`, `pubdate`, parsely...)
4. trafilatura's own metadata guess
5. the visible byline (dateparser, any language: "Publié le 12 mars 2026 à 14h30")
6. discovery hints (a feed item's or sitemap's date)
7. htmldate's extensive search over the page text (dates only)

Hints come before htmldate's extensive search on purpose: a feed or sitemap date is declared by
the publisher, while the extensive search picks any date the text mentions and costs a third of
the whole extraction on the pages that reach it.

`date_source` records which step gave `published_at`: "json-ld", "opengraph", "meta",
"trafilatura", "byline", "feed"/"sitemap", "htmldate".
"""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime, time
from html import unescape
from importlib.metadata import version
from typing import Any
from urllib.parse import urljoin, urlsplit

import dateparser.search
import htmldate
import trafilatura
from lxml import etree
from trafilatura.utils import load_html
from w3lib.encoding import html_to_unicode

from pipeline import normalise as nz
from pipeline.article import Article
from pipeline.config import Source
from pipeline.errors import NewsdeskError
from pipeline.metadata import PageMetadata, harvest, ld_strings

EXTRACTOR_VERSION = f"1.0.0+trafilatura{version('trafilatura')}"

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

_BYLINE_XP = etree.XPath(
    "//time | //*[@itemprop='datePublished'] | //*[contains(concat(' ', translate(@class,"
    " 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), ' ', translate(@id,"
    " 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')), 'date')"
    " or contains(translate(@class, 'BYLINE', 'byline'), 'byline')"
    " or contains(translate(@class, 'PUBLISHED', 'published'), 'publi')"
    " or contains(translate(@class, 'POSTED', 'posted'), 'posted')"
    " or contains(translate(@class, 'TIMESTAMP', 'timestamp'), 'timestamp')"
    " or contains(translate(@class, 'META', 'meta'), 'meta')"
    " or contains(translate(@class, 'DATUM', 'datum'), 'datum')"
    " or contains(translate(@class, 'FECHA', 'fecha'), 'fecha')]"
)
# Words that label a byline date; stripped before parsing ("Publié le", "Veröffentlicht am").
_DATE_LABEL = re.compile(
    r"^(?:\W|published|publication|posted|first published|updated|mis en ligne|"
    r"publié|publiée|veröffentlicht|erschienen|stand|publicado|publicada|pubblicato|"
    r"gepubliceerd|opublikowano|publicerad|on|le|am|el|il|op|em|at|:|,)+\s*",
    re.IGNORECASE,
)
_UPDATED_MARK = re.compile(
    r"\b(?:updated|last updated|modified|mis à jour|modifié|actualisé|aktualisiert|"
    r"actualizado|aggiornato|bijgewerkt)\b", re.IGNORECASE)
_HAS_DIGIT_YEAR = re.compile(r"\b(?:19[9]\d|20\d\d)\b|\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b")


# --- paywall markers ------------------------------------------------------------------------

_PAYWALL_XP = etree.XPath(
    "//*[contains(translate(@class, 'PAYWL', 'paywl'), 'paywall')"
    " or contains(translate(@id, 'PAYWL', 'paywl'), 'paywall')"
    " or @data-paywall or contains(@class, 'subscriber-only') or contains(@class, 'premium-lock')]"
)
_PAYWALL_TEXT = re.compile(
    r"subscri|abonn|abo\b|register to|sign in to (?:read|continue)|members only|"
    r"premium|réservé aux abonnés|nur für abonnenten", re.IGNORECASE)


def extract_article(html: str | bytes, url: str, *, source: Source | None = None,
                    fetched_at: datetime | None = None, hints: dict | None = None) -> Article:
    """Extract one article page.

    `hints` is what discovery knew: `published` (ISO string or datetime), `title`, `authors`,
    `via` ("feed" or "sitemap", default "feed"), `content_type` (the HTTP header, for decoding
    bytes). Raises `NotAnArticle` when the page has no article body.
    """
    hints = hints or {}
    tz = source.timezone if source else None
    if fetched_at is not None:
        fetched_at = nz.to_utc(fetched_at)
    tree = _parse(html, hints.get("content_type"), url)
    page = harvest(tree)
    site_names = _site_names(page, url, source)
    _drop_consent_banners(tree)

    doc = trafilatura.bare_extraction(
        tree, url=url, with_metadata=True, include_comments=False, include_tables=True,
        date_extraction_params={**_DATE_PARAMS, "max_date": _max_date(fetched_at)},
    )
    if doc is None or not (doc.text or "").strip():
        raise NotAnArticle(f"{url}: no article text found on the page")

    title = _title(page, doc, site_names, hints)
    body = _body(doc.text, title)
    words = nz.word_count(body)
    if words < MIN_WORDS:
        raise NotAnArticle(f"{url}: article text too short ({words} words, minimum {MIN_WORDS})")
    if _looks_like_index(page, tree, body):
        raise NotAnArticle(f"{url}: looks like an index page (body is mostly link texts)")

    language = _language(page, source, body)
    languages = [language] if language else None
    published_local, date_source = _published(page, doc, tree, tz, languages, fetched_at, hints)
    published = nz.to_utc(published_local) if published_local else None
    modified = _modified(page, tz, fetched_at)
    if modified and published and modified < published:
        modified = None

    authors = _authors(page, doc, tree, hints, site_names)
    return Article(
        url=url,
        canonical_url=_canonical(page, url),
        source=source.name if source else None,
        title=title,
        description=_description(page, doc),
        authors=authors,
        published_at=published,
        modified_at=modified,
        date_source=date_source,
        language=language,
        section=_section(page, doc),
        tags=_tags(page),
        image_url=_image(page, doc, url),
        body=body,
        word_count=words,
        is_paywalled=_paywalled(page, tree),
        content_hash=nz.content_hash(body),
        fetched_at=fetched_at,
        extractor_version=EXTRACTOR_VERSION,
        # published_local: the date in the offset the page declared (its calendar day).
        extras={"jsonld_types": page.jsonld_types, "published_local": published_local},
    )


def _parse(html: str | bytes, content_type: str | None, url: str) -> etree._Element:
    """Decode (HTTP header, BOM, declared charset, then detection) and parse once."""
    if isinstance(html, bytes):
        if html[:2] == b"\x1f\x8b":
            html = gzip.decompress(html)
        html = _decode(html, content_type)
    tree = load_html(html) if html and html.strip() else None
    if tree is None:
        raise NotAnArticle(f"{url}: empty or unparsable HTML")
    return tree


# Cookie/consent dialogs are the longest text block on a page with little else (live blogs,
# video pages): trafilatura's fallback would then return the banner as the article.
_CONSENT_BANNERS = etree.XPath(
    "//*[self::div or self::section or self::aside or self::dialog or self::form]"
    "[re:test(concat(' ', @id, ' ', @class, ' ', @aria-label), "
    "'(^|[\\s_-])(cookies?|consent|gdpr)([\\s_-]|$)', 'i')]",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)


def _drop_consent_banners(tree: etree._Element) -> None:
    for element in _CONSENT_BANNERS(tree):
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)


def _decode(data: bytes, content_type: str | None) -> str:
    """The HTTP header's charset when given; else UTF-8 when the bytes are valid UTF-8 (pages
    often declare a legacy charset they no longer use); else BOM, declared charset, detection."""
    if not content_type or "charset" not in content_type.lower():
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return html_to_unicode(content_type, data)[1]


def _max_date(fetched_at: datetime | None) -> str:
    reference = fetched_at or datetime.now(UTC)
    return (reference + nz.MAX_FUTURE_SKEW).strftime("%Y-%m-%d")


# --- fields ---------------------------------------------------------------------------------


def _site_names(page: PageMetadata, url: str, source: Source | None) -> list[str]:
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    names = [*page.all("og:site_name", "application-name", "twitter:site"),
             *page.publisher_names, nz.registered_domain(url), host]
    if source:
        names.append(source.name)
    return [n.lstrip("@") for n in names if n]


_DATE_SEGMENT = re.compile(r"^\s*\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\s*$")  # "| 28.04.2023"
_INVISIBLE = str.maketrans("", "", "\u00ad\u200b\u200c\u200d\u2060\ufeff")
_TITLE_SEP = re.compile(r"(\s+(?:[|\-\u2013\u2014·•»~]|::)\s+)")


def strip_site_name(title: str, site_names: list[str]) -> str:
    """Remove a leading or trailing segment of `title` that is the site's name.

    Only separated segments (" | ", " - ", en/em dashes, " · ", " » ") that match a known site name
    are removed, so a headline that itself contains " - " stays whole.
    """
    keys = nz.site_name_keys(*site_names)
    if not keys:
        return title

    def is_site(segment: str) -> bool:
        variants = nz.key_variants(segment)
        if not variants:
            return False
        if variants & keys:
            return True
        # "BBC News" for bbc.co.uk, "Le Monde.fr" for "Le Monde": short segments only.
        # "Die Neue Südtiroler Tageszeitung" for tageszeitung.it: a long key as the suffix.
        return len(segment.split()) <= 5 and any(
            len(k) >= 3 and (v.startswith(k) or (k.startswith(v) and len(v) >= 3)
                             or (len(k) >= 6 and v.endswith(k)))
            for k in keys for v in variants)

    parts = _TITLE_SEP.split(title)
    while len(parts) >= 3 and (is_site(parts[-1]) or _DATE_SEGMENT.match(parts[-1])):
        parts = parts[:-2]
    while len(parts) >= 3 and is_site(parts[0]):
        parts = parts[2:]
    return "".join(parts).strip()


def _title(page: PageMetadata, doc: Any, site_names: list[str], hints: dict) -> str | None:
    keys = nz.site_name_keys(*site_names)
    section = _section(page, doc)
    title_key = nz._key(page.title_tag or "")
    h1s = [h for h in page.h1s if nz._key(h) and (not title_key or nz._key(h) in title_key)]
    candidates = [
        *ld_strings(page.ld("headline")),
        page.first("og:title"),
        page.first("twitter:title"),
        *h1s[:1],
        page.first("dc.title", "dcterms.title", "headline"),
        page.title_tag,
        doc.title,
        hints.get("title"),
    ]
    for candidate in candidates:
        if not candidate or not isinstance(candidate, str):
            continue
        candidate = unescape(candidate) if "&" in candidate else candidate
        text = strip_site_name(" ".join(candidate.translate(_INVISIBLE).split()), site_names)
        if section:  # "Headline | Sport | Site": the section is furniture too, at the end only
            parts = _TITLE_SEP.split(text)
            if len(parts) >= 3 and nz._key(parts[-1]) == nz._key(section):
                text = strip_site_name("".join(parts[:-2]), site_names)
        if text and nz._key(text) not in keys:
            return text
    return None


def _body(text: str, title: str | None) -> str:
    body = nz.clean_body(text)
    if title and body:
        first, _, rest = body.partition("\n")
        if nz._key(first) == nz._key(title):
            body = rest
    return body


def _language(page: PageMetadata, source: Source | None, body: str) -> str | None:
    declared = (nz.normalise_language(page.html_lang)
                or nz.normalise_language(next(iter(ld_strings(page.ld("inLanguage"))), None))
                or nz.normalise_language(page.first("og:locale", "content-language",
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
    scores = {lang: sum(t in words for t in tokens) for lang, words in _STOPSETS.items()}
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top >= 0.12 * len(tokens) and top >= 2 * second:
        return best
    return None


def _published(page: PageMetadata, doc: Any, tree: etree._Element, tz: str | None,
               languages: list[str] | None, fetched_at: datetime | None,
               hints: dict) -> tuple[datetime | None, str | None]:
    steps = [
        ("json-ld", lambda: ld_strings(page.ld("datePublished"))
         + ld_strings(page.ld("dateCreated"))),
        ("opengraph", lambda: page.all(*_OG_PUBLISHED)),
        ("meta", lambda: page.all(*_META_PUBLISHED) + page.itemprops.get("datePublished", [])),
        ("trafilatura", lambda: [doc.date] if doc.date else []),
        ("byline", lambda: _byline_dates(tree, tz, languages)),
    ]
    weak: tuple[datetime | None, str | None] = (None, None)
    for label, values in steps:
        for value in values():
            parsed = nz.parse_date_local(value, tz, languages)
            if not nz.plausible_date(parsed, fetched_at):
                continue
            if label in ("trafilatura", "htmldate") and (parsed.month, parsed.day) == (1, 1):
                # htmldate's last resort is often the footer's "© 2026": keep it for the end.
                weak = weak if weak[0] else (parsed, label)
                continue
            if label == "trafilatura" and parsed.time() == _MIDNIGHT:
                # A bare day; the byline may give the time on that same day.
                for precise in _byline_dates(tree, tz, languages):
                    precise = nz.parse_date_local(precise, tz)
                    if precise and precise.date() == parsed.date():
                        return precise, "byline"
            return parsed, label
    hinted = hints.get("published") or hints.get("published_at")
    parsed = nz.parse_date_local(hinted, tz) if hinted else None
    if nz.plausible_date(parsed, fetched_at):
        via = hints.get("via") if hints.get("via") in ("feed", "sitemap") else "feed"
        return parsed, via
    # Last, htmldate's extensive search: any date in the page's text (slow, and the most likely
    # to pick a date the article merely mentions, hence after what the publisher declared).
    for value in _htmldate(tree, fetched_at):
        parsed = nz.parse_date_local(value, tz, languages)
        if nz.plausible_date(parsed, fetched_at) and (parsed.month, parsed.day) != (1, 1):
            return parsed, "htmldate"
    return weak


def _modified(page: PageMetadata, tz: str | None, fetched_at: datetime | None) -> datetime | None:
    for value in (ld_strings(page.ld("dateModified")) + page.all(*_OG_MODIFIED)
                  + page.all(*_META_MODIFIED) + page.itemprops.get("dateModified", [])):
        parsed = nz.parse_date(value, tz)
        if nz.plausible_date(parsed, fetched_at):
            return parsed
    return None


_AUTHOR_XP = etree.XPath(
    "//*[@rel='author'] | //*[contains(translate(@class, 'AUTHORSIGNBYLE', 'authorsignbyle'),"
    " 'author') or contains(translate(@class, 'AUTHORSIGNBYLE', 'authorsignbyle'), 'byline')"
    " or contains(translate(@class, 'AUTHORSIGNBYLE', 'authorsignbyle'), 'auteur')"
    " or contains(translate(@class, 'AUTHORSIGNBYLE', 'authorsignbyle'), 'signature')"
    " or contains(translate(@class, 'AUTHORSIGNBYLE', 'authorsignbyle'), 'autor')]"
)


def _byline_authors(tree: etree._Element) -> list[str]:
    """The text of the first short byline-like element ("Par A et B"), for clean_authors."""
    for el in _AUTHOR_XP(tree)[:20]:
        if el.tag in ("script", "style", "meta", "link", "img", "body", "article"):
            continue
        text = " ".join("".join(el.itertext()).split())
        if 2 < len(text) <= 120:
            return [text]
    return []


def _authors(page: PageMetadata, doc: Any, tree: etree._Element, hints: dict,
             site_names: list[str]) -> list[str]:
    """The first source whose names survive cleaning: a JSON-LD author that is only the site's
    name, or a meta author that is an e-mail or a profile URL, falls through to the next."""
    ld = page.jsonld
    candidates = (
        lambda: ld_strings(ld.get("author"), "name") or ld_strings(ld.get("creator"), "name"),
        lambda: page.all("article:author"),
        lambda: page.all("author", "dc.creator", "dcterms.creator", "sailthru.author",
                         "parsely-author", "byl") + page.itemprops.get("author", []),
        lambda: [a for a in (doc.author or "").split(";") if a.strip()],
        lambda: _byline_authors(tree),
        lambda: hints.get("authors") or [],
    )
    for candidate in candidates:
        names = nz.clean_authors(candidate(), site_names)
        if names:
            return names
    return []


def _byline_dates(tree: etree._Element, tz: str | None,
                  languages: list[str] | None) -> list[datetime]:
    """Dates written in the page's byline/dateline elements (not in the article text)."""
    found: list[datetime] = []
    for el in _BYLINE_XP(tree)[:30]:
        if el.tag in ("script", "style", "body", "html", "article", "main", "meta"):
            continue
        attr = el.get("datetime") or (el.get("content") if el.tag != "meta" else None)
        text = " ".join("".join(el.itertext()).split())
        for raw in (attr, text):
            if not raw or len(raw) > 160 or not _HAS_DIGIT_YEAR.search(raw):
                continue
            raw = _UPDATED_MARK.split(raw)[0] or raw  # "Published X, updated Y" -> X
            parsed = _parse_byline(raw, tz, languages)
            if parsed:
                found.append(parsed)
                break
        if len(found) >= 3:
            break
    return found


def _parse_byline(raw: str, tz: str | None, languages: list[str] | None) -> datetime | None:
    stripped = _DATE_LABEL.sub("", raw).strip()
    parsed = nz.parse_date_local(stripped, tz, languages)
    if parsed:
        return parsed
    settings = {"REQUIRE_PARTS": ["day", "month", "year"], "RETURN_AS_TIMEZONE_AWARE": False}
    try:
        hits = dateparser.search.search_dates(raw, languages=languages or ["en"],
                                              settings=settings)
    except (ValueError, TypeError, OverflowError, KeyError):
        hits = None
    return hits[0][1] if hits else None


def _htmldate(tree: etree._Element, fetched_at: datetime | None) -> list[str]:
    try:
        found = htmldate.find_date(tree, extensive_search=True, original_date=True,
                                   max_date=_max_date(fetched_at))
    except (ValueError, TypeError):
        return []
    return [found] if found else []


def _canonical(page: PageMetadata, url: str) -> str:
    for candidate in (*page.links.get("canonical", []), page.first("og:url"),
                      *ld_strings(page.ld("url"))):
        if candidate:
            absolute = urljoin(url, candidate.strip())
            if nz.same_site(absolute, url):
                return nz.canonical_url(absolute)
    return nz.canonical_url(url)


def _description(page: PageMetadata, doc: Any) -> str | None:
    for value in (*ld_strings(page.ld("description")), page.first("og:description"),
                  page.first("description", "dc.description", "twitter:description"),
                  doc.description):
        if value and value.strip():
            return " ".join(value.split())
    return None


def _section(page: PageMetadata, doc: Any) -> str | None:
    for value in (page.first("article:section"), *ld_strings(page.ld("articleSection")),
                  page.first("section", "parsely-section", "category")):
        if value and value.strip():
            return " ".join(value.split())
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


def _image(page: PageMetadata, doc: Any, url: str) -> str | None:
    for value in (page.first("og:image", "og:image:url", "og:image:secure_url"),
                  *ld_strings(page.ld("image"), "url", "contentUrl"),
                  page.first("twitter:image", "twitter:image:src"), doc.image):
        if value and value.strip():
            return urljoin(url, value.strip())
    return None


def _paywalled(page: PageMetadata, tree: etree._Element) -> bool:
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
    for el in _PAYWALL_XP(tree)[:10]:
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
    linked = sum(nz.word_count(line) for line in lines if line in anchors)
    return linked > 0.6 * max(1, nz.word_count(body))

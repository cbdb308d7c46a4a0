"""The article's smaller fields, each from the page's metadata first: canonical URL, site
names, description, section, tags, lead image, the paywall flag, and the index-page check."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from itertools import chain
from urllib.parse import urljoin, urlsplit

from lxml import etree

from pipeline.extraction.fallback_metadata import TrafilaturaMetadata
from pipeline.extraction.metadata import PageMetadata, ld_strings
from pipeline.sources.config import Source
from pipeline.text.cleaning import word_count
from pipeline.text.urls import amp_to_canonical, registered_domain, same_site, url_key


def canonical(page: PageMetadata, url: str) -> str:
    """The page's declared canonical URL on its own site, else the fetched URL without AMP."""
    for candidate in (*page.links.get("canonical", []), page.first("og:url"),
                      *ld_strings(page.ld("url"))):
        if candidate:
            absolute = urljoin(url, candidate.strip())
            if same_site(absolute, url):
                return url_key(absolute)
    return url_key(amp_to_canonical(url))


def description(page: PageMetadata, guessed: TrafilaturaMetadata) -> str | None:
    """JSON-LD, OpenGraph or meta description, else trafilatura's."""
    declared = (*ld_strings(page.ld("description")), page.first("og:description"),
                page.first("description", "dc.description", "twitter:description"))
    for value in chain(declared, _lazily(lambda: guessed.description)):
        if value and value.strip():
            return " ".join(value.split())
    return None


def _lazily(value: Callable[[], str | None]) -> Iterator[str | None]:
    """A last candidate that costs nothing unless the ones before it all fail."""
    yield value()


def site_names(page: PageMetadata, url: str, source: Source | None) -> list[str]:
    """Every name the site goes by, to strip from titles and to tell from authors."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    names = [*page.all("og:site_name", "application-name", "twitter:site"),
             *page.publisher_names, registered_domain(url), host]
    if source:
        names.append(source.name)
    return [n.lstrip("@") for n in names if n]


# A breadcrumb trail ("Home > World > ..."), named in English or French ("fil d'Ariane"), by
# class, id or aria-label; "readcrumb" matches "Breadcrumb" and "breadcrumbs" alike.
_XP_BREADCRUMB_LINKS = etree.XPath(
    "(//*[contains(concat(@class, ' ', @id, ' ', @aria-label), 'readcrumb')"
    " or contains(concat(@class, ' ', @id), 'ariane')])[1]//a")
# The lead picture: the first figure after the headline (a page without og:image still has one).
_XP_LEAD_IMAGE = etree.XPath("(//h1/following::figure//img[@src or @data-src])[1]")


def section(page: PageMetadata, tree: etree._Element) -> str | None:
    """The declared section, else the breadcrumb's."""
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


def tags(page: PageMetadata) -> list[str]:
    """The declared tags and keywords, split, once each (case-blind)."""
    raw = [*page.all("article:tag"), *ld_strings(page.ld("keywords")),
           *page.all("news_keywords", "keywords", "parsely-tags")]
    found: list[str] = []
    seen: set[str] = set()
    for value in raw:
        for tag in re.split(r"\s*[,;]\s*", value):
            tag = " ".join(tag.split())
            if tag and len(tag) <= 80 and tag.casefold() not in seen:
                seen.add(tag.casefold())
                found.append(tag)
    return found


def image(page: PageMetadata, guessed: TrafilaturaMetadata, tree: etree._Element,
          url: str) -> str | None:
    """The declared lead image, else trafilatura's, else the first figure under the headline."""
    declared = (page.first("og:image", "og:image:url", "og:image:secure_url"),
                *ld_strings(page.ld("image"), "url", "contentUrl"),
                page.first("twitter:image", "twitter:image:src"))
    for value in chain(declared, _lazily(lambda: guessed.image), _lead_image(tree)):
        if value and value.strip() and not value.startswith("data:"):
            return urljoin(url, value.strip())
    return None


# --- paywall markers ------------------------------------------------------------------------

# Paywall boxes: class/id naming one, or a data-paywall attribute (walked in Python, and only
# when the markup mentions one at all; see `paywalled`).
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


# Substrings whose absence from the markup means no paywall box (plain `in`: a case-blind regex
# over the whole page cost 5 ms).
_PAYWALL_MARKUP = ("aywall", "ayWall", "AYWALL", "ay-wall", "subscriber-only", "premium-lock")


def paywalled(page: PageMetadata, tree: etree._Element, markup: str) -> bool:
    """Declared so (`isAccessibleForFree: false`, a locked content tier), or a paywall box in
    the page; boxes are looked for only when the markup (the decoded page) names one at all:
    one scan of the text is far cheaper than looking for one on every element."""
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
    mentioned = any(marker in markup for marker in _PAYWALL_MARKUP)
    for el in _paywall_boxes(tree) if mentioned else ():
        if _PAYWALL_TEXT.search(" ".join("".join(el.itertext()).split())[:500]):
            return True
    return False


_ANCHORS = etree.XPath("//a")


def looks_like_index(page: PageMetadata, tree: etree._Element, body: str) -> bool:
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

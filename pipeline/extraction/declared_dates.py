"""The dates a page declares in its metadata (JSON-LD, OpenGraph/`article:*`, Dublin Core,
microdata, other `<meta>` names), as the strings it gives, read in a fixed order.

`pipeline.extraction.dates` parses them and weighs them against the dates the page shows.
"""

from __future__ import annotations

import re

from pipeline.extraction.metadata import PageMetadata, ld_strings
from pipeline.text.dates import parse_date

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
_ISO_LIKE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")


def jsonld_published(page: PageMetadata) -> list[str]:
    """JSON-LD `datePublished`, then `dateCreated`."""
    return ld_strings(page.ld("datePublished")) + ld_strings(page.ld("dateCreated"))


def opengraph_published(page: PageMetadata) -> list[str]:
    return page.all(*_OG_PUBLISHED)


def meta_published(page: PageMetadata) -> list[str]:
    """Dublin Core and the other `<meta>` names, then microdata `datePublished`."""
    return page.all(*_META_PUBLISHED) + page.itemprops.get("datePublished", [])


def all_published(page: PageMetadata) -> list[str]:
    """Every declared publication date (JSON-LD `dateCreated` aside), for cross-checks."""
    return ld_strings(page.ld("datePublished")) + opengraph_published(page) + meta_published(page)


def modified(page: PageMetadata) -> list[str]:
    return (ld_strings(page.ld("dateModified")) + page.all(*_OG_MODIFIED)
            + page.all(*_META_MODIFIED) + page.itemprops.get("dateModified", []))


def doubtful_jsonld(page: PageMetadata, tz: str | None, languages: list[str] | None) -> bool:
    """JSON-LD dates a template filled in wrongly: published on a later day than modified, or
    the same display string ("Jun 24, 2025", not ISO 8601) in both, which is the page's
    "last updated" line copied into both. Such a datePublished is used only if nothing else
    gives a date."""
    published = ld_strings(page.ld("datePublished"))
    modified = ld_strings(page.ld("dateModified"))
    if not published or not modified:
        return False
    pub = parse_date(published[0], tz, languages)
    mod = parse_date(modified[0], tz, languages)
    if pub is None or mod is None:
        return False
    if pub.date() > mod.date():
        return True
    return pub == mod and not _ISO_LIKE.match(published[0])

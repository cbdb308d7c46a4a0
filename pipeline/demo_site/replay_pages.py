"""Saved real pages for the replay site: read from a corpus folder, with what their markup says.

A corpus folder holds `<set>/<id>.html.gz` (the page as fetched) beside `<set>/<id>.json`, whose
"url" is the page's original URL (the `../shared/corpus/dev` layout). A page's publish date and
title are read from its own markup, as the publisher's CMS would know them, never from the
corpus's answers nor from newsdesk's extractor, so that a crawl scored against the answers is not
scored against itself.
"""

from __future__ import annotations

import gzip
import json
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import extruct
import lxml.html
from dateutil import parser as dateutil_parser
from htmldate import find_date
from w3lib.encoding import html_body_declared_encoding
from w3lib.url import safe_url_string

from pipeline.errors import NewsdeskError


@dataclass(frozen=True)
class SavedPage:
    """One saved page: where it lived, its bytes as saved, and what its markup declares."""

    set_name: str  # the corpus folder it came from (fundus, wcxb)
    page_id: str
    url: str  # the original URL, as the corpus records it
    html: bytes  # exactly as saved (not decoded, not rewritten)
    charset: str | None  # served in Content-Type: `served_charset`
    published: str | None  # ISO 8601: with its offset when declared with a time, else the day
    title: str | None

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def target(self) -> str:
        """The request target (path and query) the page is served at, percent-encoded."""
        parts = urlsplit(safe_url_string(self.url))
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    @property
    def key(self) -> str:
        """`set/id`: the page's name in the corpus."""
        return f"{self.set_name}/{self.page_id}"


@dataclass(frozen=True)
class Corpus:
    """The pages that can be replayed, and the ones that cannot (a one-line reason each)."""

    pages: list[SavedPage]
    skipped: dict[str, str]  # set/id -> why


def read_corpus(folder: Path, sets: list[str] | None = None) -> Corpus:
    """Every page under `folder` (only the named sets, if given), in set/id order.

    A missing folder, or one without a single saved page, is a NewsdeskError naming it. A page
    without an http(s) URL or with unreadable files is skipped, with its reason.
    """
    if not folder.is_dir():
        raise NewsdeskError(f"replay corpus: {folder} is not a folder")
    pages: list[SavedPage] = []
    skipped: dict[str, str] = {}
    for html_file in _html_files(folder, sets):
        set_name, page_id = html_file.parent.name, html_file.name.removesuffix(".html.gz")
        try:
            pages.append(read_page(html_file, set_name, page_id))
        except _Unreplayable as exc:
            skipped[f"{set_name}/{page_id}"] = str(exc)
    if not pages and not skipped:
        raise NewsdeskError(f"replay corpus: no saved pages (<set>/<id>.html.gz) in {folder}")
    return Corpus(pages, skipped)


def _html_files(folder: Path, sets: list[str] | None) -> Iterator[Path]:
    for set_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        if sets is None or set_dir.name in sets:
            yield from sorted(set_dir.glob("*.html.gz"))


class _Unreplayable(Exception):
    """A saved page that cannot be served (its reason is the message)."""


def read_page(html_file: Path, set_name: str, page_id: str) -> SavedPage:
    answer_file = html_file.with_name(f"{page_id}.json")
    try:
        url = json.loads(answer_file.read_text(encoding="utf-8")).get("url") or ""
        html = gzip.decompress(html_file.read_bytes())
    except (OSError, ValueError, EOFError, zlib.error) as exc:
        raise _Unreplayable(f"unreadable: {exc}") from None
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise _Unreplayable(f"no http(s) URL ({url!r})")
    return SavedPage(set_name, page_id, url, html, served_charset(html),
                     declared_published(html, url), declared_title(html))


def served_charset(html: bytes) -> str | None:
    """The charset to serve the bytes with: UTF-8 when they are UTF-8 (pages re-saved as UTF-8
    often keep a legacy meta charset), else the one the markup declares (w3lib's codec name)."""
    try:
        html.decode("utf-8")
    except UnicodeDecodeError:
        return html_body_declared_encoding(html)
    return "utf-8"


def declared_published(html: bytes, url: str) -> str | None:
    """The publish date the page declares: JSON-LD or microdata `datePublished`, else OpenGraph
    `article:published_time` (kept with its offset when it has a time and one), else htmldate's
    quick look at the markup and URL (a day). None when the page declares none."""
    try:
        data = extruct.extract(html, base_url=url, syntaxes=["json-ld", "microdata", "opengraph"],
                               uniform=True, errors="ignore")
    except Exception:  # extruct raises whatever its parsers do on broken markup
        data = {}
    structured = [*data.get("json-ld", []), *data.get("microdata", [])]
    og = [item.get("article:published_time") for item in data.get("opengraph", [])]
    for value in [*_find_key(structured, "datePublished"), *og]:
        if isinstance(value, str) and (iso := _iso(value)):
            return iso
    try:
        return find_date(html, url=url, extensive_search=False, original_date=True)
    except Exception:  # htmldate on a page it cannot parse: undated, like the page
        return None


def _find_key(node: Any, key: str) -> Iterator[Any]:
    """Every value of `key` in nested JSON-LD (an `@graph`, a list, a nested object)."""
    if isinstance(node, dict):
        if key in node:
            yield node[key]
        for value in node.values():
            yield from _find_key(value, key)
    elif isinstance(node, list):
        for value in node:
            yield from _find_key(value, key)


def _iso(value: str) -> str | None:
    """A declared date as ISO 8601: the full instant with its offset, or only the day when the
    page gave no offset (its local time zone is unknown here)."""
    try:
        with warnings.catch_warnings():  # a zone name it cannot map ("CEST") leaves it naive
            warnings.simplefilter("ignore", dateutil_parser.UnknownTimezoneWarning)
            parsed = dateutil_parser.parse(value.strip())
    except (ValueError, OverflowError):
        return None
    if parsed.tzinfo is not None and parsed.utcoffset() is not None:
        return parsed.isoformat()
    return parsed.date().isoformat()


def declared_title(html: bytes) -> str | None:
    """og:title, else the <title> element: what the CMS would put in a feed item."""
    try:
        tree = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return None
    for value in (*tree.xpath("//meta[@property='og:title']/@content"),
                  *tree.xpath("//title/text()")):
        if value.strip():
            return " ".join(value.split())
    return None


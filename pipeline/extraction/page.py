"""Page bytes -> one parsed tree: decoding, parsing, and the consent banners removed before
anything reads the text."""

from __future__ import annotations

import gzip
import re

import charset_normalizer
from lxml import etree
from trafilatura.utils import load_html
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

from pipeline.errors import NewsdeskError


class UnreadablePage(NewsdeskError):
    """The bytes are no HTML page to read: a corrupt gzip body, empty or unparsable markup."""


def parse(html: str | bytes, content_type: str | None) -> tuple[etree._Element, str]:
    """Decode (HTTP header, BOM, declared charset, then detection) and parse once; the tree and
    the decoded markup (cheap to scan as text: see `fields.paywalled`)."""
    if isinstance(html, bytes):
        if html[:2] == b"\x1f\x8b":
            try:
                html = gzip.decompress(html)
            except (OSError, EOFError):
                raise UnreadablePage("gzip-compressed body is corrupt") from None
        html = _decode(html, content_type)
    tree = load_html(html) if html and html.strip() else None
    if tree is None:
        raise UnreadablePage("empty or unparsable HTML")
    return tree, html



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


def drop_consent_banners(tree: etree._Element) -> None:
    """Remove cookie/consent dialogs from the tree, before trafilatura reads it."""
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

"""Explicit signals that a page is a copy of an article published elsewhere.

The extractor keeps an article's identity on its own site (a cross-site rel=canonical does not
replace the article's canonical URL), so the signals that name the original are read here, from
the parsed page, and handed to dedupe through `Article.extras`:

- `rel-canonical`: a rel=canonical (or og:url, JSON-LD url) on another registered domain;
- `credit-line`: "This article originally appeared on Daily Planet", "First published by ...",
  "Republished from ...", with the credit's link when it has one;
- `wire-byline`: a wire service as the byline ("Reuters", "By Associated Press", "AFP").

Dedupe uses them to choose a story's original over the earliest publication date.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urljoin

from lxml import etree

from pipeline.extraction.metadata import PageMetadata, ld_strings
from pipeline.text.urls import same_site, url_key

_CREDIT = re.compile(
    r"\b(?:originally\s+(?:appeared|published|ran)|first\s+(?:appeared|published)|"
    r"republished|reproduced|reprinted)\s+(?:here\s+)?(?:on|in|at|by|from|with permission from)"
    r"\s+(?:the\s+)?(?P<name>[\w&'\u2019.\- ]{2,60}?)\s*(?:[.,;:()]|$|\s+(?:and|on|under|with)\s)",
    re.IGNORECASE,
)
# Words that may start a credit line; the credit is read from their nearest short ancestor. Most
# pages have none, so the body's text (scripts included: 100 kB on a typical page) is searched
# once, lower-cased (a case-blind regex over it cost 6 ms), before any text node is looked at;
# then XPath picks the nodes holding the very words found. Listing every text node of the body
# in Python, or folding case inside XPath, cost about a tenth of the whole extraction.
_CREDIT_WORDS = r"originally|first (?:published|appeared)|republished|reproduced|reprinted"
_CREDIT_FOLDED = re.compile(_CREDIT_WORDS)
_CREDIT_ANY_CASE = re.compile(_CREDIT_WORDS, re.IGNORECASE)
_BODY_TEXT = etree.XPath("string(//body)")


@lru_cache(maxsize=8)
def _text_nodes_containing(count: int) -> etree.XPath:
    """Text nodes of the body holding any of `count` strings, passed as $w0, $w1..."""
    test = " or ".join(f"contains(., $w{i})" for i in range(count))
    return etree.XPath(f"//body//text()[{test}]")


# Wire services by the names a byline gives them (lower-case, long and short forms), each mapped
# to the key dedupe matches sources against: such a byline marks the article as the wire's copy.
# Not `bylines.AGENCY_CREDITS` (short forms kept as co-authors after a name): another job.
WIRE_SERVICES = {
    "associated press": "ap", "the associated press": "ap", "ap": "ap",
    "reuters": "reuters", "thomson reuters": "reuters",
    "agence france-presse": "afp", "agence france presse": "afp", "afp": "afp",
    "bloomberg": "bloomberg", "bloomberg news": "bloomberg",
    "press association": "pa", "pa media": "pa", "pa": "pa",
    "deutsche presse-agentur": "dpa", "dpa": "dpa", "efe": "efe", "ansa": "ansa",
    "upi": "upi", "united press international": "upi", "xinhua": "xinhua",
    "kyodo": "kyodo", "kyodo news": "kyodo", "tass": "tass", "canadian press": "cp",
    "the canadian press": "cp", "aap": "aap", "australian associated press": "aap",
}


def source_key(name: str) -> str:
    """A comparable key for a publisher or wire name: lower-case letters and digits only."""
    return re.sub(r"[\W_]+", "", name.casefold())


def signals(tree: etree._Element, page: PageMetadata, url: str, authors: list[str]) -> dict:
    """{'provenance': kind, 'original_url': URL or None, 'credited_to': name or None}, or {}."""
    out: dict = {}
    declared = _cross_site_canonical(page, url)
    credit_name, credit_url = _credit(tree, url)
    wire = next((a for a in authors
                 if a.casefold().removeprefix("by ").strip() in WIRE_SERVICES), None)
    if declared:
        out = {"provenance": "rel-canonical", "original_url": declared}
    elif credit_name or credit_url:
        out = {"provenance": "credit-line", "original_url": credit_url}
    elif wire:
        out = {"provenance": "wire-byline", "original_url": None}
    if out:
        out["credited_to"] = credit_name or wire
    return out


def _cross_site_canonical(page: PageMetadata, url: str) -> str | None:
    for candidate in (*page.links.get("canonical", []), page.first("og:url"),
                      *ld_strings(page.ld("url"))):
        if candidate and candidate.strip():
            absolute = urljoin(url, candidate.strip())
            if absolute.startswith(("http://", "https://")) and not same_site(absolute, url):
                return url_key(absolute)
    return None


def _credit_nodes(tree: etree._Element) -> list:
    """Text nodes (lxml smart strings, which know their parent) that may start a credit line."""
    text = _BODY_TEXT(tree)
    if not _CREDIT_FOLDED.search(text.lower()):
        return []
    words = sorted({found.group() for found in _CREDIT_ANY_CASE.finditer(text)})[:8]
    if not words:  # lower() matched a letter that case-blind matching does not fold the same way
        return []
    return _text_nodes_containing(len(words))(
        tree, **{f"w{i}": word for i, word in enumerate(words)})[:20]


def _credit(tree: etree._Element, url: str) -> tuple[str | None, str | None]:
    for node in _credit_nodes(tree):
        el = node.getparent()
        while el is not None and el.tag not in ("script", "style"):
            text = " ".join("".join(el.itertext()).split())
            if len(text) > 300:
                break
            match = _CREDIT.search(text)
            if match:
                return match["name"].strip(" .-'\u2019") or None, _credit_link(el, url)
            el = el.getparent()
    return None, None


def _credit_link(el: etree._Element, url: str) -> str | None:
    for a in el.iter("a"):
        href = (a.get("href") or "").strip()
        absolute = urljoin(url, href) if href else ""
        if absolute.startswith(("http://", "https://")) and not same_site(absolute, url):
            return url_key(absolute)
    return None

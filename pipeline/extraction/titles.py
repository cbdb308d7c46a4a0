"""The article title: which of a page's candidate titles is the headline, and the site's
furniture (its name, a section, a learned per-source prefix or suffix) taken off it.

A page offers several titles: JSON-LD `headline`, `og:title`, `twitter:title`, its `<h1>`s,
Dublin Core, the `<title>`, trafilatura's guess, and the feed's. They often differ on purpose:
the `<title>` is the search-engine title, `og:title` the social one, the `<h1>` what readers see.
`choose` picks one with a few general rules (see `docs/extraction.md`, "Titles"); each candidate
is cleaned the same way first, so that comparisons between them see headlines, not furniture.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from html import unescape
from itertools import chain

from pipeline.extraction.metadata import PageMetadata, ld_strings
from pipeline.text.cleaning import fix_mojibake
from pipeline.text.names import key_variants, name_key, site_name_keys

_DATE_SEGMENT = re.compile(r"^\s*\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\s*$")  # "| 28.04.2023"
_INVISIBLE = str.maketrans("", "", "\u00ad\u200b\u200c\u200d\u2060\ufeff")
# Spaced separators (" | ", " - ", en/em dash, " · ", " » ", " ~ ", " :: "), and the ones CJK
# titles use without spaces: "|", the full-width bar (U+FF5C) and colon (U+FF1A), and U+3163
# (a Hangul letter used as a bar).
_TITLE_SEP = re.compile(r"(\s+(?:[\-\u2013\u2014·•»~]|::)\s+|\s*[|\uff5c\u3163\uff1a]\s*)")
_PIPE = re.compile(r"\s*[|\uff5c]\s*")
# A trailing " | segment" of at most this many words is furniture (a section, a brand, a
# content type: "| Opinion", "| Patient Education", "| Rust Blog"), whatever its words.
_PIPE_TAIL_WORDS = 5
# An <h1> must share at least this share of its words with the page's metadata titles to be
# taken as the headline: an <h1> that shares none is the site's or a section's banner.
_H1_OVERLAP = 0.25

def strip_site_name(title: str, site_names: Sequence[str]) -> str:
    """Remove a leading or trailing segment of `title` that is the site's name.

    Only separated segments (" | ", " - ", en/em dashes, " · ", " » ", and the unspaced CJK
    bars and colon) that match a known site name are removed, so a headline that itself contains
    " - " stays whole.
    """
    return _strip_site(title, site_name_keys(*site_names))


def _strip_site(title: str, keys: set[str]) -> str:
    if not keys:
        return title

    def is_site(segment: str) -> bool:
        variants = key_variants(segment)
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


def strip_learned(title: str, affixes: Sequence[tuple[str, str]]) -> str:
    """Remove the source's learned ("prefix" | "suffix", text) affixes (`title_affixes`)
    from `title`; never the whole title."""
    for position, affix in affixes:
        if len(title) <= len(affix):
            continue
        if position == "suffix" and title.endswith(affix):
            title = title[: -len(affix)].rstrip()
        elif position == "prefix" and title.startswith(affix):
            title = title[len(affix):].lstrip()
    return title


def fold(text: str) -> str:
    """Compare-key for whole titles: NFKC, case-folded, whitespace folded (punctuation kept)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


def choose(page: PageMetadata, *, site_names: Sequence[str], section: str | None,
           fallbacks: Sequence[Callable[[], str | None]] = (), override: str | None = None,
           learned: Sequence[tuple[str, str]] = ()) -> str | None:
    """The page's title. `fallbacks` are tried last, in order, each worked out only if reached
    (trafilatura's title, the feed's); `override` (the source's title selector) wins outright;
    `learned` are the source's learned affixes."""
    if override:
        return " ".join(override.split())
    keys = site_name_keys(*site_names)
    section_key = name_key(section) if section else None

    def clean(candidate: object) -> str | None:
        if not candidate or not isinstance(candidate, str):
            return None
        text = fix_mojibake(unescape(candidate) if "&" in candidate else candidate)
        text = _strip_site(" ".join(text.translate(_INVISIBLE).split()), keys)
        if section:  # "Headline | Sport | Site": the section is furniture too, at the end only
            parts = _TITLE_SEP.split(text)
            if len(parts) >= 3 and name_key(parts[-1]) == section_key:
                text = _strip_site("".join(parts[:-2]), keys)
        text = strip_learned(text, learned)
        parts = _PIPE.split(text)
        if len(parts) >= 2 and len(parts[0].split()) >= 3 \
                and len(parts[-1].split()) <= _PIPE_TAIL_WORDS:
            text = parts[0]
        key = name_key(text)
        return text if key and key not in keys else None  # not only punctuation or the site

    headline = next(filter(None, map(clean, ld_strings(page.ld("headline")))), None)
    og, twitter, tag = (clean(page.first("og:title")), clean(page.first("twitter:title")),
                        clean(page.title_tag))
    # JSON-LD headline and og:title disagree: when the headline is a copy of the <title> (the
    # search-engine title the CMS fills in everywhere), og:title is the one an editor wrote.
    editorial = [headline, og]
    if headline and og and tag and fold(headline) == fold(tag) != fold(og):
        editorial = [og, headline]
    title_key = name_key(page.title_tag or "")
    h1_in_title = next((h for h in page.h1s
                        if name_key(h) and (not title_key or name_key(h) in title_key)), None)
    candidates = [
        _visible_headline(page, [clean(h) for h in page.h1s], [headline, og, twitter, tag]),
        *editorial,
        twitter,
        clean(h1_in_title),
        clean(page.first("dc.title", "dcterms.title", "headline")),
        tag,
    ]
    return next(filter(None, chain(candidates, (clean(value()) for value in fallbacks))), None)


def _visible_headline(page: PageMetadata, h1s: list[str | None],
                      metadata: list[str | None]) -> str | None:
    """The <h1> to prefer over the metadata titles, if any.

    A page that declares itself a news article has an edited headline in its metadata; on other
    pages (blogs, company news, documentation) the visible <h1> is the title, and their
    og:title/JSON-LD is often an SEO variant. One or two h1s only (more is a listing's), of three
    words or more, sharing words with the metadata titles (an <h1> that shares none is a banner:
    the site's name, "Our blog", a newsletter's name above the post's own <h1>).
    """
    if page.is_news_article or not 1 <= len(page.h1s) <= 2:
        return None
    known = set().union(*(_words(m) for m in metadata if m))
    for h1 in h1s:
        if not h1 or len(h1.split()) < 3:
            continue
        words = _words(h1)
        if not known or len(words & known) >= _H1_OVERLAP * len(words):
            return h1
    return None

"""Body text rules applied around trafilatura: the publisher's own body (JSON-LD `articleBody`,
the story in the page's app state) as a fallback, the removal of promotional lines at the edges
of the body and of placeholder lines anywhere in it.

Both were measured on the development corpus (`bench/extraction_quality.py`); they are kept
general (no site names) because a held-out set of pages is scored the same way.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

from pipeline.text.cleaning import word_count

# --- the publisher's own body -----------------------------------------------------------------

# trafilatura sometimes stops early: a page split into several containers, a long read whose
# later parts sit in sibling sections; or finds nothing, on a page rendered in the browser. When
# the publisher's own body (JSON-LD `articleBody`, or the story HTML in the page's app state,
# `app_state`) is clearly longer and repeats a good part of what trafilatura found (the
# same article, not a teaser or another story), or trafilatura found only a stub, it is the
# better body.
LONGER_BY = 1.5  # the publisher's body must have at least this many times the words of ours
MIN_SHARED = 0.4  # ... and hold at least this share of trafilatura's 4-word shingles

_BLOCKS = ("p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre")
_MARKUP = re.compile(r"<(?:p|br|div|h[1-6]|li|ul|ol|blockquote|span|a|em|strong)\b", re.I)
# Parts of a story's HTML that are not its text.
_NOT_TEXT_TAGS = ("figure", "figcaption", "script", "style", "iframe", "aside")
_NOT_TEXT_CLASS = re.compile(r"caption|embed|advert", re.IGNORECASE)


def article_body_text(raw: str) -> str:
    """Plain text of a publisher's body, one paragraph per line. Some CMSes put the story's
    HTML in it (`<p>…</p>`): its block elements become lines, its tags, figures, captions and
    embeds go."""
    if not _MARKUP.search(raw):
        return raw
    try:
        fragment = lxml_html.fragment_fromstring(raw, create_parent="div")
    except (etree.ParserError, ValueError):
        return raw
    for el in list(fragment.iterdescendants(tag=etree.Element)):
        if el.tag in _NOT_TEXT_TAGS or _NOT_TEXT_CLASS.search(el.get("class") or ""):
            el.drop_tree()
    blocks = fragment.xpath(" | ".join(f".//{tag}" for tag in _BLOCKS))
    if not blocks:
        return fragment.text_content()
    # Nested blocks (<li><p>…</p></li>) would repeat text: keep the outermost only.
    inner = {id(el) for block in blocks for el in block.iterdescendants()}
    return "\n".join(b.text_content() for b in blocks if id(b) not in inner)


def _shingles(text: str) -> set[tuple[str, ...]]:
    tokens = re.findall(r"\w+", text.casefold())
    return {tuple(tokens[i:i + 4]) for i in range(len(tokens) - 3)}


def prefer_publisher_body(extracted: str, *publisher_bodies: str | None,
                          min_words: int = 0) -> str:
    """The longest of `publisher_bodies` (already plain text) that should replace trafilatura's
    `extracted` text: any, when `extracted` has fewer than `min_words` words; else one much
    longer that shares enough of it. `extracted` when none should."""
    words = word_count(extracted)
    found = _shingles(extracted) if words >= min_words else None  # None: a stub, any body wins
    best, best_words = extracted, words
    for candidate in filter(None, publisher_bodies):
        candidate_words = word_count(candidate)
        if candidate_words <= best_words:
            continue
        if found is None or (candidate_words >= LONGER_BY * max(1, words) and found
                             and len(found & _shingles(candidate)) >= MIN_SHARED * len(found)):
            best, best_words = candidate, candidate_words
    return best


# --- promotional lines at the edges ---------------------------------------------------------

# Lines that sell, sign up, disclose or assert rights, never the story: newsletter and
# subscription prompts, "subscribers only" notices, copyright lines, "follow us on", donation
# appeals. Only removed in a run at the very end of the body, where templates put them: in the
# middle, or at the start (a story about newsletters), the same words may be the story.
_PROMO = re.compile(
    r"newsletter|\binbox\b|\bsign(?:ing)? up\b|\bsubscribe\b|\bunsubscribe\b|abonnier|"
    r"suscríbete|inscrivez-vous|"
    r"^©|^\(c\)\s|^<?copyright\b|all rights reserved|alle rechte vorbehalten|"
    r"tous droits réservés|todos los derechos reservados|"
    r"réservée aux abonnés|für abonnenten|solo para suscriptores|sólo para suscriptores|"
    r"subscribers only|exclusive to .{0,20}subscribers|会員限定|有料会員|"
    r"^follow (?:us|me)\b|\bfollow us on\b|whatsapp-kanal|"
    r"\bfolg(?:st|en sie) .{0,30}\b(?:auf|bei) (?:whatsapp|instagram|facebook|x|telegram)\b|"
    r"\bdonate\b|\bspende\b|unterstützen sie uns|support (?:us|our|my) (?:work|journalism)|"
    r"become a patron",
    re.IGNORECASE,
)
# Affiliate disclosures, at either end ("This post contains affiliate links…", "We may earn a
# commission…"): worded as a notice about the page, not as a sentence of the story.
_DISCLOSURE = re.compile(
    r"\b(?:contains?|uses?|includes?|may contain) (?:some )?affiliate links|"
    r"\baffiliate marketer\b|^\*?(?:affiliate |advertiser )?disclosure\b|"
    r"\bmay (?:earn|receive) (?:us )?(?:a )?(?:small )?commission|"
    r"chosen independently by our editors",
    re.IGNORECASE,
)
MAX_PROMO_WORDS = 60  # a longer line is a paragraph that merely mentions a newsletter
MAX_EDGE_SHARE = 0.3  # never remove more than this share of the body's words


def strip_edge_promos(body: str) -> str:
    """Remove a run of affiliate disclosures at the start of `body`, and a run of promotional
    lines or disclosures at its end. If they add up to more than `MAX_EDGE_SHARE` of the words,
    the body is returned unchanged: the "promo" is then what the page is about."""
    lines = body.split("\n")
    start, end = 0, len(lines)
    while start < end and _short(lines[start]) and _DISCLOSURE.search(lines[start]):
        start += 1
    while end > start and _short(lines[end - 1]) and (
            _PROMO.search(lines[end - 1]) or _DISCLOSURE.search(lines[end - 1])):
        end -= 1
    if start == 0 and end == len(lines):
        return body
    removed = lines[:start] + lines[end:]
    if sum(word_count(line) for line in removed) > MAX_EDGE_SHARE * word_count(body):
        return body
    return "\n".join(lines[start:end])


def _short(line: str) -> bool:
    return len(line.split()) <= MAX_PROMO_WORDS


# --- placeholder lines ----------------------------------------------------------------------

# Text that stands in for something else, anywhere in the body: a template's "Lorem ipsum", the
# notice an embed shows when the reader's privacy settings block it ("Externer Inhalt nicht
# verfügbar"), the consent small print under a sign-up form ("By entering your email address
# you agree…").
_PLACEHOLDER = re.compile(
    r"^(?:- )?lorem ipsum\b|^externer inhalt\b|privatsphäre-einstellungen|"
    r"\bexterne[nr]? inhalte?\b.{0,120}\b(?:angezeigt|anzeigen|laden)\b|"
    r"^by (?:entering|submitting|providing) (?:your|a|this)\b.{0,120}"
    r"\b(?:you agree|you are consenting|you consent)",
    re.IGNORECASE,
)
MAX_PLACEHOLDER_WORDS = 80


def drop_placeholder_lines(body: str) -> str:
    return "\n".join(line for line in body.split("\n")
                     if len(line.split()) > MAX_PLACEHOLDER_WORDS
                     or not _PLACEHOLDER.search(line))

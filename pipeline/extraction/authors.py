"""Author reconciliation: which of the names a page declares or shows are its authors.

Steps, first usable one wins (`reconcile`): the source's override, JSON-LD `author`/`creator`,
`article:author`, the author `<meta>` names (surname-first Dublin Core read as such), Yoast's
"Written by" Twitter label, microdata, the visible byline element (class or `rel=author`; its
name-only parts when it has them), a "By Jane Doe" line under the headline, an author archive
link, trafilatura's guess, a "Written by" line or "Author" label anywhere on the page (an author
box after the story), the feed's author. Every step's strings go through
`text.bylines.clean_authors`. A step whose names are all weak (the site's own name, login handles,
a generic "Staff") falls through to the next; if no later step names anyone, the first weak
name is kept: the publisher is then the author. The page steps after the byline element are
guesses from the text and never replace a declared name, even a weak one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from pipeline.extraction.fallback_metadata import TrafilaturaMetadata
from pipeline.extraction.metadata import PageMetadata, ld_strings
from pipeline.text.bylines import clean_authors, is_handle, surname_first
from pipeline.text.dates import DATE_PATTERN
from pipeline.text.names import name_key

# Byline-like elements: rel=author, or a class naming an author, byline or signature. Matched
# over a lazy walk that stops at the first usable one (an XPath translating every element's
# class cost 8 ms a page).
_AUTHOR_CLASS = re.compile(r"author|byline|auteur|signature|autor")
_NOT_BYLINE_TAGS = frozenset({"script", "style", "meta", "link", "img", "body", "article"})
# A byline element that only announces the name, which then sits in the next one.
_LABEL_ONLY = re.compile(
    r"^\W*(?:(?:about\s+)?the\s+author|authors?|(?:written|posted)\s+by|by)\W*$", re.IGNORECASE)
# Yoast writes the author as a Twitter card label/data pair ("Written by" / "Jane Doe"), also on
# pages whose JSON-LD and <meta name=author> are missing.
_WRITTEN_BY_LABEL = re.compile(r"(?:^|\s)(?:by|von|par|por|da|door|av|przez)$|auth?or|auteur",
                               re.IGNORECASE)

Clean = Callable[[list[str]], list[str]]


def reconcile(page: PageMetadata, guessed: TrafilaturaMetadata, tree: etree._Element, hints: dict,
              site_names: list[str]) -> list[str]:
    """The page's authors, cleaned; [] when nobody is named."""

    def clean(raw: list[str]) -> list[str]:
        return clean_authors(raw, site_names)

    if hints.get("override_authors"):
        names = clean(hints["override_authors"])
        if names:
            return names
    return choose(candidates(page, guessed, tree, hints, clean), clean)


def candidates(page: PageMetadata, guessed: TrafilaturaMetadata, tree: etree._Element, hints: dict,
               clean: Clean) -> tuple[tuple[str, Callable[[], list[str]]], ...]:
    """Every step, in order, as (name, raw strings), computed only when reached."""
    ld = page.jsonld
    return (
        ("json-ld", lambda: ld_strings(ld.get("author"), "name")
         or ld_strings(ld.get("creator"), "name")),
        ("article:author", lambda: page.all("article:author")),
        ("meta", lambda: page.all("author", "sailthru.author", "parsely-author", "byl")
         + [surname_first(v)
            for v in page.all("dc.creator", "dcterms.creator", "citation_author")]),
        ("twitter", lambda: twitter_written_by(page)),
        ("microdata", lambda: page.itemprops.get("author", [])),
        ("byline", lambda: byline_element(tree)),
        ("by-line", lambda: by_line(tree, clean)),
        ("author-link", lambda: author_link(tree, clean)),
        ("trafilatura", lambda: [guessed.author] if guessed.author else []),
        ("labelled", lambda: labelled_name(tree, clean)),
        ("feed", lambda: hints.get("authors") or []),
    )


# Steps that guess from the page's text rather than read what it declares: they never replace a
# declared name, even a weak one (the site's name, a handle).
_GUESSES = frozenset({"by-line", "author-link", "trafilatura", "labelled"})


def choose(steps: tuple[tuple[str, Callable[[], list[str]]], ...], clean: Clean) -> list[str]:
    """The names of the first step that names someone who is not weak; else the first weak
    name (the site, a handle, "Staff")."""
    fallback: list[str] = []
    rejected: list[str] = []  # keys of the weak strings seen so far
    for step, candidate in steps:
        if fallback and step in _GUESSES:
            break
        raw = candidate()
        if not raw:
            continue
        names = clean(raw)
        if step == "trafilatura":
            # trafilatura re-reads the same <meta> tags and title-cases what it finds: its
            # "Andrew Keaveney", "Www Facebook Com" are the handle or URL already turned down.
            names = [n for n in names if not any(name_key(n) in r for r in rejected)]
        if names and not all(is_handle(n) for n in names):
            return names
        rejected.extend(name_key(r) for r in raw)
        if not fallback:
            fallback = names or clean_authors(raw, keep_generic=True)
    return fallback


def twitter_written_by(page: PageMetadata) -> list[str]:
    """`twitter:dataN` whose `twitter:labelN` says "Written by" (any language)."""
    found = []
    for n in range(1, 5):
        label = page.first(f"twitter:label{n}")
        if label is None:
            break
        if _WRITTEN_BY_LABEL.search(label.strip()):
            found.extend(page.all(f"twitter:data{n}"))
    return found


def byline_element(tree: etree._Element) -> list[str]:
    """The text of the first short byline-like element ("Par A et B")."""
    seen = 0
    for el in tree.iter(tag=etree.Element):
        css = (el.get("class") or "").lower()
        if (el.get("rel") != "author" and not _AUTHOR_CLASS.search(css)) or "comment" in css:
            continue  # a reader's comment ("comment-author") is not the article's byline
        seen += 1
        if seen > 20:
            break
        if el.tag in _NOT_BYLINE_TAGS:
            continue
        # Pieces joined with spaces: "<a>Jane Doe</a><time>Dec 14</time>" is two things.
        text = " ".join(" ".join(el.itertext()).split())
        if 2 < len(text) <= 120 and not _LABEL_ONLY.match(text):
            return names_inside(el) or [text]
    return []


# Inside a byline, the parts that hold only a name: a link to the author's archive, an element
# whose class says name ("author-name", "byline__name", hCard's "fn"). Their siblings are labels,
# job titles and dates ("Written By:", "Gardener & Astrologer", "Writer, Hardware").
_NAME_CLASS = re.compile(r"name(?:$|[-_\s])|(?:^|\s)fn(?:$|\s)")
_AUTHOR_HREF = re.compile(r"/(?:authors?|contributors?|writers?|profiles?)/[^/?#]")


def names_inside(byline: etree._Element) -> list[str]:
    """The texts of the name-only parts of `byline` (outermost ones, in page order); [] when it
    has none."""
    found: list[etree._Element] = []
    for el in byline.iterdescendants(tag=etree.Element):
        if any(outer in el.iterancestors() for outer in found):
            continue
        if (_NAME_CLASS.search((el.get("class") or "").lower())
                or (el.tag == "a" and _AUTHOR_HREF.search(el.get("href") or ""))):
            found.append(el)
    names = [" ".join(" ".join(el.itertext()).split()) for el in found]
    return list(dict.fromkeys(n for n in names if n))


# The text nodes right under the headline, where a byline without a telling class sits; further
# down are the story's own sentences ("By comparison, ..."), above it menus ("By Industry").
_NEAR_HEADLINE = etree.XPath(
    "(//h1)[1]/following::text()[normalize-space()][position() <= 25]")
# "By", "Written by:", "Posted by", "Par", "Von", maybe after the date ("Apr 17, 2025 By ...").
_BY_MARK = re.compile(
    rf"^\W*(?:{DATE_PATTERN}[\s|•·⋅,\-\u2013\u2014]*)?"
    r"(?:(?:written|posted|article|story|words|text|reported|compiled|authored|recipe)\s+)?"
    r"(?:by|By|BY|Von|Par)\b\s*:?", re.IGNORECASE)
_BY_WORD = re.compile(r"(?<!\w)(?:by|By|BY|Von|Par)\b")
_SKIP_TEXT_PARENTS = frozenset({"script", "style", "noscript", "template", "option", "title",
                                "figcaption", "button"})


def by_line(tree: etree._Element, clean: Clean) -> list[str]:
    """The first line under the headline that starts with a byline marker ("By Jane Doe",
    "Written by: Jane Doe", "Apr 17, 2025 By Jane Doe"), for pages whose byline has no telling
    class. The line is the marker's element, widened to its parent when the name sits in a
    sibling (`<span>By</span> <a>Jane Doe</a>`); the name must start with a capital letter
    ("By the way, ..." is prose)."""
    for node in _NEAR_HEADLINE(tree):
        if not _BY_MARK.match(node):
            continue
        el = node.getparent()
        if el is not None and node.is_tail:
            el = el.getparent()
        if el is None or el.tag in _SKIP_TEXT_PARENTS:
            continue
        for _ in range(3):
            text = " ".join(" ".join(el.itertext()).split())
            mark = _BY_WORD.search(text)
            if (mark and any(c.isalpha() for c in text[mark.end():])) or el.getparent() is None:
                break
            el = el.getparent()
        if mark is None or len(text) > 160:
            continue
        first = next((c for c in text[mark.end():] if c.isalpha()), "")
        if first.isupper() and clean([text[mark.start():]]):
            return names_inside(el) or [text[mark.start():]]
    return []


# Links to an author's archive page ("/author/jane-doe/", "/blog/authors/jane-doe",
# "/contributor/a._j._neal"), the usual WordPress, Ghost and CMS convention.
_AUTHOR_LINKS = etree.XPath(
    "//body//a[contains(@href, '/author') or contains(@href, '/contributor')"
    " or contains(@href, '/writer')]")
_AUTHOR_SLUG = re.compile(r"/(?:authors?|contributors?|writers?)/([^/?#]+)")


def author_link(tree: etree._Element, clean: Clean) -> list[str]:
    """The text of the first link to an author's archive whose text is the name in its URL
    ("<a href=/author/colin-watson>Colin Watson</a>"); a link whose text is something else
    ("More articles", "Authors") is menu furniture."""
    for a in _AUTHOR_LINKS(tree)[:30]:
        slug = _AUTHOR_SLUG.search(a.get("href", ""))
        if slug is None:
            continue
        text = " ".join(" ".join(a.itertext()).split())
        names = clean([text]) if 2 < len(text) <= 80 else []
        if names and name_key(names[0]) in name_key(slug[1]):
            return [text]
    return []


# Anywhere on the page (an author box after the story, a sidebar): "Written by Jane Doe", or a
# label element ("Author", "Article by") whose next sibling holds the name. Unlike a bare "By",
# these words are not how a story's sentences start.
_WRITTEN_BY = re.compile(
    r"^\W*(?i:written|posted|authored|article|story|words)\s+(?i:by)\s*:?\s+"
    r"(?=[A-Z\u00C0-\u024F])")
_AUTHOR_LABEL = re.compile(
    r"^\W*(?:(?:the\s+)?authors?|(?:written|posted|article|authored)\s+by|autor(?:in)?|auteur)"
    r"\W*$", re.IGNORECASE)
_LABELLED_TEXTS = etree.XPath("//body//text()[normalize-space()]")
MAX_NAME_LINE = 80


def labelled_name(tree: etree._Element, clean: Clean) -> list[str]:
    """The first name set out by a "Written by" line or an "Author" label anywhere in the
    page's body, for pages that name their author only there."""
    for node in _LABELLED_TEXTS(tree)[:3000]:
        el = node.getparent()
        if el is None or el.tag in _SKIP_TEXT_PARENTS:
            continue
        text = " ".join(node.split())
        if _WRITTEN_BY.match(text) and len(text) <= MAX_NAME_LINE and clean([text]):
            return [text]
        if node.is_tail or not _AUTHOR_LABEL.match(text) or len(el) or el.tag == "a":
            continue
        sibling = el.getnext()
        name = " ".join(" ".join(sibling.itertext()).split()) if sibling is not None else ""
        if 2 < len(name) <= MAX_NAME_LINE and name[0].isupper() and clean([name]):
            return [name]
    return []

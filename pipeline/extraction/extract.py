"""HTML page -> `Article`: trafilatura for the body, the page's structured metadata for the rest.

The page is parsed once (trafilatura's own loader, so its decoding and repairs apply: `page`);
the metadata harvest reads that tree, then trafilatura extracts the body from it (it takes its
own copy). trafilatura's metadata guesses are worked out from the same tree only when a step
falls back to them (`fallback_metadata`).

Field reconciliation, first usable value wins:

0. the source's YAML selectors (`extraction:` in sources.yaml, `pipeline.sources.overrides`), if set
1. JSON-LD (the page's article object, `@graph` flattened)
2. `article:*` / OpenGraph
3. Dublin Core, microdata `itemprop`, and other `<meta>` names (`author`, `pubdate`, parsely...)
4. trafilatura's own metadata guess
5. what the page shows (the headline zone, the visible byline)
6. discovery hints (a feed item's or sitemap's date, title, authors)

Each field's steps live in their own module: `titles`, `authors`, `dates` (published and
modified dates, and the `date_source` label), `language`, `fields` (canonical URL, description,
section, tags, image, paywall, the index-page check), `body` (rules around trafilatura's body).
"""

from __future__ import annotations

from datetime import datetime
from importlib.metadata import version

import trafilatura
from lxml import etree

from pipeline.article import Article
from pipeline.errors import NewsdeskError
from pipeline.extraction import app_state, dates, fields, provenance, titles, trafilatura_gate
from pipeline.extraction import authors as author_steps
from pipeline.extraction import body as body_rules
from pipeline.extraction import boilerplate as bp
from pipeline.extraction import overrides as ov
from pipeline.extraction import page as page_parsing
from pipeline.extraction.fallback_metadata import TrafilaturaMetadata
from pipeline.extraction.language import language as page_language
from pipeline.extraction.metadata import PageMetadata, harvest, ld_strings
from pipeline.sources.config import Source
from pipeline.text.cleaning import clean_body, content_hash, word_count
from pipeline.text.dates import to_utc
from pipeline.text.names import name_key

EXTRACTOR_VERSION = f"1.4.1+trafilatura{version('trafilatura')}"

MIN_WORDS = 20  # fewer words than this is a stub, a teaser or an error page, not an article


class NotAnArticle(NewsdeskError):
    """The page holds no article body (too short, script-only, an index page)."""


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
    try:
        tree, markup = page_parsing.parse(html, hints.get("content_type"))
    except page_parsing.UnreadablePage as exc:
        raise NotAnArticle(f"{url}: {exc}") from None
    rules = source.extraction if source is not None and not source.extraction.empty else None
    if rules:
        ov.drop(tree, rules)
        hints = {**hints, **ov.hints(tree, rules)}
    page = harvest(tree)
    site_names = fields.site_names(page, url, source)
    page_parsing.drop_consent_banners(tree)

    date_params = dates.trafilatura_date_params(fetched_at)
    body_extras = {}  # which path trafilatura's body took, when it ran
    if hints.get("override_body"):
        text = hints["override_body"]
    else:
        found, body_extras["body_path"] = _trafilatura(tree, url, date_params)
        text = body_rules.prefer_publisher_body(
            found, _article_body(page), _app_state_body(tree), min_words=MIN_WORDS)
    if not text.strip():
        raise NotAnArticle(f"{url}: no article text found on the page")
    guessed = TrafilaturaMetadata(tree, url, date_params)

    section = fields.section(page, tree)
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
    if fields.looks_like_index(page, tree, body):
        raise NotAnArticle(f"{url}: looks like an index page (body is mostly link texts)")

    language = page_language(page, source, body, words)
    # The page's language, then the source's (a byline may keep the site's language).
    languages = list(dict.fromkeys(x for x in (language, source.language if source else None)
                                   if x)) or None
    chosen = dates.choose(page, guessed, tree, url, tz=tz, languages=languages,
                          fetched_at=fetched_at, hints=hints)

    authors = author_steps.reconcile(page, guessed, tree, hints, site_names)
    return Article(
        url=url,
        canonical_url=fields.canonical(page, url),
        source=source.name if source else None,
        title=title,
        description=fields.description(page, guessed),
        authors=authors,
        published_at=chosen.published,
        modified_at=chosen.modified,
        date_source=chosen.source,
        language=language,
        section=section,
        tags=fields.tags(page),
        image_url=fields.image(page, guessed, tree, url),
        body=body,
        word_count=words,
        is_paywalled=fields.paywalled(page, tree, markup),
        content_hash=content_hash(body),
        fetched_at=fetched_at,
        extractor_version=EXTRACTOR_VERSION,
        extras={"jsonld_types": page.jsonld_types, "boilerplate_removed": removed, **body_extras,
                # dedupe's explicit original signals (cross-site canonical, credit, wire byline)
                **provenance.signals(tree, page, url, authors)},
    )


def _trafilatura(tree: etree._Element, url: str, date_params: dict) -> tuple[str, str]:
    """trafilatura's body text ("" when it finds none) and the path it took
    (`trafilatura_gate`: its readability/justext second opinions run only where they could
    change the body). When its balanced mode finds no body (or a stub), once more favouring
    recall: some layouts (product roundups, page builders) only yield to that mode, and a page
    that yields nothing either way costs the retry only. Without its metadata:
    `TrafilaturaMetadata` guesses that only where our steps need it."""
    options = {"url": url, "with_metadata": False, "include_comments": False,
               "include_tables": True, "date_extraction_params": date_params}
    with trafilatura_gate.recording() as paths:
        doc = trafilatura.bare_extraction(tree, **options)
        text = (doc.text or "") if doc is not None else ""
        if word_count(text) < MIN_WORDS:
            retry = trafilatura.bare_extraction(tree, favor_recall=True, **options)
            if retry is not None and word_count(retry.text or "") > word_count(text):
                text = retry.text
    return text, trafilatura_gate.body_path(paths)


def _article_body(page: PageMetadata) -> str | None:
    """The publisher's own body text from JSON-LD `articleBody`, if any."""
    found = "\n".join(ld_strings(page.ld("articleBody")))
    return body_rules.article_body_text(found) if found else None


def _app_state_body(tree: etree._Element) -> str | None:
    """The story held in the page's app state (a page rendered in the browser), if any."""
    found = app_state.story_html(tree)
    return body_rules.article_body_text(found) if found else None


def _body(text: str, title: str | None) -> str:
    """The body text cleaned, without the title repeated as its first line, placeholder lines
    and promotional lines at its edges."""
    body = clean_body(text)
    if title and body:
        first, _, rest = body.partition("\n")
        if name_key(first) == name_key(title):
            body = rest
    return body_rules.strip_edge_promos(body_rules.drop_placeholder_lines(body))

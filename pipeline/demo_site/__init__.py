"""The demo news site: a deterministic, realistic fake news web served on 127.0.0.1.

Three publishers, each its own origin with its own template, metadata style, language and time
zone, discovery documents (robots.txt, feeds, sitemap index, Google News sitemap, paginated
section listings) and traps. Pages are generated on request from (seed, publisher, index), so
100,000 articles cost no memory beyond a small skeleton; the generator knows the ground truth.

- dailyplanet (en, America/New_York): WordPress-like, JSON-LD `@graph`, RSS 2.0 at /feed/,
  articles at /YYYY/MM/DD/slug-ID/, "Exit mobile version" on every page. Traps: a paywalled
  teaser (`isAccessibleForFree: false`), a feed item that 404s (a withdrawn story) and a
  live-blog shell that matches the article pattern but has no body.
- metroherald (en, Europe/London): OpenGraph + `article:*` meta only, Atom feed, articles at
  /news/SECTION/slug-ID. Traps: syndicated copies of Daily Planet stories (title-cased headline,
  credit line, cross-site rel=canonical) and a feed item with a stale slug that 301s.
- lecourrier (fr, Europe/Paris): no structured metadata; "Par ...", "Publié le 12 mars 2026 à
  14h30"; RSS feed; articles at /article/slug-ID.html.

Use `serve_demo_site(DemoSite(...))` for real HTTP; `DemoSite.respond` renders offline.
`pipeline.demo_site.replay` serves saved real pages as their publishers through the same server
(`serve_replay_site`, behind `newsdesk demo --corpus`).
"""

from pipeline.demo_site.model import DEFAULT_ANCHOR, ArticleTruth, Publisher
from pipeline.demo_site.server import RunningSite, serve_demo_site
from pipeline.demo_site.site import DISCOVERY_KINDS, DemoSite

__all__ = [
    "DEFAULT_ANCHOR",
    "DISCOVERY_KINDS",
    "ArticleTruth",
    "DemoSite",
    "Publisher",
    "RunningSite",
    "serve_demo_site",
]

"""`newsdesk demo`: serve the demo news site, run the whole job on it, show what to query next."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime, time

from pipeline.cli.jobs import run_pipeline
from pipeline.cli.options import article_count
from pipeline.db import database_url, embedded, redact
from pipeline.db.connection import DATABASE_URL_ENV
from pipeline.demo_site import DemoSite, serve_demo_site
from pipeline.sources.config import load_sources

NEXT_QUERIES = """\
-- articles per source and language
SELECT source, language, count(*) FROM articles GROUP BY 1, 2 ORDER BY 1, 2;

-- the ten newest articles
SELECT published_at, source, title, array_to_string(authors, ', ') AS authors
  FROM articles ORDER BY published_at DESC NULLS LAST LIMIT 10;

-- stories carried by several sources: the original and how far it spread
SELECT story_id, original_source, original_title, original_reason, article_count,
       last_copy_delay
  FROM story_originals ORDER BY original_published_at DESC LIMIT 20;
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the whole pipeline on the built-in demo site")
    parser.add_argument("--seed", type=int, default=7, help="demo site seed (default 7)")
    parser.add_argument(
        "--articles", type=article_count, default=300, help="demo articles (default 300)"
    )
    parser.add_argument(
        "--port", type=int, default=8701,
        help="first publisher's port (default 8701); fixed so a second demo finds the same URLs",
    )
    parser.add_argument("--workers", type=int, metavar="N", help="extraction processes")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    url = database_url()
    sources_file = embedded.home() / "demo-sources.yaml"
    sources_file.parent.mkdir(parents=True, exist_ok=True)
    # Anchored at today's midnight (UTC): the articles end yesterday, so today's report has
    # them, and every demo run of the same day serves the same site (a rerun stores nothing).
    anchor = datetime.combine(datetime.now(UTC).date(), time(), tzinfo=UTC)
    site = DemoSite(seed=args.seed, n_articles=args.articles, anchor=anchor)
    with serve_demo_site(site, base_port=args.port) as site:
        sources_file.write_text(site.sources_yaml(), encoding="utf-8")
        for publisher in site.publishers:
            print(f"demo publisher {publisher.name} at {publisher.base_url}")
        result = run_pipeline(
            load_sources(sources_file),
            sources_path=sources_file,
            no_delay=True,
            workers=args.workers,
        )
    if os.environ.get(DATABASE_URL_ENV):
        print(f"\nThe articles are in {redact(url)}; open it with psql and try:\n")
    else:  # the embedded server's DSN holds no password: safe to show whole
        print("\nThe articles are in the embedded PostgreSQL. Open it with")
        print(f'  psql "{url}"\nand try:\n')
    print(NEXT_QUERIES)
    print("The day's HTML report (charts, source health): newsdesk report --out report.html")
    return 0 if result.ok else 1

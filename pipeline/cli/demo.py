"""`newsdesk demo`: serve the demo news site (or, with --corpus, a folder of saved real pages as
their publishers), run the whole job on it, show what to query next."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path

from pipeline.cli.jobs import run_pipeline
from pipeline.cli.options import article_count, port_number, whole_number, worker_count
from pipeline.db import database_url, embedded, redact
from pipeline.db.connection import DATABASE_URL_ENV
from pipeline.demo_site import DemoSite, RunningSite, serve_demo_site
from pipeline.demo_site.replay import RunningReplay, serve_replay_site
from pipeline.demo_site.replay_pages import Corpus, read_corpus
from pipeline.sources.config import load_sources

#: Up to this many publishers, the demo lists each one's address.
_LISTED_PUBLISHERS = 10

# The demo site's fixed seed and first port (`newsdesk airflow` serves the same site).
DEMO_SEED = 7
DEMO_PORT = 8701

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
    parser.add_argument(
        "--seed", type=whole_number(0), default=DEMO_SEED,
        help=f"demo site seed (default {DEMO_SEED})",
    )
    parser.add_argument(
        "--articles", type=article_count, default=300, help="demo articles (default 300)"
    )
    parser.add_argument(
        "--port", type=port_number, default=DEMO_PORT,
        help=f"first publisher's port (default {DEMO_PORT}); fixed so a second demo finds the "
             "same URLs",
    )
    parser.add_argument("--workers", type=worker_count, metavar="N", help="extraction processes")
    parser.add_argument(
        "--corpus", type=Path, metavar="DIR",
        help="serve saved real pages instead (DIR/<set>/<id>.html.gz beside <id>.json with the "
             "page's URL), one publisher per original site",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    # A missing or empty corpus folder: one line naming it, before any database is started.
    corpus = read_corpus(args.corpus) if args.corpus is not None else None
    url = database_url()
    sources_file = embedded.home() / "demo-sources.yaml"
    sources_file.parent.mkdir(parents=True, exist_ok=True)
    with _served(args, corpus) as site:
        sources_file.write_text(site.sources_yaml(), encoding="utf-8")
        sources = load_sources(sources_file)
        if len(sources) <= _LISTED_PUBLISHERS:
            for name, base_url in site.bases.items():
                print(f"demo publisher {name} at {base_url}")
        else:
            ports = sorted(int(base.rsplit(":", 1)[1]) for base in site.bases.values())
            print(f"{len(sources)} demo publishers on 127.0.0.1, ports {ports[0]}-{ports[-1]} "
                  f"(their sources: {sources_file})")
        result = run_pipeline(
            sources, sources_path=sources_file, no_delay=True, workers=args.workers
        )
    if os.environ.get(DATABASE_URL_ENV):
        print(f"\nThe articles are in {redact(url)}; open it with psql and try:\n")
    else:  # the embedded server's DSN holds no password: safe to show whole
        print("\nThe articles are in the embedded PostgreSQL. Open it with")
        print(f'  psql "{url}"\nand try:\n')
    print(NEXT_QUERIES)
    print("The day's HTML report (charts, source health): newsdesk report --out report.html")
    return 0 if result.ok else 1


@contextlib.contextmanager
def _served(args: argparse.Namespace, corpus: Corpus | None
            ) -> Iterator[RunningSite | RunningReplay]:
    """The site the demo crawls: the saved pages of --corpus, else the generated demo site."""
    if corpus is not None:
        with serve_replay_site(corpus.pages, base_port=args.port) as replay:
            for key, why in {**corpus.skipped, **replay.site.unserved}.items():
                print(f"not served: {key}: {why}")
            yield replay
        return
    site = todays_demo_site(args.seed, args.articles)
    with serve_demo_site(site, base_port=args.port) as running:
        yield running


def todays_demo_site(seed: int = DEMO_SEED, articles: int = 300) -> DemoSite:
    """The demo site of today, as `newsdesk demo` and `newsdesk airflow` serve it (with
    DEMO_PORT): both store into one database, so they must serve the same URLs and dates, or
    one's articles look like copies of the other's.

    Anchored at today's midnight (UTC): the articles end yesterday, so today's report has
    them, and every demo run of the same day serves the same site (a rerun stores nothing)."""
    anchor = datetime.combine(datetime.now(UTC).date(), time(), tzinfo=UTC)
    return DemoSite(seed=seed, n_articles=articles, anchor=anchor)

"""Real pages through the crawl path: the development corpus served as its publishers (the
real-page replay site), crawled by `newsdesk run` into a fresh database, the stored rows scored
against the corpus's answers beside batch extraction of the same pages and bare trafilatura.

Prints a Markdown table per set and overall (body F1, title, authors F1, date by the publisher's
calendar day), and how many pages were served, fetched, stored, and took a feed or sitemap hint
that changed a field. Run by hand, never from the test suite (about 10 minutes on 2 cores):

    .venv/bin/python bench/real_pages.py [--corpus DIR] [--database-url URL]

The end-to-end test (tests/test_real_pages.py) runs the same path on a subset of the publishers.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # for `bench.*` when run as a script
    sys.path.insert(0, str(ROOT))

from bench.corpus_scoring import (  # noqa: E402
    DEFAULT_CORPUS,
    Score,
    add_article,
    add_trafilatura,
    stored_day,
    table,
)
from bench.dedupe_common import throwaway_database  # noqa: E402
from pipeline.article import Article, as_written  # noqa: E402
from pipeline.demo_site.replay import RunningReplay, serve_replay_site  # noqa: E402
from pipeline.demo_site.replay_pages import SavedPage, read_corpus  # noqa: E402
from pipeline.extraction.extract import NotAnArticle, extract_article  # noqa: E402
from pipeline.processing.pool import hints  # noqa: E402
from pipeline.sources.config import Source, load_sources  # noqa: E402
from pipeline.subprocesses import python_module  # noqa: E402

#: The fields compared between the crawl path and batch extraction.
FIELDS = ("title", "authors", "published_at", "body")

_STORED = """
SELECT r.id, r.source, r.url, r.final_url, r.html_gz, r.fetched_at, r.discovery,
       r.headers -> 'Content-Type' ->> 0 AS content_type, r.process_error,
       a.id AS article_id, a.title, a.authors, a.published_at, a.published_offset_minutes,
       a.published_precision, a.published_date, a.body
  FROM raw_pages r LEFT JOIN articles a ON a.raw_page_id = r.id
"""

_SAME_CANONICAL = """
SELECT a.id AS article_id, a.title, a.authors, a.published_at, a.published_offset_minutes,
       a.published_precision, a.published_date, a.body, r.url AS merged_with
  FROM articles a JOIN raw_pages r ON r.id = a.raw_page_id
 WHERE a.canonical_url = %s
"""


def crawl(running: RunningReplay, folder: Path, env: dict[str, str] | None = None,
          timeout: int = 1800) -> subprocess.CompletedProcess:
    """`newsdesk run --no-delay` over every publisher of the replay site, in one run (the crawl
    takes the sources in turns); the caller checks the exit status."""
    sources_file = folder / "replay-sources.yaml"
    sources_file.write_text(running.sources_yaml(), encoding="utf-8")
    return subprocess.run(
        python_module("pipeline.cli", "run", "--sources", str(sources_file), "--no-delay"),
        env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout)


@dataclass
class StoredPage:
    """A saved page as the crawl path left it: its raw_pages rows and the article(s) from them."""

    page: SavedPage
    source: Source
    rows: list[dict[str, Any]]  # raw_pages joined to articles (one row per article)
    #: The URL of the page whose article this one is, when the page declares the same
    #: canonical URL (rel=canonical, og:url) as another page: one article for both.
    merged_with: str | None = None
    _extracted: dict[bool, Article | None] = field(default_factory=dict)

    @property
    def row(self) -> dict[str, Any]:
        return self.rows[0]

    def extract(self, with_hints: bool) -> Article | None:
        """Batch extraction of the bytes the crawl stored, with the same URL, source and fetch
        time; `with_hints` adds what discovery knew (the feed's or sitemap's entry)."""
        if with_hints not in self._extracted:
            row = self.row
            found = hints(row["discovery"] if with_hints else None, row["content_type"])
            try:
                article = extract_article(gzip.decompress(row["html_gz"]), row["final_url"],
                                          source=self.source, fetched_at=row["fetched_at"],
                                          hints=found)
            except NotAnArticle:
                article = None
            self._extracted[with_hints] = article
        return self._extracted[with_hints]


def stored_pages(conn: psycopg.Connection, running: RunningReplay, sources: list[Source]
                 ) -> tuple[dict[str, StoredPage], list[SavedPage]]:
    """Every served page's stored rows (set/id -> StoredPage), and the pages never stored.

    A row belongs to the page the replay site answered its URL with (the crawler may have
    normalised the URL it requested)."""
    by_name = {source.name: source for source in sources}
    found: dict[str, StoredPage] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        for row in cur.execute(_STORED):
            name, page = running.page_at(row["url"])
            if page is None:
                continue
            found.setdefault(page.key, StoredPage(page, by_name[name], [])).rows.append(row)
        for got in found.values():
            _join_same_canonical(cur, got)
    missing = [page for _, page in running.site.pages() if page.key not in found]
    return found, missing


def _join_same_canonical(cur: psycopg.Cursor, got: StoredPage) -> None:
    """A page stored without an article of its own nor an error shares another page's
    canonical URL: give its row that article, and say so."""
    row = got.row
    if row["article_id"] is not None or row["process_error"] is not None:
        return
    batch = got.extract(with_hints=False)
    other = cur.execute(_SAME_CANONICAL, (batch.canonical_url,)).fetchone() if batch else None
    if other is not None:
        got.merged_with = other.pop("merged_with")
        row.update(other)


def article_fields(article: Article | None) -> dict[str, Any]:
    if article is None:
        return dict.fromkeys(FIELDS)
    published = as_written(article.published_at, article.published_offset_minutes,
                           article.published_precision)
    return {"title": article.title, "authors": list(article.authors),
            "published_at": published, "body": article.body}


def stored_fields(row: dict[str, Any]) -> dict[str, Any]:
    if row["article_id"] is None:
        return dict.fromkeys(FIELDS)
    published = as_written(row["published_at"], row["published_offset_minutes"],
                           row["published_precision"])  # offset and precision compared too
    return {"title": row["title"], "authors": list(row["authors"]),
            "published_at": published, "body": row["body"]}


def differences(stored: StoredPage) -> Iterator[tuple[str, str]]:
    """(field, why) for each field where the stored row differs from batch extraction: "hint"
    when extraction with the page's discovery hints gives the stored value, else "unexplained"."""
    got = stored_fields(stored.row)
    batch = article_fields(stored.extract(with_hints=False))
    hinted: dict[str, Any] | None = None
    for name in FIELDS:
        if got[name] == batch[name]:  # dates as written: instant, offset, precision
            continue
        if hinted is None:
            hinted = article_fields(stored.extract(with_hints=True))
        yield name, "hint" if got[name] == hinted[name] else "unexplained"


def truth_of(page: SavedPage, corpus: Path) -> dict:
    answer = json.loads((corpus / page.set_name / f"{page.page_id}.json").read_text("utf-8"))
    answer["url"] = page.url
    return answer


def score_stored(score: Score, truth: dict, row: dict[str, Any]) -> None:
    """Score a stored articles row (no article: an empty one) by its publisher's calendar day."""
    if row["article_id"] is None:
        score.add(truth, "", None, [], None)
    else:
        score.add(truth, row["body"], row["title"], list(row["authors"]), stored_day(row))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--database-url", help="a database to migrate and use (default: a "
                        "throwaway embedded PostgreSQL)")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus folder {args.corpus} not found; nothing to measure (skipped)")
        return 0
    corpus = read_corpus(args.corpus)
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(throwaway_database(args.database_url))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="real-pages-")))
        running = stack.enter_context(serve_replay_site(corpus.pages))
        env = {"NEWSDESK_DATABASE_URL": url, "NEWSDESK_HOME": str(folder / "home")}
        run = crawl(running, folder, env)
        sources = load_sources(folder / "replay-sources.yaml")
        with psycopg.connect(url) as conn:
            stored, missing = stored_pages(conn, running, sources)
            fetched = conn.execute("SELECT coalesce(sum(pages_fetched), 0), "
                                   "coalesce(sum(pages_failed), 0) FROM crawl_runs").fetchone()
            for error, sources in conn.execute(
                    "SELECT error, count(*) FROM crawl_runs WHERE status <> 'success' GROUP BY 1"):
                print(f"{sources} source crawls failed: {error}")
        if run.returncode != 0:
            print(f"the run exited {run.returncode}: {run.stderr.strip().splitlines()[-1:]}")
        report(args, corpus, running, stored, missing, fetched, run.returncode)
    return 0


def report(args, corpus, running, stored, missing, fetched, exit_status) -> None:
    scores: dict[str, dict[str, Score]] = {}
    changed: dict[tuple[str, str], list[str]] = {}
    names = ("crawl path", "batch", "trafilatura")
    for name, page in running.site.pages():
        by_name = {n: scores.setdefault(page.set_name, {}).setdefault(n, Score()) for n in names}
        truth = truth_of(page, args.corpus)
        add_trafilatura(by_name["trafilatura"], truth, page.html, page.url)
        got = stored.get(page.key)
        if got is None:  # never stored: the crawl path scores nothing; batch still extracts
            by_name["crawl path"].add(truth, "", None, [], None)
            add_article(by_name["batch"], truth, _batch_of_saved(page, running, name))
            continue
        score_stored(by_name["crawl path"], truth, got.row)
        add_article(by_name["batch"], truth, got.extract(with_hints=False))
        for found in differences(got):
            changed.setdefault(found, []).append(page.key)
    unserved = {**corpus.skipped, **running.site.unserved}
    print(f"{sum(1 for _ in running.site.pages())} pages served from {args.corpus} as "
          f"{len(running.site.publishers)} publishers ({len(unserved)} not served: {unserved})")
    print(f"crawl: {fetched[0]} article pages fetched ({fetched[1]} requests failed), "
          f"{len(stored)} pages stored in raw_pages, "
          f"{sum(1 for s in stored.values() if s.row['article_id'])} with an article, "
          f"{len(missing)} never stored, run exit status {exit_status}")
    merged = {k: s.merged_with for k, s in stored.items() if s.merged_with}
    print(f"pages stored as another page's article (the same canonical URL): {merged}")
    stored_twice = [k for k, s in stored.items() if len(s.rows) > 1]
    print(f"pages stored as more than one article: {len(stored_twice)} {stored_twice[:5]}")
    errors = Counter((s.row["process_error"] or "").split(":", 1)[-1].strip()[:60]
                     for s in stored.values() if s.row["process_error"])
    print(f"pages without an article (process_error): {sum(errors.values())} {dict(errors)}")
    dated = sum(1 for s in stored.values() if (s.row["discovery"] or {}).get("published"))
    print(f"pages whose feed or sitemap entry gave a publish date (a hint): {dated}")
    print("crawl path vs batch, fields that differ (field, why): "
          + (", ".join(f"{f} {w}: {len(keys)} {keys[:5]}" for (f, w), keys
                       in sorted(changed.items())) or "none"))
    print(f"pages never stored: {[p.key for p in missing][:20]}")
    publisher_of = {page.key: name for name, page in running.site.pages()}
    for page in missing[:20]:  # what the crawler asked that publisher for (the access log)
        hits = running.requests(publisher_of[page.key])
        print(f"  {page.key} {page.target}: " + ", ".join(f"{h.path} {h.status}" for h in hits))
    print()
    print("\n".join(table(scores, names, speed=False)))


def _batch_of_saved(page: SavedPage, running: RunningReplay, name: str) -> Article | None:
    """Batch extraction of a page the crawl never stored: its served bytes at its replay URL."""
    served = running.site.respond(name, page.target, running.bases)
    try:
        return extract_article(served.body, running.url_of(name, page),
                               hints={"content_type": served.content_type})
    except NotAnArticle:
        return None


if __name__ == "__main__":
    sys.exit(main())

"""Where extraction's CPU goes, step by step: `extract_article` (and the worker's dedupe index
keys) over demo-site pages and the dev corpus's real pages, under cProfile.

    .venv/bin/python bench/extraction_steps.py [--pages 300] [--sets demo,corpus]
                                               [--corpus DIR]

Each step is a function, found by its import path and timed by its cumulative time (its callees
included), so the table follows the code as it moves: a step whose function is gone is printed as
missing, one that exists but never ran as "not called", never as a silent zero. Steps nest (the
fallback runs inside trafilatura's body extraction), so their shares do not add up to 100 %.
Each set is extracted once unprofiled first (a warm-up, and the stage's CPU per page without the
profiler's overhead, which inflates Python-heavy steps more than C-heavy ones: read the shares
for where to look, the unprofiled figure for the cost).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import inspect
import pstats
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # for `bench.*` when run as a script
    sys.path.insert(0, str(ROOT))

from bench.corpus_scoring import DEFAULT_CORPUS  # noqa: E402
from pipeline.dedupe.config import DedupeConfig  # noqa: E402
from pipeline.dedupe.matching import index_keys  # noqa: E402
from pipeline.demo_site.replay_pages import read_corpus  # noqa: E402
from pipeline.demo_site.site import DemoSite  # noqa: E402
from pipeline.extraction.extract import NotAnArticle, extract_article  # noqa: E402

#: (step, function as "module:qualname"). The first is the stage every share is taken of.
STEPS = (
    ("the stage: extract_article", "pipeline.extraction.extract:extract_article"),
    ("parsing (trafilatura's loader, once)", "pipeline.extraction.page:parse"),
    ("metadata harvest (JSON-LD, meta tags)", "pipeline.extraction.metadata:harvest"),
    ("trafilatura body, all of it", "pipeline.extraction.extract:_trafilatura"),
    ("  its calls (more than pages: our recall retry)", "trafilatura.core:bare_extraction"),
    ("  its cascade (after its own metadata, settings)", "trafilatura.core:trafilatura_sequence"),
    ("  its tree cleaning and conversion", "trafilatura.core:_prepare_tree"),
    ("  its own extraction (the fast part)", "trafilatura.main_extractor:extract_content"),
    ("  its fallback: readability/justext comparison", "trafilatura.external:compare_extraction"),
    ("  its recall escalation: the retry", "trafilatura.core:_recall_retry"),
    ("  its recall escalation: justext", "trafilatura.external:justext_rescue"),
    ("  its baseline rescue", "trafilatura.baseline:baseline"),
    ("publisher body (articleBody, app state)", "pipeline.extraction.body:prefer_publisher_body"),
    ("trafilatura's metadata guess (lazy)",
     "pipeline.extraction.fallback_metadata:TrafilaturaMetadata._declared"),
    ("titles", "pipeline.extraction.titles:choose"),
    ("body cleaning (title line, promos)", "pipeline.extraction.extract:_body"),
    ("learned boilerplate", "pipeline.extraction.boilerplate:strip_lines"),
    ("index-page check", "pipeline.extraction.fields:looks_like_index"),
    ("language", "pipeline.extraction.language:language"),
    ("dates, all of them", "pipeline.extraction.dates:choose"),
    ("  shown dates: headline zone", "pipeline.extraction.shown_dates:headline_dates"),
    ("  shown dates: byline (dateparser)", "pipeline.extraction.shown_dates:byline_dates"),
    ("  htmldate's search", "pipeline.extraction.dates:_htmldate"),
    ("authors", "pipeline.extraction.authors:reconcile"),
    ("image", "pipeline.extraction.fields:image"),
    ("paywall check", "pipeline.extraction.fields:paywalled"),
    ("provenance signals", "pipeline.extraction.provenance:signals"),
    ("dedupe index keys (in the worker, after extraction)",
     "pipeline.dedupe.matching:index_keys"),
)

Page = tuple[str, bytes | str, datetime | None]  # url, html, fetched_at


def code_key(target: str) -> tuple[str, int, str] | None:
    """The pstats key (file, first line, name) of "module:qualname", None when it is gone."""
    module_name, _, qualname = target.partition(":")
    try:
        obj = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = inspect.getattr_static(obj, part)
    except (ImportError, AttributeError):
        return None
    if isinstance(obj, functools.cached_property):
        obj = obj.func
    elif isinstance(obj, property):
        obj = obj.fget
    elif isinstance(obj, staticmethod | classmethod):
        obj = obj.__func__
    code = getattr(inspect.unwrap(obj), "__code__", None)
    return (code.co_filename, code.co_firstlineno, code.co_name) if code else None


def demo_pages(count: int) -> list[Page]:
    """`count` article pages of a demo site, as its server renders them (publishers in turn)."""
    site = DemoSite(n_articles=max(count, 30))
    bases = {p.name: f"http://{p.name}.example" for p in site.publishers}
    names = [p.name for p in site.publishers]
    pages: list[Page] = []
    index = 0
    while len(pages) < count:
        for name in names:
            if index < site.article_count(name) and len(pages) < count:
                path = site.catalogue.article(name, index).path
                html = site.respond(name, path, bases).body
                pages.append((bases[name] + path, html, site.anchor))
        index += 1
    return pages


def corpus_pages(folder: Path, count: int) -> list[Page]:
    """Up to `count` saved real pages, taken evenly over the corpus (every set represented)."""
    saved = read_corpus(folder).pages
    step = max(1, len(saved) // count)
    return [(p.url, p.html, datetime.now(UTC)) for p in saved[::step][:count]]


def extract_all(pages: list[Page], dedupe: DedupeConfig) -> int:
    """What a process-stage worker does per page; the number of articles."""
    articles = 0
    for url, html, fetched_at in pages:
        try:
            article = extract_article(html, url, fetched_at=fetched_at)
        except NotAnArticle:
            continue
        index_keys(article.body, dedupe)
        articles += 1
    return articles


def profile(pages: list[Page], dedupe: DedupeConfig) -> tuple[float, pstats.Stats, int]:
    """(unprofiled ms CPU per page, the profiled run's stats, articles)."""
    extract_all(pages, dedupe)  # the warm-up: lazy imports, compiled patterns, caches
    started = time.process_time()
    articles = extract_all(pages, dedupe)
    plain_ms = 1000 * (time.process_time() - started) / len(pages)
    profiler = cProfile.Profile(time.process_time)
    profiler.runcall(extract_all, pages, dedupe)
    return plain_ms, pstats.Stats(profiler), articles


def rows(stats: pstats.Stats, pages: int) -> Iterator[tuple[str, str, str, str, str]]:
    """(step, function, calls, ms per page, share of the stage) for each step."""
    timings = stats.stats  # type: ignore[attr-defined]  # {key: (cc, nc, tt, ct, callers)}
    stage_key = code_key(STEPS[0][1])
    stage = timings[stage_key][3] if stage_key in timings else 0.0
    for name, target in STEPS:
        key = code_key(target)
        if key is None:
            yield name, target, "", "**missing**", "function not found"
        elif key not in timings:
            yield name, target, "0", "not called", ""
        else:
            calls, cumulative = timings[key][1], timings[key][3]
            share = f"{cumulative / stage:.0%}" if stage else ""
            yield name, target, str(calls), f"{1000 * cumulative / pages:.2f}", share


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300, help="pages per set")
    parser.add_argument("--sets", default="demo,corpus", help="demo, corpus or both")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    dedupe = DedupeConfig()
    for name in args.sets.split(","):
        if name == "demo":
            pages = demo_pages(args.pages)
        elif name == "corpus":
            pages = corpus_pages(args.corpus, args.pages)
        else:
            raise SystemExit(f"--sets: unknown set {name!r} (demo, corpus)")
        plain_ms, stats, articles = profile(pages, dedupe)
        print(f"\n{name}: {len(pages)} pages, {articles} articles; without the profiler "
              f"{plain_ms:.2f} ms CPU a page (extraction and index keys)\n")
        print("| step | function | calls | ms CPU/page (profiled) | share of extract_article |")
        print("|---|---|---:|---:|---:|")
        for row in rows(stats, len(pages)):
            print("| " + " | ".join((row[0], f"`{row[1]}`", *row[2:])) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Extraction quality and speed: newsdesk's extractor vs bare trafilatura, side by side.

Reads the development corpus (`../shared/corpus/dev/<set>/<id>.html.gz` beside `<id>.json`, or
the folder given with --corpus) and prints, for both extractors: body F1 (4-token shingles,
precision and recall averaged over pages), title exact match (NFKC, case-folded, whitespace
folded), authors F1 (set overlap of case-folded names), date accuracy (the publisher's calendar
day: newsdesk's date as extracted, in the page's own offset; trafilatura's day string) and pages/s
on one core, per set (the folder under the corpus: fundus, wcxb) and over all pages, as a Markdown
table. Run by hand, never from the test suite:

    .venv/bin/python bench/extraction_quality.py [--corpus DIR] [--set fundus] [--limit N]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import sys
import time
from collections import Counter
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # for `bench.corpus_scoring` when run as a script
    sys.path.insert(0, str(ROOT))

from bench.corpus_scoring import (  # noqa: E402
    DEFAULT_CORPUS,
    Score,
    add_article,
    add_trafilatura,
    article_day,
    fold,
    table,
)
from pipeline.extraction.extract import NotAnArticle, extract_article  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--set", dest="subset", help="only this set (fundus, wcxb)")
    parser.add_argument("--limit", type=int, help="at most N pages")
    parser.add_argument("--show", type=int, default=0, help="print N mismatches per field")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus folder {args.corpus} not found; nothing to measure (skipped)")
        return 0
    pattern = f"{args.subset}/*.html.gz" if args.subset else "*/*.html.gz"
    files = sorted(args.corpus.glob(pattern))
    if args.limit:  # an even sample across the sets, not the first set only
        files = files[:: max(1, len(files) // args.limit)][: args.limit]
    pages = []
    for file in files:
        truth = json.loads(file.with_name(file.name.removesuffix(".html.gz") + ".json").read_text())
        truth["url"] = truth.get("url") or ""
        pages.append((file.parent.name, gzip.decompress(file.read_bytes()), truth))
    print(f"{len(pages)} pages from {args.corpus}")

    if pages:  # imports, lazy caches and compiled patterns are not the steady state: warm up
        trafilatura.bare_extraction(pages[0][1], url=pages[0][2]["url"], with_metadata=True)
        with contextlib.suppress(NotAnArticle):
            extract_article(pages[0][1], pages[0][2]["url"])
    scores: dict[str, dict[str, Score]] = {}
    shown: dict[str, int] = {}
    paths: dict[str, Counter] = {}  # per set: which path trafilatura's body took (the gate)
    for subset, html, truth in pages:
        bare, ours = (scores.setdefault(subset, {}).setdefault(name, Score())
                      for name in ("trafilatura", "newsdesk"))
        add_trafilatura(bare, truth, html, truth["url"])
        start = time.perf_counter()
        try:
            art = extract_article(html, truth["url"])
        except NotAnArticle:
            art = None
        ours.seconds += time.perf_counter() - start
        add_article(ours, truth, art)
        if art is None:
            continue
        paths.setdefault(subset, Counter())[art.extras.get("body_path", "override")] += 1
        day = article_day(art)
        for field, got, want in (("title", fold(art.title), fold(truth["title"])),
                                 ("date", day, truth.get("date_published") or day),
                                 ("authors", sorted(map(fold, art.authors)),
                                  sorted(map(fold, truth.get("authors") or art.authors)))):
            if got != want and shown.get(field, 0) < args.show:
                shown[field] = shown.get(field, 0) + 1
                print(f"  {field} {truth['url']}\n     got  {got!r}\n     want {want!r}"
                      + (f" ({art.date_source})" if field == "date" else ""))

    print()
    print("\n".join(table(scores, ("trafilatura", "newsdesk"))))
    seconds = {name: sum(s[name].seconds for s in scores.values()) for name in ("trafilatura",
                                                                               "newsdesk")}
    ratio = seconds["trafilatura"] / max(seconds["newsdesk"], 1e-9)
    print(f"\nspeed ratio newsdesk/trafilatura (one core, same run): {ratio:.2f}")
    for subset, counts in sorted(paths.items()):
        taken = ", ".join(f"{path} {n / counts.total():.1%}" for path, n in counts.most_common())
        print(f"body path on {subset}: {taken}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

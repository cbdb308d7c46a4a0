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
import re
import sys
import time
import unicodedata
from pathlib import Path

import trafilatura

from pipeline.extraction.extract import NotAnArticle, extract_article

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "dev"


def shingles(text: str, n: int = 4) -> set[tuple[str, ...]]:
    tokens = re.findall(r"\w+", (text or "").casefold())
    return {tuple(tokens[i:i + n]) for i in range(max(0, len(tokens) - n + 1))}


def fold(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def pr(pred: set, truth: set) -> tuple[float, float]:
    if not pred and not truth:
        return 1.0, 1.0
    hit = len(pred & truth)
    return (hit / len(pred) if pred else 0.0), (hit / len(truth) if truth else 0.0)


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


class Score:
    def __init__(self) -> None:
        self.p = self.r = self.title = self.auth = self.date = 0.0
        self.pages = self.auth_pages = self.date_pages = 0
        self.seconds = 0.0

    def add(self, truth: dict, body: str, title: str | None, authors: list[str],
            day: str | None) -> None:
        self.pages += 1
        p, r = pr(shingles(body), shingles(truth["body"]))
        self.p += p
        self.r += r
        self.title += fold(title) == fold(truth["title"])
        if truth.get("authors"):
            self.auth_pages += 1
            self.auth += f1(*pr({fold(a) for a in authors}, {fold(a) for a in truth["authors"]}))
        if truth.get("date_published"):
            self.date_pages += 1
            self.date += day == truth["date_published"]

    def merge(self, other: Score) -> None:
        for key in ("p", "r", "title", "auth", "date", "pages", "auth_pages", "date_pages",
                    "seconds"):
            setattr(self, key, getattr(self, key) + getattr(other, key))

    def row(self, subset: str, name: str) -> str:
        """One Markdown table row: the set (with its page count), the extractor, the scores."""
        n = max(1, self.pages)
        body = f1(self.p / n, self.r / n)
        return (f"| {subset} ({self.pages}) | {name} | {body:.3f} | {self.p / n:.3f} | "
                f"{self.r / n:.3f} | {self.title / n:.3f} | "
                f"{self.auth / max(1, self.auth_pages):.3f} | "
                f"{self.date / max(1, self.date_pages):.3f} | "
                f"{self.pages / max(self.seconds, 1e-9):.1f} |")


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
    for subset, html, truth in pages:
        bare, ours = (scores.setdefault(subset, {}).setdefault(name, Score())
                      for name in ("trafilatura", "newsdesk"))
        start = time.perf_counter()
        doc = trafilatura.bare_extraction(html, url=truth["url"], with_metadata=True)
        bare.seconds += time.perf_counter() - start
        if doc is None:
            bare.add(truth, "", None, [], None)
        else:
            bare.add(truth, doc.text or "", doc.title,
                     [a.strip() for a in (doc.author or "").split(";") if a.strip()], doc.date)

        start = time.perf_counter()
        try:
            art = extract_article(html, truth["url"])
        except NotAnArticle:
            art = None
        ours.seconds += time.perf_counter() - start
        if art is None:
            ours.add(truth, "", None, [], None)
            continue
        # The truth is the publisher's calendar day: published_at is in the offset the page
        # wrote, so its own date is that day (not its UTC day).
        day = art.published_at.date().isoformat() if art.published_at else None
        ours.add(truth, art.body, art.title, art.authors, day)
        for field, got, want in (("title", fold(art.title), fold(truth["title"])),
                                 ("date", day, truth.get("date_published") or day),
                                 ("authors", sorted(map(fold, art.authors)),
                                  sorted(map(fold, truth.get("authors") or art.authors)))):
            if got != want and shown.get(field, 0) < args.show:
                shown[field] = shown.get(field, 0) + 1
                print(f"  {field} {truth['url']}\n     got  {got!r}\n     want {want!r}"
                      + (f" ({art.date_source})" if field == "date" else ""))

    total = {name: Score() for name in ("trafilatura", "newsdesk")}
    for by_name in scores.values():
        for name, score in by_name.items():
            total[name].merge(score)
    print()
    print("| set | extractor | body F1 | P | R | title | authors F1 | date | pages/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for subset, by_name in [*sorted(scores.items()), ("all", total)]:
        for name in ("trafilatura", "newsdesk"):
            print(by_name[name].row(subset, name))
    ratio = total["trafilatura"].seconds / max(total["newsdesk"].seconds, 1e-9)
    print(f"\nspeed ratio newsdesk/trafilatura (one core, same run): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

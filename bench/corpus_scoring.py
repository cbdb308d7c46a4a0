"""Scoring extracted fields against the development corpus's answers, shared by the benches on it
(bench/extraction_quality.py, bench/real_pages.py) and the real-page end-to-end test.

The well-known article-extraction benchmark's rules: body F1 from 4-token shingles (precision and
recall averaged over pages), title exact after NFKC, case-fold and whitespace folding, authors F1
over case-folded names, the date by its calendar day.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import trafilatura

from pipeline.article import Article

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

    def row(self, subset: str, name: str, speed: bool = True) -> str:
        """One Markdown table row: the set (with its page count), the extractor, the scores."""
        n = max(1, self.pages)
        body = f1(self.p / n, self.r / n)
        return (f"| {subset} ({self.pages}) | {name} | {body:.3f} | {self.p / n:.3f} | "
                f"{self.r / n:.3f} | {self.title / n:.3f} | "
                f"{self.auth / max(1, self.auth_pages):.3f} | "
                f"{self.date / max(1, self.date_pages):.3f} |"
                + (f" {self.pages / max(self.seconds, 1e-9):.1f} |" if speed else ""))


def article_day(article: Article | None) -> str | None:
    """An extracted article's day by the publisher's calendar: `published_at` is in the offset
    the page declared, so its own date is that day (not its UTC day)."""
    published = article.published_at if article is not None else None
    return published.date().isoformat() if published else None


def stored_day(row: Mapping[str, Any]) -> str | None:
    """A stored `articles` row's day by the publisher's calendar (`articles.published_date`)."""
    day = row.get("published_date")
    return day.isoformat() if day else None


def add_article(score: Score, truth: dict, article: Article | None) -> None:
    """Score newsdesk's article for a page (None: it found no article there)."""
    if article is None:
        score.add(truth, "", None, [], None)
    else:
        score.add(truth, article.body, article.title, article.authors, article_day(article))


def add_trafilatura(score: Score, truth: dict, html: bytes, url: str) -> None:
    """Score bare trafilatura on a page (timed into score.seconds)."""
    start = time.perf_counter()
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    score.seconds += time.perf_counter() - start
    if doc is None:
        score.add(truth, "", None, [], None)
    else:
        score.add(truth, doc.text or "", doc.title,
                  [a.strip() for a in (doc.author or "").split(";") if a.strip()], doc.date)


def table(scores: dict[str, dict[str, Score]], names: Sequence[str], speed: bool = True
          ) -> list[str]:
    """The Markdown table: a row per set and extractor (`names`, in order), then "all"."""
    total = {name: Score() for name in names}
    for by_name in scores.values():
        for name in names:
            total[name].merge(by_name.get(name, Score()))
    head = "| set | extractor | body F1 | P | R | title | authors F1 | date |"
    lines = [head + (" pages/s |" if speed else ""), "|---" * (8 + speed) + "|"]
    for subset, by_name in [*sorted(scores.items()), ("all", total)]:
        lines += [by_name[name].row(subset, name, speed) for name in names]
    return lines

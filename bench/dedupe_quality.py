"""Dedupe quality on the labelled evaluation set (pipeline/demo_site/dupes.py).

Stores the set through the real load + dedupe path in batches and scores the resulting stories
pairwise: a pair is positive when both items are in the same labelled cluster. Exits 1 when
precision < 0.99 or recall < 0.95.

    .venv/bin/python bench/dedupe_quality.py [--seed 5] [--originals 120] [--batch 200]
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections import Counter

import psycopg
from dedupe_common import throwaway_database

from pipeline.dedupe.config import DedupeConfig
from pipeline.demo_site.dupes import evaluation_set
from tests.dedupe_helpers import add_sources, from_item, store, story_of


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--originals", type=int, default=120)
    parser.add_argument("--short", type=int, default=20, help="pairs of short template items")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--database-url", help="a database to use (default: a throwaway one)")
    args = parser.parse_args()
    items = evaluation_set(args.seed, args.originals, args.short)
    kinds = Counter(i.kind for i in items)
    print(f"config: {DedupeConfig.from_env()}")
    print(f"{len(items)} items: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    with throwaway_database(args.database_url) as url, psycopg.connect(url) as conn:
        add_sources(conn)
        started = time.perf_counter()
        for start in range(0, len(items), args.batch):
            store(conn, [from_item(i) for i in items[start:start + args.batch]])
        elapsed = time.perf_counter() - started
        stories = story_of(conn)
    tp = fp = fn = 0
    missed: Counter = Counter()
    merged: Counter = Counter()
    for a, b in itertools.combinations(items, 2):
        same, predicted = a.cluster == b.cluster, stories[a.url] == stories[b.url]
        if same and predicted:
            tp += 1
        elif same:
            fn += 1
            missed[tuple(sorted((a.kind, b.kind)))] += 1
        elif predicted:
            fp += 1
            merged[tuple(sorted((a.kind, b.kind)))] += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(f"stored and deduplicated in {elapsed:.2f} s ({elapsed / len(items) * 1000:.2f} ms/item)")
    print(f"pairs: {tp} true, {fp} false merges, {fn} missed")
    print(f"pairwise precision {precision:.4f}  recall {recall:.4f}  (targets 0.99 / 0.95)")
    for label, counter in (("missed", missed), ("false merges", merged)):
        if counter:
            print(f"{label}: " + ", ".join(f"{a}-{b} {n}" for (a, b), n in counter.most_common()))
    return 0 if precision >= 0.99 and recall >= 0.95 else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Dedupe cost as the corpus grows: time to dedupe one more batch at 10k, 100k, 1M articles.

The index is filled in SQL with filler articles and random keys (24 LSH bands + 3 opening keys
per article, as the defaults write): random keys are what distinct articles give the
index, and filling by SQL keeps 1M affordable. Then real batches (200 articles
from the labelled evaluation set: originals and copies) go through the real load + dedupe path;
the median batch time and the index size per article are reported at each size.

    .venv/bin/python bench/dedupe_scale.py [--sizes 10000,100000,1000000] [--batches 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg
from dedupe_common import throwaway_database

from pipeline.dedupe import DedupeConfig
from pipeline.demo_site.dupes import evaluation_set
from tests.dedupe_helpers import add_sources, from_item, store

_FILL_ARTICLES = """
INSERT INTO articles (canonical_url, url, source, body, word_count, content_hash, fetched_at,
                      extractor_version)
SELECT 'https://filler.example/' || g, 'https://filler.example/' || g, 'citypost',
       'filler article ' || g, 3, md5(g::text), now(), 'bench'
  FROM generate_series(%s::bigint, %s::bigint) g
"""
_FILL_KEYS = """
INSERT INTO article_bands (key, article_id)
SELECT ((random() - 0.5) * 1.8e19)::bigint, a.id
  FROM articles a CROSS JOIN generate_series(1, %(keys)s::int) b
 WHERE a.id > %(after)s AND a.extractor_version = 'bench'
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--batches", type=int, default=5, help="batches timed per size")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--database-url", help="a database to use (default: a throwaway one)")
    args = parser.parse_args()
    config = DedupeConfig.from_env()
    keys = config.bands + config.lead_paragraphs
    sizes = [int(s) for s in args.sizes.split(",")]
    items = evaluation_set(seed=77, n_originals=(len(sizes) * args.batches * args.batch) // 7 + 50)
    pool = iter(items)
    rows = []
    with throwaway_database(args.database_url) as url, psycopg.connect(url) as conn:
        add_sources(conn)
        filled = 0
        for size in sizes:
            started = time.perf_counter()
            with conn.transaction():
                after = conn.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0]
                conn.execute(_FILL_ARTICLES, [filled + 1, size])
                conn.execute(_FILL_KEYS, {"keys": keys, "after": after})
            conn.execute("ANALYZE articles")
            conn.execute("ANALYZE article_bands")
            conn.commit()
            fill = time.perf_counter() - started
            filled = size
            times = []
            for _ in range(args.batches):
                batch = [from_item(next(pool)) for _ in range(args.batch)]
                started = time.perf_counter()
                store(conn, batch)
                times.append(time.perf_counter() - started)
            index_bytes, articles = conn.execute(
                "SELECT pg_total_relation_size('article_bands'), count(*) FROM articles"
            ).fetchone()
            conn.commit()
            median = statistics.median(times)
            rows.append((articles, median, median / args.batch * 1000, index_bytes / articles))
            print(f"{articles:>9} articles: batch of {args.batch} in {median * 1000:7.1f} ms "
                  f"(median of {args.batches}), {median / args.batch * 1000:.2f} ms/article, "
                  f"index {index_bytes / articles:.0f} B/article, filled in {fill:.1f} s",
                  flush=True)
    base = rows[0][2]
    print(f"\n| articles | ms per batch of {args.batch} | ms per article | vs first "
          "| index bytes/article |")
    print("|---:|---:|---:|---:|---:|")
    for articles, median, per, size in rows:
        print(f"| {articles:,} | {median * 1000:.0f} | {per:.2f} | {per / base:.2f}x "
              f"| {size:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Dedupe cost as the corpus grows: time to dedupe one more batch at 10k, 100k, 1M articles.

The index is filled in SQL with filler articles and random keys (24 LSH bands + 3 opening keys
per article, as the defaults write): random keys are what distinct articles give the
index, and filling by SQL keeps 1M affordable. Then real batches (200 articles
from the labelled evaluation set: originals and copies) go through the real load + dedupe path;
the median batch time and the index size per article are reported at each size. After each fill
the tables are vacuumed (as autovacuum would have done by then: otherwise it runs during the timed
batches) and checkpointed, so every size starts from the same point of the checkpoint cycle.

Wall-clock time is noisy on a shared machine, so the CPU time of the batch (this process plus
the server process serving it, from /proc: the embedded server only) and the WAL written per
article are reported too: they do not depend on what else the machine runs.

    .venv/bin/python bench/dedupe_scale.py [--sizes 10000,100000,1000000] [--batches 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import psycopg
from dedupe_common import throwaway_database

from pipeline.dedupe.config import DedupeConfig
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


def _server_cpu(pid: int) -> float:
    """CPU seconds used so far by server process `pid` (Linux /proc; 0 when unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _vacuum_and_checkpoint(conn: psycopg.Connection) -> None:
    conn.commit()
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE articles")
    conn.execute("VACUUM ANALYZE article_bands")
    conn.execute("CHECKPOINT")
    conn.autocommit = False


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
        pid = conn.info.backend_pid

        def server_cpu() -> float:  # only a local embedded server's process can be read
            return 0.0 if args.database_url else _server_cpu(pid)

        filled = 0
        for size in sizes:
            started = time.perf_counter()
            with conn.transaction():
                after = conn.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0]
                conn.execute(_FILL_ARTICLES, [filled + 1, size])
                conn.execute(_FILL_KEYS, {"keys": keys, "after": after})
            _vacuum_and_checkpoint(conn)
            fill = time.perf_counter() - started
            filled = size
            times, cpus = [], []
            wal_start = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
            for _ in range(args.batches):
                batch = [from_item(next(pool)) for _ in range(args.batch)]
                started, cpu = time.perf_counter(), time.process_time() + server_cpu()
                store(conn, batch)
                times.append(time.perf_counter() - started)
                cpus.append(time.process_time() + server_cpu() - cpu)
            index_bytes, articles, wal = conn.execute(
                "SELECT pg_total_relation_size('article_bands'), count(*),"
                "       pg_wal_lsn_diff(pg_current_wal_lsn(), %s) FROM articles", [wal_start]
            ).fetchone()
            conn.commit()
            per = 1000 / args.batch  # seconds per batch -> ms per article
            row = (articles, statistics.median(times) * per, statistics.median(cpus) * per,
                   float(wal) / 1024 / (args.batches * args.batch), index_bytes / articles)
            rows.append(row)
            print(f"{articles:>9} articles: {row[1]:.2f} ms/article (median of {args.batches} "
                  f"batches of {args.batch}), CPU {row[2]:.2f} ms/article, WAL {row[3]:.0f} "
                  f"KB/article, index {row[4]:.0f} B/article, filled in {fill:.1f} s", flush=True)
    print("\n| articles | ms per article | vs first | CPU ms per article | vs first "
          "| WAL KB per article | index bytes per article |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for articles, wall, cpu, wal_kb, size in rows:
        print(f"| {articles:,} | {wall:.2f} | {wall / rows[0][1]:.2f}x | {cpu:.2f} "
              f"| {cpu / rows[0][2]:.2f}x | {wal_kb:.0f} | {size:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

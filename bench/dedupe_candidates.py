"""Candidate pairs dedupe confirms per article as a corpus of demo bodies grows, per key limit.

Each confirmed candidate costs a body fetch and a shingle set, so this number decides whether
dedupe's cost per article stays flat. The index is simulated in memory (no database): every
article's real index keys (`matching.index_keys`) go into per-key buckets in order, and every
fifth article probes them as the candidate lookup does (the lowest ids first, at most `limit`
per key) and is filtered by the real `matching.worth_confirming`. The demo generator composes
bodies from a fixed stock of sentences, so chance collisions are far more frequent than in
real text: the worst case for this number.

    .venv/bin/python bench/dedupe_candidates.py [--articles 100000] [--limits 50,20,10]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict

from pipeline.dedupe.config import DedupeConfig
from pipeline.dedupe.matching import index_keys, worth_confirming
from pipeline.demo_site.site import DemoSite


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--limits", default="50,20,10", help="per-key limits to compare")
    parser.add_argument("--every", type=int, default=10_000, help="print a row this often")
    args = parser.parse_args()
    limits = [int(n) for n in args.limits.split(",")]
    config = DedupeConfig()
    site = DemoSite(seed=7, n_articles=args.articles)
    bases = {p.name: f"https://{p.name}.example" for p in site.publishers}
    buckets: dict[int, list[int]] = defaultdict(list)
    kept: Counter[int] = Counter()
    probes = 0
    print("articles so far | " + " | ".join(f"limit {n}" for n in limits))
    for n, truth in enumerate(site.catalogue.iter_truth(bases)):
        keys = index_keys(truth.body, config)
        if n % 5 == 0:
            probes += 1
            openings = set(keys[config.bands:])
            for limit in limits:
                rows = [(n, other, key) for key in keys for other in buckets[key][:limit]]
                kept[limit] += len(worth_confirming(rows, openings, limit))
        for key in keys:
            buckets[key].append(n)
        if (n + 1) % args.every == 0:
            print(f"{n + 1:,} | " + " | ".join(f"{kept[k] / probes:.2f}" for k in limits),
                  flush=True)
            kept.clear()
            probes = 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""trafilatura's XPath expressions against their Python walks (`pipeline/extraction/
trafilatura_xpaths.py`), in place: every page is extracted as the pipeline does, and each time
trafilatura evaluates one of the restated expressions both are run on that very tree, timed
(CPU) and compared element by element.

    .venv/bin/python bench/trafilatura_xpaths.py [--demo 600] [--corpus DIR]

Prints, per expression, the evaluations, the elements found, the CPU of each per page, and the
evaluations where the two differ (the claim is none).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # for `bench.*` when run as a script
    sys.path.insert(0, str(ROOT))

from bench.corpus_scoring import DEFAULT_CORPUS  # noqa: E402
from bench.extraction_steps import corpus_pages, demo_pages  # noqa: E402
from bench.performance import ours  # noqa: E402
from pipeline.extraction.trafilatura_xpaths import XPathInPython  # noqa: E402


def measure(pages: list) -> dict[str, Counter]:
    """Per walk: evaluations, elements, differences, CPU seconds of the XPath and of the walk."""
    figures: dict[str, Counter] = {}
    shipped_call = XPathInPython.__call__

    def both(self: XPathInPython, tree) -> list:
        counts = figures.setdefault(self.evaluate.__name__, Counter())
        started = time.process_time()
        expected = self.original(tree)
        middle = time.process_time()
        found = self.evaluate(tree, *self.patterns)
        counts["xpath"] += middle - started
        counts["walk"] += time.process_time() - middle
        counts["evaluations"] += 1
        counts["elements"] += len(expected)
        counts["differences"] += found != expected
        return shipped_call(self, tree)

    XPathInPython.__call__ = both
    try:
        for page in pages:
            ours(*page)
    finally:
        XPathInPython.__call__ = shipped_call
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=int, default=600, help="demo-site pages")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    sets = {"demo": demo_pages(args.demo)}
    if args.corpus.is_dir():
        sets["dev corpus"] = corpus_pages(args.corpus, 10**6)  # every page
    for name, pages in sets.items():
        figures = measure(pages)
        print(f"\n{name}: {len(pages)} pages\n")
        print("| walk | evaluations | elements | XPath ms/page | walk ms/page | walk/XPath "
              "| differences |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for walk, c in figures.items():
            print(f"| `{walk}` | {c['evaluations']} | {c['elements']} "
                  f"| {1000 * c['xpath'] / len(pages):.3f} | {1000 * c['walk'] / len(pages):.3f} "
                  f"| {c['walk'] / c['xpath']:.2f} | {c['differences']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

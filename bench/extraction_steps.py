"""CPU per step of `extract_article`, and its CPU per page beside another checkout's.

Pages: the demo site's articles (generated in process, with their sources and a fetch time, as
the process stage passes them) or the dev corpus (as bench/extraction_quality.py reads it).
`time.process_time` only: the machine is shared, and CPU time is what sharing disturbs least.

    .venv/bin/python bench/extraction_steps.py steps demo|dev [--pages N]
    .venv/bin/python bench/extraction_steps.py paired demo|dev --other ../main [--rounds 4]

`steps` wraps each step `extract_article` calls and prints its CPU per page and share.
`paired` runs the measurement in a subprocess per round, alternating this checkout and
`--other` (each with its own PYTHONPATH), and prints both medians and their ratio.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The checkout whose `pipeline` is measured: this one, or `--other` in a `paired` round.
TREE = Path(os.environ.get("EXTRACTION_STEPS_TREE") or ROOT)
sys.path.insert(0, str(TREE))

from bench.corpus_scoring import DEFAULT_CORPUS  # noqa: E402
from pipeline.extraction import extract  # noqa: E402

Page = tuple[bytes, str, dict]  # html, url, keyword arguments of extract_article


def demo_pages() -> list[Page]:
    from pipeline.demo_site.model import DEFAULT_ANCHOR
    from pipeline.demo_site.site import DemoSite
    from pipeline.sources.config import Source

    site = DemoSite(n_articles=1000)
    bases = {p.name: f"http://{p.name}.test" for p in site.publishers}
    sources = {d["name"]: Source(**d) for d in site.sources(bases)}
    fetched = DEFAULT_ANCHOR + timedelta(hours=1)
    pages = []
    for truth in site.truth(bases):
        response = site.respond(truth.publisher, truth.url.removeprefix(bases[truth.publisher]),
                                bases)
        if response.status == 200:
            pages.append((response.body, truth.url,
                          {"source": sources[truth.publisher], "fetched_at": fetched}))
    return pages


def dev_pages(corpus: Path = DEFAULT_CORPUS) -> list[Page]:
    import gzip

    pages = []
    for file in sorted(corpus.glob("*/*.html.gz")):
        truth = json.loads(file.with_name(file.name.removesuffix(".html.gz") + ".json")
                           .read_text())
        pages.append((gzip.decompress(file.read_bytes()), truth.get("url") or "", {}))
    return pages


def pages(kind: str, limit: int | None) -> list[Page]:
    found = demo_pages() if kind == "demo" else dev_pages()
    return found[:: max(1, len(found) // limit)][:limit] if limit else found


def run(page: Page) -> None:
    html, url, kwargs = page
    with contextlib.suppress(extract.NotAnArticle):
        extract.extract_article(html, url, **kwargs)


def cpu_per_page(found: list[Page]) -> float:
    for page in found[:20]:  # imports, caches and compiled patterns: not the steady state
        run(page)
    start = time.process_time()
    for page in found:
        run(page)
    return 1000 * (time.process_time() - start) / len(found)


# The steps as `extract_article` calls them: (module, attribute, label).
STEPS = [
    (extract.page_parsing, "parse", "parse"), (extract, "harvest", "metadata harvest"),
    (extract.fields, "site_names", "site names"),
    (extract.page_parsing, "drop_consent_banners", "consent banners"),
    (extract, "_trafilatura", "trafilatura body"), (extract, "_article_body", "JSON-LD body"),
    (extract, "_app_state_body", "app-state body"), (extract.titles, "choose", "title"),
    (extract, "_body", "body rules"), (extract, "word_count", "word count"),
    (extract.fields, "looks_like_index", "index check"), (extract, "page_language", "language"),
    (extract.dates, "choose", "dates"), (extract.author_steps, "reconcile", "authors"),
    (extract, "content_hash", "content hash"), (extract.provenance, "signals", "provenance"),
    *((extract.fields, name, "other fields")
      for name in ("section", "canonical", "description", "tags", "image", "paywalled")),
]


def steps(found: list[Page]) -> list[str]:
    spent: collections.Counter[str] = collections.Counter()

    def timed(function, label):
        def wrapper(*args, **kwargs):
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += time.process_time() - start
        return wrapper

    for module, name, label in STEPS:
        setattr(module, name, timed(getattr(module, name), label))
    for page in found[:20]:  # the warm-up, as in `cpu_per_page`
        run(page)
    spent.clear()
    start = time.process_time()
    for page in found:
        run(page)
    total = time.process_time() - start
    lines = [f"{len(found)} pages, {1000 * total / len(found):.2f} ms CPU a page", "",
             "| step | ms a page | share |", "|---|---:|---:|"]
    for label, seconds in spent.most_common():
        lines.append(f"| {label} | {1000 * seconds / len(found):.2f} | "
                     f"{100 * seconds / total:.1f} % |")
    return lines


def paired(kind: str, limit: int | None, other: Path, rounds: int) -> list[str]:
    trees = {"this": TREE, "other": other.resolve()}
    figures: dict[str, list[float]] = {name: [] for name in trees}
    for index in range(rounds):
        for name in ("this", "other") if index % 2 else ("other", "this"):
            command = [sys.executable, str(Path(__file__).resolve()), "cpu", kind]
            if limit:
                command += ["--pages", str(limit)]
            out = subprocess.run(command, env={**os.environ, "PYTHONPATH": str(trees[name]),
                                                  "EXTRACTION_STEPS_TREE": str(trees[name])},
                                 capture_output=True, text=True, check=True, cwd=trees[name])
            figures[name].append(float(out.stdout.split()[-1]))
    this, theirs = (statistics.median(figures[name]) for name in ("this", "other"))
    return [f"{kind}: {trees['other']} {theirs:.2f} ms CPU a page {figures['other']}, "
            f"{trees['this']} {this:.2f} {figures['this']}: {this / theirs:.3f}x "
            f"(medians of {rounds}, alternating)"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("steps", "paired", "cpu"))
    parser.add_argument("kind", choices=("demo", "dev"))
    parser.add_argument("--pages", type=int, help="an even sample of N pages")
    parser.add_argument("--other", type=Path, help="the checkout to compare with (paired)")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    if args.command == "paired":
        print("\n".join(paired(args.kind, args.pages, args.other, args.rounds)))
    elif args.command == "steps":
        print("\n".join(steps(pages(args.kind, args.pages))))
    else:  # one round of `paired`, in the checkout on PYTHONPATH
        print(f"{cpu_per_page(pages(args.kind, args.pages)):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The pipeline on real pages: the dev corpus served as its publishers, crawled, processed and run
end to end, each run paired with bare trafilatura on one core over the same pages.

    .venv/bin/python bench/performance_real.py [--corpus DIR] [--repeat 2] [--sample 400]
                                               [--out docs/performance.md]

The saved pages are served by the real-page replay site (`serve_replay_site`, one port per
publisher, in this process's threads), crawled once with `python -m crawlers` into a fresh
database, and that database is the template of each measured run. Measured beside the limit (bare
trafilatura, `with_metadata=True`, one core, in this process, run just before each measured run
as in bench/performance.py): our extraction on one core over `--sample` of the crawled pages
(taken evenly; 0 for all), the process stage with all cores over every crawled page, and `newsdesk
run` end to end from an empty database. The ratios are the ones issue 22 quotes first. With
`--out`, the block between this bench's own markers is rewritten (added at the end the first
time); the demo-site block of bench/performance.py is left alone.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # for `bench.*` when run as a script
    sys.path.insert(0, str(ROOT))

from bench.corpus_scoring import DEFAULT_CORPUS  # noqa: E402
from bench.performance import (  # noqa: E402
    CPU_UNIT,
    Figure,
    Figures,
    Server,
    Site,
    bare_trafilatura,
    cpu_per_item,
    crawl,
    end_to_end,
    ours,
    pair_with_limit,
    process_stage,
    rate,
    site_cpu_per_item,
    table,
    write_report,
)
from pipeline.demo_site.replay import serve_replay_site  # noqa: E402
from pipeline.demo_site.replay_pages import read_corpus  # noqa: E402

BEGIN = "<!-- written by bench/performance_real.py: begin -->"
END = "<!-- written by bench/performance_real.py: end -->"


def crawled_pages(url: str, sample: int) -> list[tuple[str, bytes, datetime]]:
    """The crawled pages as stored (bytes: real pages are not all UTF-8; both extractors decode
    them as the process stage does), `sample` of them taken evenly over the crawl (0: all)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT final_url, html_gz, fetched_at FROM raw_pages ORDER BY id").fetchall()
    step = max(1, len(rows) // sample) if sample else 1
    chosen = rows[::step][:sample] if sample else rows
    return [(u, gzip.decompress(h), f) for u, h, f in chosen]


def render(figures: list[Figure], limit: Figure, limit_cpu: Figure, header: list[str],
           complete: bool = True) -> str:
    lines = [] if complete else [
        "- **unfinished**: written as each section ended; the run stopped before the rest"]
    lines += [
        f"- machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}; "
        f"load average at the end {os.getloadavg()[0]:.1f}",
        *header,
        f"- the limit: bare trafilatura on one core = **{limit.median:.1f} pages/s**, "
        f"{limit_cpu.median:.2f} ms CPU per page (same run, same pages)",
        "- ratio to the limit: each run is paired with a run of the limit just before it; the "
        "ratio is the median of the pairs' ratios. "
        f"{CPU_UNIT}: CPU of the command's processes and of the database server, per page "
        "processed or article stored (the replay site's not: it is in the notes); its ratio is "
        "the limit's CPU over this one, so N busy cores reach N times it.",
        "",
    ]
    return "\n".join(lines + table(figures, limit, limit_cpu)) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--sample", type=int, default=400,
                        help="crawled pages for the one-core extraction rates (0: all)")
    parser.add_argument("--out", type=Path, help="write the block here (docs/performance.md)")
    args = parser.parse_args()
    began = time.perf_counter()
    corpus = read_corpus(args.corpus)
    workdir = Path(tempfile.mkdtemp(prefix="newsdesk-bench-real-"))
    env = {**os.environ, "NEWSDESK_HOME": str(workdir / "home")}
    cores = os.cpu_count() or 1
    figures = Figures()
    figure = figures.add

    limit = figure("bare trafilatura, one core (the limit)", "pages/s")
    limit_cpu = figure("bare trafilatura, one core: CPU", CPU_UNIT)
    crawled_count, sampled = 0, 0

    def report(complete: bool = True) -> str:
        header = [
            f"- run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {len(corpus.pages)} saved pages of "
            f"{args.corpus} served as their publishers, {crawled_count} crawled; {args.repeat} "
            f"run(s) per figure (median shown), {sampled} of the crawled pages for the "
            f"one-core rates, {(time.perf_counter() - began) / 60:.0f} min in all"]
        return render(figures, limit, limit_cpu, header, complete)

    def checkpoint() -> None:
        """Write what is measured so far: a run stopped later keeps it."""
        if args.out:
            write_report(args.out, report(complete=False), BEGIN, END)

    server = Server(workdir)
    try:
        with serve_replay_site(corpus.pages) as running:
            sources = workdir / "replay-sources.yaml"
            sources.write_text(running.sources_yaml(), encoding="utf-8")
            env["NEWSDESK_SOURCES"] = str(sources)
            # The replay site serves from this process's threads: its CPU is ours meanwhile.
            site = Site(sources, psutil.Process())
            crawled = server.fresh("real_crawl")
            measured = crawl(crawled, site, env, server)
            with psycopg.connect(crawled) as conn:
                crawled_count = conn.execute("SELECT count(*) FROM raw_pages").fetchone()[0]
            figure("crawl alone, once", "pages/s").runs.append(crawled_count / measured.wall)
            figure("crawl alone, once: CPU", CPU_UNIT,
                   f"the replay site {site_cpu_per_item(measured, crawled_count):.1f} ms more"
                   ).runs.append(cpu_per_item(measured, crawled_count))
            print(f"crawl: {crawled_count} pages stored of {len(corpus.pages)} saved",
                  file=sys.stderr)

            pages = crawled_pages(crawled, args.sample)
            sampled = len(pages)

            def paired(rate_fig: Figure, cpu_fig: Figure) -> None:
                pair_with_limit(pages, limit, limit_cpu, rate_fig, cpu_fig)

            for function in (bare_trafilatura, ours):  # warm-up, unmeasured (performance.py)
                rate(function, pages)
            one_core = figure("our extraction, one core", "pages/s",
                              "metadata, dates, authors, canonical URL included")
            one_core_cpu = figure("our extraction, one core: CPU", CPU_UNIT)
            for _ in range(args.repeat):
                paired(one_core, one_core_cpu)
                per_second, cpu_ms = rate(ours, pages)
                one_core.runs.append(per_second)
                one_core_cpu.runs.append(cpu_ms)
            print(f"limit {limit.median:.1f}/s, ours {one_core.median:.1f}/s", file=sys.stderr)
            checkpoint()

            stage = figure(f"process stage, {cores} worker(s)", "pages/s",
                           "extract + load + dedupe + search index, every crawled page")
            stage_cpu = figure(f"process stage, {cores} worker(s): CPU", CPU_UNIT)
            for _ in range(args.repeat):
                copy = server.fresh("real_process", template="real_crawl")
                paired(stage, stage_cpu)
                measured, count = process_stage(copy, cores, env, server)
                stage.runs.append(count / measured.wall)
                stage_cpu.runs.append(cpu_per_item(measured, count))
            checkpoint()

            e2e = figure("newsdesk run end to end", "articles/s",
                         "empty database, crawl and process side by side")
            e2e_cpu = figure("newsdesk run end to end: CPU", CPU_UNIT)
            site_ms = []
            for _ in range(args.repeat):
                url = server.fresh("real_e2e")
                paired(e2e, e2e_cpu)
                measured, articles = end_to_end(url, site, env, server)
                e2e.runs.append(articles / measured.wall)
                e2e_cpu.runs.append(cpu_per_item(measured, articles))
                site_ms.append(site_cpu_per_item(measured, articles))
            e2e_cpu.note = (f"per article stored ({articles} in the last run); the replay "
                            f"site, on the same cores, {statistics.median(site_ms):.1f} ms more")
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    block = report()
    print(block)
    if args.out:
        write_report(args.out, block, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())

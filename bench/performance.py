"""Where the time goes: every stage against the demo site, on a real Postgres, side by side.

    .venv/bin/python bench/performance.py [--articles 10000] [--repeat 3] [--sample 1000]
                                          [--scales 1000,10000,50000]
                                          [--memory-scales 10000,100000] [--out docs/performance.md]

The demo site runs in its own process (`newsdesk demo-site serve`), as a real site would, and each
measured stage runs in its own process tree whose resident memory and CPU time are sampled, with
the database server's CPU time beside them. Every figure is the median of `--repeat` runs; ratios
are against the one-core bare trafilatura rate measured in the same run on the same pages, which
is the limit this pipeline is judged by: each run of our extraction, of the process stage and of
`newsdesk run` is paired with a run of the limit just before it, and its ratio is the median of
the pairs' ratios, so that the host's speed drifting over the hour moves both sides.
`--scales` runs `newsdesk run` once at each size and `--memory-scales` the crawl alone and the
process stage alone once at each size, for the growth of time per article and of peak memory;
the size equal to `--articles` reuses the repeated runs. With `--out`, the table is rewritten
after each section, so a run that stops early keeps what it measured. The same stages on real
pages: bench/performance_real.py; extraction's CPU step by step: bench/extraction_steps.py.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import psutil
import psycopg
import trafilatura
from psycopg import sql

from pipeline.db import embedded
from pipeline.db.migrate import migrate
from pipeline.extraction.extract import NotAnArticle, extract_article
from pipeline.processing.store import load_articles
from pipeline.sources.config import load_sources
from pipeline.subprocesses import python_module

NEWSDESK = python_module("pipeline.cli")


@dataclass
class Figure:
    name: str
    unit: str
    runs: list[float] = field(default_factory=list)
    note: str = ""
    # The limit (its rate, or its CPU per page for a CPU figure) measured just before each run:
    # the ratio is then the median of the pairs, which a host slowing down for minutes moves
    # together (two runs of the limit minutes apart have differed by 40 % here).
    limits: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def ratio(self, limit: Figure) -> float:
        """This figure over the limit (the limit's CPU time over this one for CPU figures),
        run by run when each run has its own limit measurement."""
        pairs = (zip(self.runs, self.limits, strict=True) if self.limits
                 else [(self.median, limit.median)])
        if self.unit == CPU_UNIT:
            return statistics.median(lim / run for run, lim in pairs)
        return statistics.median(run / lim for run, lim in pairs)


# --- processes, memory, databases ------------------------------------------------------------


class Figures(list):
    """One bench run's figures, in the order they are printed."""

    def add(self, name: str, unit: str, note: str = "") -> Figure:
        self.append(Figure(name, unit, note=note))
        return self[-1]


@dataclass
class Measured:
    wall: float  # seconds
    peak_mib: float  # peak resident memory of the command's whole process tree
    cpu: float  # CPU seconds of the command's process tree
    db_cpu: float  # CPU seconds the database server spent meanwhile
    site_cpu: float  # CPU seconds the demo site's server spent meanwhile (same cores)


def run_measured(command: list[str], env: dict[str, str], server: Server,
                 site: Site | None = None) -> Measured:
    """Run a command; its wall time, peak memory and CPU time, and the database server's and
    the demo site's CPU.

    CPU time is what makes a run comparable on a shared machine, where wall time is not: the
    best a stage can do on N cores is N / (CPU seconds per page, database included).
    """
    db_before = server.cpu_seconds()
    site_before = site.cpu_seconds() if site else 0.0
    started = time.perf_counter()
    # stderr goes to a file, not a pipe: nothing reads a pipe until the command ends, and a long
    # crawl's progress lines filled one (64 KiB) and blocked the crawl for good at 100k pages.
    with tempfile.TemporaryFile("w+") as log:
        process = psutil.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log,
                               text=True)
        peak = 0.0
        cpu: dict[int, float] = {}  # last CPU reading of every process seen in the tree
        while process.poll() is None:
            try:
                tree = [process, *process.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
                for p in tree:
                    times = p.cpu_times()
                    cpu[p.pid] = times.user + times.system
            except psutil.Error:
                pass  # a child exited between listing and reading: sample again
            time.sleep(0.1)
        wall = time.perf_counter() - started
        if process.returncode != 0:  # a failed stage would pass for a fast one
            log.seek(0)
            raise SystemExit(f"{' '.join(command)} failed:\n{log.read()[-2000:]}")
    site_cpu = site.cpu_seconds() - site_before if site else 0.0
    return Measured(wall, peak / 2**20, sum(cpu.values()), server.cpu_seconds() - db_before,
                    site_cpu)


class Server:
    """A throwaway embedded PostgreSQL and fresh databases on it."""

    def __init__(self, root: Path) -> None:
        self.pgdata = root / "pgdata"
        dsn = embedded.ensure_server(self.pgdata, cleanup_mode="delete")
        self.admin = psycopg.conninfo.make_conninfo(dsn, dbname="postgres")

    def stop(self) -> None:
        embedded.stop(self.pgdata)

    def cpu_seconds(self) -> float:
        """CPU the server has used: the postmaster, its live backends and the exited ones."""
        postmaster = psutil.Process(int((self.pgdata / "postmaster.pid").read_text().split()[0]))
        own = postmaster.cpu_times()
        total = own.user + own.system + own.children_user + own.children_system
        for child in postmaster.children():
            with suppress(psutil.Error):
                times = child.cpu_times()
                total += times.user + times.system
        return total

    def fresh(self, name: str, template: str | None = None) -> str:
        """A new database: empty and migrated, or a copy of `template` (a file copy: fast)."""
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
            create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(create)
        url = psycopg.conninfo.make_conninfo(self.admin, dbname=name)
        with psycopg.connect(url) as conn:
            migrate(conn)
        return url


@dataclass
class Site:
    """A running demo site: the sources file it wrote and its server's process.

    Its CPU is not the pipeline's (a real site is served elsewhere), but here it shares the two
    cores with the crawl, so it is reported beside the crawl's and the run's.
    """

    sources: Path
    process: psutil.Process

    def cpu_seconds(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system


@contextmanager
def demo_site(articles: int, workdir: Path):
    """`newsdesk demo-site serve` in its own process; yields it as a `Site`."""
    sources = workdir / f"sources-{articles}.yaml"
    sources.unlink(missing_ok=True)
    server = subprocess.Popen(
        [*NEWSDESK, "demo-site", "serve", "--articles", str(articles), "--sources-out",
         str(sources)], stdout=subprocess.DEVNULL)  # its errors: our stderr
    try:
        deadline = time.monotonic() + 60
        while not sources.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        if not sources.exists():
            raise SystemExit("the demo site did not start")
        yield Site(sources, psutil.Process(server.pid))
    finally:
        server.terminate()
        server.wait(10)


# --- the stages -------------------------------------------------------------------------------


def crawl(url: str, site: Site, env: dict, server: Server) -> Measured:
    names = [s.name for s in load_sources(site.sources)]
    command = python_module("crawlers", "--sources", str(site.sources), "--no-delay")
    for name in names:
        command += ["--source", name]
    return run_measured(command, {**env, "NEWSDESK_DATABASE_URL": url}, server, site)


def sample_pages(url: str, limit: int) -> list[tuple[str, str, datetime]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT final_url, html_gz, fetched_at FROM raw_pages ORDER BY id LIMIT %s", [limit]
        ).fetchall()
    return [(u, gzip.decompress(h).decode("utf-8"), f) for u, h, f in rows]


def rate(function: Callable[[str, str, datetime], object], pages: list) -> tuple[float, float]:
    """(pages per second of wall time, milliseconds of CPU per page) in this process."""
    started, cpu = time.perf_counter(), time.process_time()
    for page_url, html, fetched_at in pages:
        function(page_url, html, fetched_at)
    return (len(pages) / (time.perf_counter() - started),
            1000 * (time.process_time() - cpu) / len(pages))


def pair_with_limit(pages: list, limit: Figure, limit_cpu: Figure, rate_fig: Figure,
                    cpu_fig: Figure) -> None:
    """Run the limit (bare trafilatura, one core) now over `pages`, as the pair of the run of
    `rate_fig`/`cpu_fig` about to start."""
    per_second, cpu_ms = rate(bare_trafilatura, pages)
    limit.runs.append(per_second)
    limit_cpu.runs.append(cpu_ms)
    rate_fig.limits.append(per_second)
    cpu_fig.limits.append(cpu_ms)


def bare_trafilatura(page_url: str, html: str, fetched_at: datetime) -> object:
    return trafilatura.bare_extraction(html, url=page_url, with_metadata=True)


def ours(page_url: str, html: str, fetched_at: datetime) -> object:
    try:
        return extract_article(html, page_url, fetched_at=fetched_at)
    except NotAnArticle:
        return None


def process_stage(url: str, workers: int, env: dict, server: Server) -> tuple[Measured, int]:
    """Time `newsdesk process --workers N` (extract, load, dedupe, index) over every page of a
    freshly crawled database that nothing has processed yet."""
    with psycopg.connect(url) as conn:
        pages = conn.execute(
            "SELECT count(*) FROM raw_pages WHERE processed_at IS NULL").fetchone()[0]
    measured = run_measured([*NEWSDESK, "process", "--workers", str(workers), "--sources",
                             env["NEWSDESK_SOURCES"]], {**env, "NEWSDESK_DATABASE_URL": url},
                            server)
    return measured, pages


def load_rate(url: str, pages: list, total: int, batch: int = 200) -> float:
    """Articles/s through the loader (COPY + upsert, every index in place) into an empty table."""
    articles = [a for a in (ours(*p) for p in pages) if a is not None]
    copies = [
        replace(articles[i % len(articles)], source="bench",
                canonical_url=f"{articles[i % len(articles)].canonical_url}?copy={i}")
        for i in range(total)
    ]
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO sources (name, homepage, config) VALUES ('bench', '', '{}')")
        conn.commit()
        started = time.perf_counter()
        for start in range(0, total, batch):
            with conn.transaction():
                load_articles(conn, [(None, a) for a in copies[start:start + batch]])
        return total / (time.perf_counter() - started)


def end_to_end(url: str, site: Site, env: dict, server: Server) -> tuple[Measured, int]:
    measured = run_measured([*NEWSDESK, "run", "--sources", str(site.sources), "--no-delay"],
                            {**env, "NEWSDESK_DATABASE_URL": url}, server, site)
    with psycopg.connect(url) as conn:
        stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    return measured, stored


def cpu_per_item(measured: Measured, items: int) -> float:
    """Milliseconds of CPU per page or article: the command's processes and the database's."""
    return 1000 * (measured.cpu + measured.db_cpu) / max(items, 1)


def site_cpu_per_item(measured: Measured, items: int) -> float:
    """Milliseconds of the demo site's CPU per page or article served meanwhile."""
    return 1000 * measured.site_cpu / max(items, 1)


# --- the report -------------------------------------------------------------------------------


CPU_UNIT = "ms CPU/page"


def render(figures: list[Figure], args: argparse.Namespace, limit: Figure, limit_cpu: Figure,
           seconds: float, complete: bool = True) -> str:
    lines = [] if complete else [
        "- **unfinished**: written as each section ended; the run stopped before the rest"]
    lines += [
        f"- machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}",
        f"- run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, demo site of {args.articles} articles, "
        f"{args.repeat} run(s) per figure (median shown), {args.sample} pages for extraction "
        f"rates, {seconds / 60:.0f} min in all",
        f"- the limit: bare trafilatura on one core = **{limit.median:.1f} pages/s**, "
        f"{limit_cpu.median:.2f} ms CPU per page (same run, same pages)",
        "- ratio to the limit: for our extraction, the process stage and `newsdesk run`, each "
        "run is paired with a run of the limit taken just before it, and the ratio is the "
        "median of the pairs' ratios (the limit's line above is the median of all its runs)",
        f"- {CPU_UNIT}: CPU time of the command's processes and of the database server per page "
        "or article, start-up included (the demo site's server not: its share is in the "
        "notes); its ratio is the limit's "
        "CPU time over this one, so a stage on N cores with no idle core reaches N times that "
        "ratio. Unlike wall-clock rates, it holds on a shared machine.",
        "",
    ]
    return "\n".join(lines + table(figures, limit, limit_cpu)) + "\n"


def table(figures: list[Figure], limit: Figure, limit_cpu: Figure) -> list[str]:
    """The figures as Markdown table lines, each rate or CPU figure with its ratio to the limit."""
    lines = ["| figure | median | unit | ratio to the limit | runs | note |",
             "|---|---:|---|---:|---|---|"]
    for f in figures:
        ratio = ""
        if f.unit in ("pages/s", "articles/s"):
            ratio = f"{f.ratio(limit):.2f}x"
        elif f.unit == CPU_UNIT:
            ratio = f"{f.ratio(limit_cpu):.2f}x"
        runs = ", ".join(f"{r:.1f}" for r in f.runs)
        lines.append(f"| {f.name} | {f.median:.1f} | {f.unit} | {ratio} | {runs} | {f.note} |")
    return lines


BEGIN, END = "<!-- written by make bench: begin -->", "<!-- written by make bench: end -->"


def write_report(path: Path, block: str, begin: str = BEGIN, end: str = END) -> None:
    """Put the figures between the markers of `path`, keeping the text around them (the
    profiles and the other benchmarks' sections); without the markers, the block is added at
    the end of the file (a missing file is created)."""
    marked = f"{begin}\n{block}{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + marked + rest.split(end, 1)[1]
    elif text:
        text = f"{text.rstrip()}\n\n{marked}\n"
    else:
        text = f"# Performance\n\n{marked}\n"
    path.write_text(text, encoding="utf-8")


def scales(text: str) -> list[int]:
    return [int(n) for n in text.split(",") if n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=int, default=1000, help="pages for extraction rates")
    parser.add_argument("--scales", type=scales, default=[1000, 10_000, 50_000],
                        help="article counts for the end-to-end cost-per-article curve")
    parser.add_argument("--memory-scales", type=scales, default=[10_000, 100_000],
                        help="article counts at which the crawl alone and the process stage "
                        "alone are run once, for their peak memory")
    parser.add_argument("--out", type=Path, help="write the table here (docs/performance.md)")
    args = parser.parse_args()
    began = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="newsdesk-bench-"))
    env = {**os.environ, "NEWSDESK_HOME": str(workdir / "home")}
    cores = os.cpu_count() or 1
    figures = Figures()
    figure = figures.add

    def checkpoint() -> None:
        """Write what is measured so far: a run that dies at 100k keeps its other figures."""
        if args.out:
            write_report(args.out, render(figures, args, limit_fig, limit_cpu,
                                          time.perf_counter() - began, complete=False))

    def growth(series: list[Figure], what: str) -> None:
        """Note each figure's growth over the first of its series (flat is the goal)."""
        for f in series[1:]:
            f.note = f"{f.median / series[0].median:.2f}x the {what}"

    server = Server(workdir)
    try:
        with demo_site(args.articles, workdir) as site:
            env["NEWSDESK_SOURCES"] = str(site.sources)
            crawl_rate, crawl_mem, crawl_cpu = (
                figure("crawl alone", "pages/s"), figure("crawl alone: peak memory", "MiB"),
                figure("crawl alone: CPU", CPU_UNIT))
            site_ms = []  # the demo site's CPU per page, beside the crawl's
            for _ in range(args.repeat):
                url = server.fresh("bench_crawl")
                measured = crawl(url, site, env, server)
                with psycopg.connect(url) as conn:
                    pages = conn.execute("SELECT count(*) FROM raw_pages").fetchone()[0]
                crawl_rate.runs.append(pages / measured.wall)
                crawl_mem.runs.append(measured.peak_mib)
                crawl_cpu.runs.append(cpu_per_item(measured, pages))
                site_ms.append(site_cpu_per_item(measured, pages))
            crawl_cpu.note = (f"Scrapy and the raw_pages writes; serving them cost the demo "
                              f"site {statistics.median(site_ms):.1f} ms more")
            print(f"crawl: {crawl_rate.median:.0f} pages/s", file=sys.stderr)

            pages = sample_pages(url, args.sample)
            limit_fig = figure("bare trafilatura, one core (the limit)", "pages/s")
            limit_cpu = figure("bare trafilatura, one core: CPU", CPU_UNIT)
            one_core = figure("our extraction, one core", "pages/s",
                              "metadata, dates, authors, canonical URL included")
            one_core_cpu = figure("our extraction, one core: CPU", CPU_UNIT)

            def paired(rate_fig: Figure, cpu_fig: Figure) -> None:
                pair_with_limit(pages, limit_fig, limit_cpu, rate_fig, cpu_fig)

            # The first run after the crawl is slow: lazy imports, compiled patterns, caches,
            # and the database settling after the crawl's writes. The limit's first run measured
            # 26% slower than the median of its later ones with no warm-up, and still 19% after
            # 50 pages of each extractor; so each goes once over the whole sample, unmeasured.
            for function in (bare_trafilatura, ours):
                rate(function, pages)
            for _ in range(args.repeat):
                paired(one_core, one_core_cpu)
                per_second, cpu_ms = rate(ours, pages)
                one_core.runs.append(per_second)
                one_core_cpu.runs.append(cpu_ms)
            print(f"limit {limit_fig.median:.1f}/s, ours {one_core.median:.1f}/s",
                  file=sys.stderr)

            for workers in sorted({1, cores}):
                stage = figure(f"process stage, {workers} worker(s)", "pages/s",
                               "extract + load + dedupe + search index, from raw_pages")
                memory = figure(f"process stage, {workers} worker(s): peak memory", "MiB")
                cpu = figure(f"process stage, {workers} worker(s): CPU", CPU_UNIT)
                db_shares = []
                for _ in range(args.repeat):
                    copy = server.fresh("bench_process", template="bench_crawl")
                    paired(stage, cpu)
                    measured, count = process_stage(copy, workers, env, server)
                    stage.runs.append(count / measured.wall)
                    memory.runs.append(measured.peak_mib)
                    cpu.runs.append(cpu_per_item(measured, count))
                    db_shares.append(measured.db_cpu / (measured.cpu + measured.db_cpu))
                cpu.note = f"of which the database {statistics.median(db_shares):.0%}"
                if workers == cores:
                    all_cores_memory = memory  # the 10k point of the memory growth below

            load = figure("load alone (COPY + upsert, all indexes)", "articles/s")
            for _ in range(args.repeat):
                load.runs.append(load_rate(server.fresh("bench_load"), pages, args.articles))

            e2e, e2e_mem, e2e_cpu = (
                figure("newsdesk run end to end", "articles/s",
                       "empty database, crawl and process side by side"),
                figure("newsdesk run end to end: peak memory", "MiB"),
                figure("newsdesk run end to end: CPU", CPU_UNIT))
            site_ms = []
            for _ in range(args.repeat):
                e2e_url = server.fresh("bench_e2e")
                paired(e2e, e2e_cpu)
                measured, stored = end_to_end(e2e_url, site, env, server)
                e2e.runs.append(stored / measured.wall)
                e2e_mem.runs.append(measured.peak_mib)
                e2e_cpu.runs.append(cpu_per_item(measured, stored))
                site_ms.append(site_cpu_per_item(measured, stored))
            e2e_cpu.note = (f"per article stored; the demo site, on the same cores, "
                            f"{statistics.median(site_ms):.1f} ms more")

        checkpoint()

        # The growth curves: the main site's size reuses the runs above; every other size is
        # run once (at 50k and 100k articles a repeat would cost as much as the rest together).
        curve = []
        for scale in args.scales:
            curve.append(figure(f"end to end at {scale} articles", "ms/article"))
            if scale == args.articles:
                curve[-1].runs = [1000 / rate for rate in e2e.runs]
                continue
            with demo_site(scale, workdir) as site:
                measured, stored = end_to_end(server.fresh("bench_scale"), site, env, server)
                curve[-1].runs.append(1000 * measured.wall / max(stored, 1))
            checkpoint()
        growth(curve, "first scale")

        crawl_peaks, process_peaks = [], []
        for scale in args.memory_scales:
            crawl_peaks.append(figure(f"crawl alone at {scale} articles: peak memory", "MiB"))
            process_peaks.append(figure(
                f"process stage, {cores} worker(s), at {scale} articles: peak memory", "MiB"))
            if scale == args.articles:
                crawl_peaks[-1].runs = list(crawl_mem.runs)
                process_peaks[-1].runs = list(all_cores_memory.runs)
                continue
            with demo_site(scale, workdir) as site:
                env["NEWSDESK_SOURCES"] = str(site.sources)
                url = server.fresh("bench_memory")
                crawl_peaks[-1].runs.append(crawl(url, site, env, server).peak_mib)
                process_peaks[-1].runs.append(process_stage(url, cores, env, server)[0].peak_mib)
            checkpoint()
        growth(crawl_peaks, "smallest crawl")
        growth(process_peaks, "smallest process stage")
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    report = render(figures, args, limit_fig, limit_cpu, time.perf_counter() - began)
    print(report)
    if args.out:
        write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

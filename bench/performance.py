"""Where the time goes: every stage against the demo site, on a real Postgres, side by side.

    .venv/bin/python bench/performance.py [--articles 10000] [--repeat 3] [--sample 1000]
                                          [--scales 1000,10000,50000] [--out docs/performance.md]

The demo site runs in its own process (`newsdesk demo-site serve`), as a real site would, and each
measured stage runs in its own process tree whose resident memory is sampled. Every figure is the
median of `--repeat` runs; ratios are against the one-core bare trafilatura rate measured in the
same run on the same pages, which is the limit this pipeline is judged by.
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
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import psutil
import psycopg
import trafilatura
from psycopg import sql

from pipeline import REPO_ROOT
from pipeline.config import load_sources
from pipeline.db import embedded
from pipeline.db.migrate import migrate
from pipeline.extract import NotAnArticle, extract_article
from pipeline.store import load_articles

NEWSDESK = [sys.executable, "-m", "pipeline.cli"]


@dataclass
class Figure:
    name: str
    unit: str
    runs: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


# --- processes, memory, databases ------------------------------------------------------------


def run_measured(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak resident MiB of its whole process tree)."""
    started = time.perf_counter()
    process = psutil.Popen(command, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    peak = 0.0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass  # a child exited between listing and reading: sample again
        time.sleep(0.1)
    wall = time.perf_counter() - started
    if process.returncode != 0:  # a failed stage would pass for a fast one
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read()[-2000:]}")
    return wall, peak / 2**20


class Server:
    """A throwaway embedded PostgreSQL and fresh databases on it."""

    def __init__(self, root: Path) -> None:
        self.pgdata = root / "pgdata"
        dsn = embedded.ensure_server(self.pgdata, cleanup_mode="delete")
        self.admin = psycopg.conninfo.make_conninfo(dsn, dbname="postgres")

    def stop(self) -> None:
        embedded.stop(self.pgdata)

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


@contextmanager
def demo_site(articles: int, workdir: Path):
    """`newsdesk demo-site serve` in its own process; yields the sources file it wrote."""
    sources = workdir / f"sources-{articles}.yaml"
    sources.unlink(missing_ok=True)
    server = subprocess.Popen(
        [*NEWSDESK, "demo-site", "serve", "--articles", str(articles), "--sources-out",
         str(sources)], cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not sources.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        if not sources.exists():
            raise SystemExit("the demo site did not start")
        yield sources
    finally:
        server.terminate()
        server.wait(10)


# --- the stages -------------------------------------------------------------------------------


def crawl(url: str, sources: Path, env: dict) -> tuple[float, float]:
    names = [s.name for s in load_sources(sources)]
    command = [sys.executable, "-m", "crawlers", "--sources", str(sources), "--no-delay"]
    for name in names:
        command += ["--source", name]
    return run_measured(command, {**env, "NEWSDESK_DATABASE_URL": url})


def sample_pages(url: str, limit: int) -> list[tuple[str, str, datetime]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT final_url, html_gz, fetched_at FROM raw_pages ORDER BY id LIMIT %s", [limit]
        ).fetchall()
    return [(u, gzip.decompress(h).decode("utf-8"), f) for u, h, f in rows]


def rate(function: Callable[[str, str, datetime], object], pages: list) -> float:
    started = time.perf_counter()
    for page_url, html, fetched_at in pages:
        function(page_url, html, fetched_at)
    return len(pages) / (time.perf_counter() - started)


def bare_trafilatura(page_url: str, html: str, fetched_at: datetime) -> object:
    return trafilatura.bare_extraction(html, url=page_url, with_metadata=True)


def ours(page_url: str, html: str, fetched_at: datetime) -> object:
    try:
        return extract_article(html, page_url, fetched_at=fetched_at)
    except NotAnArticle:
        return None


def process_stage(url: str, workers: int, env: dict) -> tuple[float, float, int]:
    """Time `newsdesk process --workers N` (extract, load, dedupe, index) over every page of a
    freshly crawled database that nothing has processed yet."""
    with psycopg.connect(url) as conn:
        pages = conn.execute(
            "SELECT count(*) FROM raw_pages WHERE processed_at IS NULL").fetchone()[0]
    wall, peak = run_measured([*NEWSDESK, "process", "--workers", str(workers), "--sources",
                               env["NEWSDESK_SOURCES"]], {**env, "NEWSDESK_DATABASE_URL": url})
    return wall, peak, pages


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


def end_to_end(url: str, sources: Path, env: dict) -> tuple[float, float, int]:
    wall, peak = run_measured([*NEWSDESK, "run", "--sources", str(sources), "--no-delay"],
                              {**env, "NEWSDESK_DATABASE_URL": url})
    with psycopg.connect(url) as conn:
        stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    return wall, peak, stored


# --- the report -------------------------------------------------------------------------------


def render(figures: list[Figure], args: argparse.Namespace, limit: float, seconds: float) -> str:
    lines = [
        "# Performance",
        "",
        "Written by `make bench` (`bench/performance.py`); do not edit the table by hand.",
        "",
        f"- machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}",
        f"- run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, demo site of {args.articles} articles, "
        f"{args.repeat} run(s) per figure (median shown), {args.sample} pages for extraction "
        f"rates, {seconds / 60:.0f} min in all",
        f"- the limit: bare trafilatura on one core = **{limit:.1f} pages/s** (same run, same "
        "pages)",
        "",
        "| figure | median | unit | ratio to the limit | runs | note |",
        "|---|---:|---|---:|---|---|",
    ]
    for f in figures:
        ratio = f"{f.median / limit:.2f}x" if f.unit in ("pages/s", "articles/s") else ""
        runs = ", ".join(f"{r:.1f}" for r in f.runs)
        lines.append(f"| {f.name} | {f.median:.1f} | {f.unit} | {ratio} | {runs} | {f.note} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=int, default=1000, help="pages for extraction rates")
    parser.add_argument("--scales", default="1000,10000,50000",
                        help="article counts for the end-to-end cost-per-article curve")
    parser.add_argument("--out", type=Path, help="write the table here (docs/performance.md)")
    args = parser.parse_args()
    began = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="newsdesk-bench-"))
    env = {**os.environ, "NEWSDESK_HOME": str(workdir / "home")}
    cores = os.cpu_count() or 1
    figures: list[Figure] = []

    def figure(name: str, unit: str, note: str = "") -> Figure:
        figures.append(Figure(name, unit, note=note))
        return figures[-1]

    server = Server(workdir)
    try:
        with demo_site(args.articles, workdir) as sources:
            env["NEWSDESK_SOURCES"] = str(sources)
            crawl_rate, crawl_mem = figure("crawl alone", "pages/s"), figure(
                "crawl alone: peak memory", "MiB")
            for _ in range(args.repeat):
                url = server.fresh("bench_crawl")
                wall, peak = crawl(url, sources, env)
                with psycopg.connect(url) as conn:
                    pages = conn.execute("SELECT count(*) FROM raw_pages").fetchone()[0]
                crawl_rate.runs.append(pages / wall)
                crawl_mem.runs.append(peak)
            print(f"crawl: {crawl_rate.median:.0f} pages/s", file=sys.stderr)

            pages = sample_pages(url, args.sample)
            limit_fig = figure("bare trafilatura, one core (the limit)", "pages/s")
            one_core = figure("our extraction, one core", "pages/s",
                              "metadata, dates, authors, canonical URL included")
            for _ in range(args.repeat):
                limit_fig.runs.append(rate(bare_trafilatura, pages))
                one_core.runs.append(rate(ours, pages))
            print(f"limit {limit_fig.median:.1f}/s, ours {one_core.median:.1f}/s",
                  file=sys.stderr)

            for workers in sorted({1, cores}):
                stage = figure(f"process stage, {workers} worker(s)", "pages/s",
                               "extract + load + dedupe + search index, from raw_pages")
                memory = figure(f"process stage, {workers} worker(s): peak memory", "MiB")
                for _ in range(args.repeat):
                    copy = server.fresh("bench_process", template="bench_crawl")
                    wall, peak, count = process_stage(copy, workers, env)
                    stage.runs.append(count / wall)
                    memory.runs.append(peak)

            load = figure("load alone (COPY + upsert, all indexes)", "articles/s")
            for _ in range(args.repeat):
                load.runs.append(load_rate(server.fresh("bench_load"), pages, args.articles))

            e2e, e2e_mem = figure("newsdesk run end to end", "articles/s",
                                  "empty database, crawl + process"), figure(
                "newsdesk run end to end: peak memory", "MiB")
            for _ in range(args.repeat):
                wall, peak, stored = end_to_end(server.fresh("bench_e2e"), sources, env)
                e2e.runs.append(stored / wall)
                e2e_mem.runs.append(peak)

        for scale in (int(s) for s in args.scales.split(",") if s):
            with demo_site(scale, workdir) as sources:
                per_article = figure(f"end to end at {scale} articles", "ms/article")
                for _ in range(args.repeat):
                    wall, _, stored = end_to_end(server.fresh("bench_scale"), sources, env)
                    per_article.runs.append(1000 * wall / max(stored, 1))
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    report = render(figures, args, limit_fig.median, time.perf_counter() - began)
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Soak benchmark: a faulted, repeatedly killed crawl + process run against a fault-free one.

    .venv/bin/python bench/soak.py [--articles 5000] [--fault-rate 0.2] [--kills 3] [--seed 1]

Two copies of the demo site (same seed) and two databases on one throwaway embedded PostgreSQL.
The clean side is crawled and processed once. On the faulted side, `--fault-rate` of the article
pages get a random passing fault from pipeline.demo_site.faults (500/502/503, 429 + Retry-After,
connection reset mid-body, a body shorter than its Content-Length, slower than the timeout, a slow
trickle), and the crawl and the process stage are each SIGKILLed at random moments `--kills`
times, then rerun until they finish. Printed: pages attempted, articles expected, articles stored,
duplicates (must be 0), lost (must be 0) and both wall times.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.dedupe_common import throwaway_database  # noqa: E402
from pipeline.demo_site import DemoSite, serve_demo_site  # noqa: E402
from pipeline.demo_site.faults import Fault  # noqa: E402
from pipeline.subprocesses import python_module  # noqa: E402

TIMEOUT = 2  # DOWNLOAD_TIMEOUT of both crawls


def passing_fault(rng: random.Random) -> Fault:
    """A fault that goes away after one or two requests (within the crawl's retries)."""
    kind = rng.choice(["500", "502", "503", "429", "reset", "short", "slow", "trickle"])
    if kind in ("500", "502", "503"):
        return Fault("status", times=rng.choice([1, 2]), status=int(kind))
    if kind == "429":
        return Fault("content", times=1, status=429, content_type="text/plain",
                     headers={"Retry-After": "1"})  # fmt: skip
    if kind == "slow":
        return Fault("slow", times=1, seconds=TIMEOUT + 1)
    if kind == "trickle":
        return Fault("trickle", times=1, seconds=0.3)
    return Fault(kind, times=1)


def sources_file(site, path: Path) -> Path:
    document = yaml.safe_load(site.sources_yaml())
    for source in document["sources"]:
        source["listings"] = []  # feeds and sitemaps list every article; listings only recent
    path.write_text(yaml.safe_dump(document))
    return path


def crawl_cmd(site, sources: Path) -> list[str]:
    return [*python_module("crawlers"), *(f"--source={p.name}" for p in site.publishers),
            "--sources", str(sources), "--no-delay", "--run-key", "soak",
            "-s", f"DOWNLOAD_TIMEOUT={TIMEOUT}", "-s", "NEWSDESK_RETRY_AFTER_MAX=2",
            "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]  # fmt: skip


def process_cmd(sources: Path) -> list[str]:
    return python_module("pipeline.cli", "process", "--sources", str(sources))


def run_until_done(
    cmd: list[str], db: str, kills: int, rng: random.Random, window: tuple[float, float]
) -> tuple[int, int]:
    """Run `cmd`, SIGKILLing it `kills` times at random moments, then until it exits 0.

    Returns (kills done, runs)."""
    env = os.environ | {"NEWSDESK_DATABASE_URL": db}
    done = runs = 0
    while True:
        runs += 1
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        if done < kills:
            try:
                proc.wait(timeout=rng.uniform(*window))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                done += 1
                continue
        _, err = proc.communicate(timeout=1800)
        if proc.returncode == 0:
            return done, runs
        if runs > kills + 5:
            raise SystemExit(f"{cmd[2]} keeps failing: {err[-1000:]}")


def figures(db: str) -> dict[str, int]:
    with psycopg.connect(db) as conn:
        one = lambda q: conn.execute(q).fetchone()[0]  # noqa: E731
        return {
            "raw_pages": one("SELECT count(*) FROM raw_pages"),
            "raw_dupes": one("SELECT count(*) - count(DISTINCT url) FROM raw_pages"),
            "pending": one("SELECT count(*) FROM raw_pages WHERE processed_at IS NULL"),
            "articles": one("SELECT count(*) FROM articles"),
            "article_dupes": one(
                "SELECT count(*) FROM (SELECT url FROM articles GROUP BY url HAVING count(*) > 1) d"
            ),
            "running_runs": one("SELECT count(*) FROM crawl_runs WHERE status = 'running'"),
        }


def urls(db: str, table: str) -> set[str]:
    """The table's URLs without scheme, host and port (the two site copies differ in ports)."""
    with psycopg.connect(db) as conn:
        return {
            urlsplit(r[0])._replace(scheme="", netloc="").geturl()
            for r in conn.execute(f"SELECT url FROM {table}")
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--kills", type=int, default=3, help="kills of each stage")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="a server to use instead of a throwaway one")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"newsdesk-soak-{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    with throwaway_database(args.database_url) as admin_url:
        dbs = {}
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for side in ("clean", "faulted"):
                name = f"newsdesk_soak_{side}_{os.getpid()}"
                admin.execute(f"DROP DATABASE IF EXISTS {name}")
                admin.execute(f"CREATE DATABASE {name}")
                dbs[side] = psycopg.conninfo.make_conninfo(admin_url, dbname=name)
        from pipeline.db.migrate import migrate

        for db in dbs.values():
            with psycopg.connect(db) as conn:
                migrate(conn)
        site_model = DemoSite(seed=args.seed, n_articles=args.articles)
        results: dict[str, dict] = {}
        with serve_demo_site(site_model) as clean, serve_demo_site(site_model) as faulted:
            # clean side
            sources = sources_file(clean, tmp / "clean.yaml")
            started = time.monotonic()
            run_until_done(crawl_cmd(clean, sources), dbs["clean"], 0, rng, (0, 0))
            crawl_s = time.monotonic() - started
            run_until_done(process_cmd(sources), dbs["clean"], 0, rng, (0, 0))
            results["clean"] = {"crawl_s": crawl_s, "total_s": time.monotonic() - started,
                                "kills": 0, "runs": 2}  # fmt: skip
            # faulted side
            truth = list(faulted.truth())
            faulted_pages = rng.sample(truth, int(len(truth) * args.fault_rate))
            for page in faulted_pages:
                base = faulted.bases[page.publisher]
                faulted.faults.set(page.publisher, page.url.removeprefix(base), passing_fault(rng))
            sources = sources_file(faulted, tmp / "faulted.yaml")
            started = time.monotonic()
            k1, r1 = run_until_done(
                crawl_cmd(faulted, sources), dbs["faulted"], args.kills, rng, (1.0, 6.0)
            )
            crawl_s = time.monotonic() - started
            k2, r2 = run_until_done(
                process_cmd(sources), dbs["faulted"], args.kills, rng, (1.0, 6.0)
            )
            results["faulted"] = {"crawl_s": crawl_s, "total_s": time.monotonic() - started,
                                  "kills": k1 + k2, "runs": r1 + r2}  # fmt: skip
            truth_paths = {(t.publisher, urlsplit(t.url).path) for t in truth}
            attempted = len({(h.publisher, h.path) for h in faulted.requests()} & truth_paths)
        expected_raw = urls(dbs["clean"], "raw_pages")
        expected_articles = urls(dbs["clean"], "articles")
        got_raw = urls(dbs["faulted"], "raw_pages")
        got_articles = urls(dbs["faulted"], "articles")
        clean_f, faulted_f = figures(dbs["clean"]), figures(dbs["faulted"])
    print(f"soak: seed {args.seed}, {len(truth)} article pages, {len(faulted_pages)} faulted "
          f"({args.fault_rate:.0%}), {args.kills} kills per stage")  # fmt: skip
    print(f"{'':28}{'fault-free':>14}{'faulted+killed':>16}")
    rows = [
        ("article pages attempted", "", attempted),
        ("raw pages stored", clean_f["raw_pages"], faulted_f["raw_pages"]),
        ("articles expected", len(expected_articles), len(expected_articles)),
        ("articles stored", clean_f["articles"], faulted_f["articles"]),
        ("duplicates (raw + articles)", clean_f["raw_dupes"] + clean_f["article_dupes"],
         faulted_f["raw_dupes"] + faulted_f["article_dupes"]),
        ("lost raw pages", 0, len(expected_raw - got_raw)),
        ("lost articles", 0, len(expected_articles - got_articles)),
        ("pending / stuck runs", f"{clean_f['pending']}/{clean_f['running_runs']}",
         f"{faulted_f['pending']}/{faulted_f['running_runs']}"),
        ("kills / runs", "0/2", f"{results['faulted']['kills']}/{results['faulted']['runs']}"),
        ("crawl wall time (s)", f"{results['clean']['crawl_s']:.1f}",
         f"{results['faulted']['crawl_s']:.1f}"),
        ("total wall time (s)", f"{results['clean']['total_s']:.1f}",
         f"{results['faulted']['total_s']:.1f}"),
    ]  # fmt: skip
    for label, a, b in rows:
        print(f"{label:28}{a!s:>14}{b!s:>16}")
    bad = (
        faulted_f["raw_dupes"] + faulted_f["article_dupes"] + len(expected_articles - got_articles)
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m crawlers`: crawl one or more sources concurrently in one process.

    python -m crawlers --source NAME [--source NAME ...] [--sources PATH] [--run-key KEY]
                       [--limit N] [--no-delay] [--no-sync] [-v]

Each source gets its own Scrapy crawler (its own politeness settings) in one Twisted reactor.
The `sources` table is first brought in step with the whole sources file, unless `--no-sync` says
the caller already did (the DAG syncs once per run, not once per mapped crawl); either way each
crawled source's own row is upserted when its run opens.
Progress goes to stderr; at the end one JSON object per source is printed on stdout (status
`skipped` for a source taken down, with a warning line). Exit status: 0 when every source
succeeded or was skipped, 1 when one failed, 2 when the crawl could not start (unknown source,
bad sources file, unreachable or unmigrated database), with one line on stderr.

This is the whole interface of the crawl stage: `newsdesk crawl` and `newsdesk run` call it as a
subprocess, because Twisted's reactor cannot be restarted and `pipeline` never imports `crawlers`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from pipeline.crawl import crawled_ok
from pipeline.db.takedowns import TAKEN_DOWN
from pipeline.errors import NewsdeskError
from pipeline.subprocesses import die_with_parent

USAGE_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m crawlers",
        description="Crawl news sources into raw_pages (several sources run concurrently).",
    )
    parser.add_argument(
        "--source", action="append", required=True, metavar="NAME", help="source to crawl"
    )
    parser.add_argument("--sources", metavar="PATH", help="sources YAML file or folder")
    parser.add_argument(
        "--run-key", metavar="KEY", help="run identifier (default: manual-<UTC timestamp>)"
    )
    parser.add_argument(
        "--limit", type=int, metavar="N", help="fetch at most N article pages per source"
    )
    parser.add_argument(
        "--no-delay",
        action="store_true",
        help="no delay between requests (the local demo site and benchmarks only)",
    )
    parser.add_argument(
        "--no-sync",
        action="store_true",
        help="the caller already synced the sources table with the file: skip the full sync",
    )
    parser.add_argument(
        "-s",
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a Scrapy setting (e.g. -s DOWNLOAD_TIMEOUT=10)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="Scrapy's log at INFO")
    return parser


def _check_database() -> str:
    """The database URL, once we know it is reachable and migrated (else NewsdeskError)."""
    from pipeline.db import connect, database_url

    url = database_url()
    with connect(url) as conn:
        row = conn.execute("SELECT to_regclass('raw_pages') IS NOT NULL").fetchone()
    if not row or not row[0]:
        raise NewsdeskError("the database has no raw_pages table: run `newsdesk db migrate`")
    return url


def _sync_all(sources: list[Any]) -> None:
    """Bring the `sources` table in step with the whole YAML (removed ones deactivated)."""
    from pipeline.db import connect
    from pipeline.sources.sync import sync_sources

    with connect() as conn:
        gone = sync_sources(conn, sources)
    if gone:
        print(f"sources no longer in the YAML, deactivated: {', '.join(gone)}", file=sys.stderr)


def _taken_down(sources: list[Any]) -> set[str]:
    """The sources with a takedown, each named in a one-line warning. They are reported
    `skipped`, not refused: a takedown can land between Airflow's sync and its crawl task, and
    a usage error there would fail the task and retry it for nothing."""
    from pipeline.db import connect
    from pipeline.db.takedowns import taken_down_sources

    with connect() as conn:
        taken = taken_down_sources(conn, [s.name for s in sources])
    for name in sorted(taken):
        print(f"source {name} is taken down (newsdesk takedown): inactive, not crawled",
              file=sys.stderr)
    return taken


def _result_of(crawler: Any, recorder_cls: type) -> dict[str, Any] | None:
    try:
        recorder = crawler.get_extension(recorder_cls)
    except RuntimeError:  # the crawl never got as far as building its extensions
        return None
    return recorder.result if recorder is not None else None


def _crawl_in_turn(process: Any, crawlers: list[tuple[Any, Any]], at_once: int,
                   **spider_args: Any) -> tuple[list[asyncio.Task], asyncio.Task]:
    """Schedule each (source, crawler) to run with at most `at_once` running, and the reactor to
    stop when all have ended; the task of each, and the stopper's. Scrapy's own `start()` would
    run them all at once. A shutdown signal stops the reactor after the running ones: those
    still waiting never start, and are reported as not run."""
    from twisted.internet import reactor
    from twisted.internet.error import ReactorNotRunning

    loop = asyncio.get_event_loop()  # AsyncCrawlerProcess installed it; it is not running yet
    turns = asyncio.Semaphore(max(1, at_once))
    stopping = asyncio.Event()
    stop_running = process.stop

    # Scrapy's shutdown (SIGTERM, SIGINT) calls process.stop(), which stops the crawlers already
    # running; without this, each one ending would free a turn and start a waiting source that
    # the reactor then stops half-opened (its crawl_runs row left 'running').
    async def stop_and_start_no_more() -> None:
        stopping.set()
        await stop_running()

    process.stop = stop_and_start_no_more

    async def in_turn(source: Any, crawler: Any) -> None:
        async with turns:
            if not stopping.is_set():
                await process.crawl(crawler, source=source, **spider_args)

    async def all_then_stop(tasks: list[asyncio.Task]) -> None:
        await asyncio.wait(tasks)
        with contextlib.suppress(ReactorNotRunning):  # a shutdown signal stopped it already
            reactor.stop()

    tasks = [loop.create_task(in_turn(source, crawler)) for source, crawler in crawlers]
    return tasks, loop.create_task(all_then_stop(tasks))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.limit is not None and args.limit < 0:
        print("python -m crawlers: error: --limit must be 0 or more", file=sys.stderr)
        return USAGE_ERROR
    try:
        from pipeline.sources.config import get_sources, load_sources

        names = list(dict.fromkeys(args.source))
        sources = get_sources(names, args.sources)
        os.environ["NEWSDESK_DATABASE_URL"] = _check_database()
        if not args.no_sync:
            _sync_all(load_sources(args.sources))
        taken = _taken_down(sources)
    except NewsdeskError as exc:
        print(f"python -m crawlers: error: {exc}", file=sys.stderr)
        return USAGE_ERROR

    from scrapy.settings import Settings

    from crawlers.spiders.news import manual_run_key

    settings = Settings()
    settings.setmodule("crawlers.settings", priority="project")
    settings.set("LOG_LEVEL", "INFO" if args.verbose else "WARNING", priority="cmdline")
    if args.no_delay:
        settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
    for override in args.set:
        name, sep, value = override.partition("=")
        if not sep or not name:
            print(
                f"python -m crawlers: error: -s wants NAME=VALUE, not {override!r}", file=sys.stderr
            )
            return USAGE_ERROR
        settings.set(name.strip(), value, priority="cmdline")
    run_key = args.run_key or manual_run_key()

    results = {name: {"source": name, "run_key": run_key, "status": "skipped",
                      "error": TAKEN_DOWN, "pages_fetched": 0, "pages_failed": 0}
               for name in taken}
    to_crawl = [s for s in sources if s.name not in taken]
    if to_crawl:  # no reactor for nothing: the stopper would wait on no task
        results.update(_crawl(settings, to_crawl, run_key=run_key, limit=args.limit))
    for source in sources:
        print(json.dumps(results[source.name]), flush=True)
    return 0 if all(crawled_ok(r) for r in results.values()) else 1


def _crawl(settings: Any, sources: list[Any], **spider_args: Any) -> dict[str, dict[str, Any]]:
    """Crawl the sources in one reactor; {name: its report}."""
    from scrapy.crawler import AsyncCrawlerProcess

    from crawlers.runs import CrawlRunRecorder
    from crawlers.spiders.news import NewsSpider

    process = AsyncCrawlerProcess(settings)
    crawlers = [(source, process.create_crawler(NewsSpider)) for source in sources]
    tasks, _stopper = _crawl_in_turn(process, crawlers,
                                     settings.getint("NEWSDESK_SOURCES_AT_ONCE"), **spider_args)
    process.start(stop_after_crawl=False)  # the stopper stops it
    results = {}
    for (source, crawler), task in zip(crawlers, tasks, strict=True):
        result = _result_of(crawler, CrawlRunRecorder)
        if result is None:
            error = task.exception() if task.done() and not task.cancelled() else None
            result = {
                "source": source.name,
                "run_key": spider_args["run_key"],
                "status": "failed",
                "error": f"the crawl did not run: {error or 'stopped'}".splitlines()[0],
                "pages_fetched": 0,
                "pages_failed": 0,
            }
        results[source.name] = result
    return results


if __name__ == "__main__":
    die_with_parent("python -m crawlers")  # a crawl never outlives the command or task it is for
    sys.exit(main())

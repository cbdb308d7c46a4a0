"""Running the crawl stage from the pipeline side: always as a subprocess.

Twisted's reactor cannot be restarted, so a crawl gets a process of its own (`python -m
crawlers`); that also keeps `pipeline` from importing `crawlers` (imports point the other way).
The crawler reports one JSON line per source on stdout; its progress goes to our stderr as is.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

from pipeline.errors import NewsdeskError, ReportedError
from pipeline.subprocesses import python_module, start_group, stopped_on_exit

# The crawler's documented exit status for a user error (it has already printed the line).
_USAGE_ERROR = 2


def crawled_ok(report: dict) -> bool:
    """Whether a source's report is no failure: it succeeded, or was `skipped` (taken down
    after the caller chose it)."""
    return report["status"] in ("success", "skipped")


def run_crawl(
    source_names: Sequence[str],
    *,
    sources_path: str | Path | None = None,
    run_key: str | None = None,
    limit: int | None = None,
    no_delay: bool = False,
    verbose: bool = False,
    sync: bool = True,
) -> list[dict]:
    """Crawl the named sources concurrently in one child process; return its per-source reports."""
    return start_crawl(source_names, sources_path=sources_path, run_key=run_key, limit=limit,
                       no_delay=no_delay, verbose=verbose, sync=sync).finish()


class Crawl:
    """A crawl running in its child process: ask whether it still runs, then wait for its
    reports. The pages it stores are in `raw_pages` as soon as each batch commits. The child
    leads a process group of its own: anything that ends the wait early stops the whole crawl."""

    def __init__(self, command: list[str]) -> None:
        self._process = start_group(command, stdout=subprocess.PIPE, text=True)
        # Read stdout as it comes, so a chatty crawler can never block on a full pipe.
        self._stdout: list[str] = []
        self._reader = threading.Thread(
            target=lambda: self._stdout.append(self._process.stdout.read()), daemon=True)
        self._reader.start()

    def running(self) -> bool:
        return self._process.poll() is None

    def stopped_on_exit(self) -> contextlib.AbstractContextManager[None]:
        """A block that stops the crawl if anything ends it early (an exception, Ctrl-C passed
        on as SIGINT, SIGTERM, SIGHUP): see `pipeline.subprocesses.stopped_on_exit`."""
        return stopped_on_exit(self._process)

    def finish(self) -> list[dict]:
        """Wait for the crawl to end; its per-source reports. An exception or signal while
        waiting (Airflow's execution_timeout raises in the task) stops the crawl first."""
        with self.stopped_on_exit():
            returncode = self._process.wait()
        self._reader.join()
        if returncode == _USAGE_ERROR:
            raise ReportedError("the crawl did not start (see the message above)")
        reports = [json.loads(line) for line in "".join(self._stdout).splitlines()
                   if line.startswith("{")]
        if returncode not in (0, 1) or not reports:
            raise NewsdeskError(f"the crawler exited with status {returncode}")
        return reports


def start_crawl(
    source_names: Sequence[str],
    *,
    sources_path: str | Path | None = None,
    run_key: str | None = None,
    limit: int | None = None,
    no_delay: bool = False,
    verbose: bool = False,
    sync: bool = True,
) -> Crawl:
    """Start crawling the named sources in one child process, concurrently; returns at once.

    `sync=False` is for a caller that has just synced the sources table with the file itself.
    """
    command = python_module("crawlers")
    for name in source_names:
        command += ["--source", name]
    if sources_path:
        command += ["--sources", str(sources_path)]
    if run_key:
        command += ["--run-key", run_key]
    if limit is not None:
        command += ["--limit", str(limit)]
    if no_delay:
        command.append("--no-delay")
    if verbose:
        command.append("-v")
    if not sync:
        command.append("--no-sync")
    return Crawl(command)

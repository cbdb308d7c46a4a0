"""Running the crawl stage from the pipeline side: always as a subprocess.

Twisted's reactor cannot be restarted, so a crawl gets a process of its own (`python -m
crawlers`); that also keeps `pipeline` from importing `crawlers` (imports point the other way).
The crawler reports one JSON line per source on stdout; its progress goes to our stderr as is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline import REPO_ROOT
from pipeline.errors import NewsdeskError

# The crawler's documented exit status for a user error (it has already printed the line).
_USAGE_ERROR = 2


def run_crawl(
    source_names: Sequence[str],
    *,
    sources_path: str | Path | None = None,
    run_key: str | None = None,
    limit: int | None = None,
    no_delay: bool = False,
    verbose: bool = False,
) -> list[dict]:
    """Crawl the named sources concurrently in one child process; return its per-source reports."""
    command = [sys.executable, "-m", "crawlers"]
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
    completed = subprocess.run(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    if completed.returncode == _USAGE_ERROR:
        raise NewsdeskError("the crawl did not start (see the message above)")
    reports = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode not in (0, 1) or not reports:
        raise NewsdeskError(f"the crawler exited with status {completed.returncode}")
    return reports

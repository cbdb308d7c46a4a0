"""Throwaway request-queue directories: one per crawl, removed when it closes, swept when it died.

A crawl killed outright (an operator's `kill -9`, a task timeout's SIGKILL, the OOM killer) never
reaches its spider_closed handler, so its queue directory stays in the temp directory: Scrapy's
pickled requests and its fingerprint file, megabytes at 100k URLs, one more per kill. Each
directory records the process that owns it; the next crawl removes those whose owner is gone.

The owner is a PID checked with signal 0 rather than a held file lock: a lock has a moment
between creating the file and locking it when a sweeping crawl could take the new directory for
a dead one. A PID file is written whole before it is read, and an unreadable one is left alone.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

PREFIX = "newsdesk-queue-"
OWNER_FILE = "owner.pid"


def create(source_name: str) -> Path:
    """A new queue directory for `source_name`, owned by this process."""
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{source_name}-"))
    (path / OWNER_FILE).write_text(str(os.getpid()))
    return path


def sweep_stale(parent: Path | None = None) -> list[Path]:
    """Remove the queue directories whose owning process has ended; the paths removed.

    A directory without a readable owner (still being created, or left by a version before
    owners were recorded) is not judged.
    """
    removed = []
    for path in sorted(Path(parent or tempfile.gettempdir()).glob(PREFIX + "*")):
        try:
            owner = int((path / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if _running(owner):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    if removed:
        logger.info("removed %d queue directories left by killed crawls", len(removed))
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, and not ours to judge
        pass
    return True

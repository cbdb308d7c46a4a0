"""Watching processes end, for the tests that stop crawls and their children."""

from __future__ import annotations

import time

import psutil


def ends_within(process: int | psutil.Process, seconds: float) -> bool:
    """Whether `process` (a pid or a psutil.Process) ends within `seconds`. SIGKILL is delivered
    asynchronously, so a process killed a moment ago may still run; a zombie, dead and awaiting
    its parent, has ended."""
    if isinstance(process, int):
        try:
            process = psutil.Process(process)
        except psutil.NoSuchProcess:
            return True
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False

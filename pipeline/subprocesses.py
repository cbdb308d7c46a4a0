"""Child Python processes: their command line (`python -m ...`), and stopping them for good.

A crawl or process child runs in a session of its own, so it and everything it starts (the
extraction pool, a browser) can be stopped as one process group; whatever ends its parent's wait
early (an exception such as Airflow's AirflowTaskTimeout, Ctrl-C, SIGTERM) stops that group,
so a retried task never finds the last attempt's child still crawling.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

#: Seconds a stopped child gets to finish cleanly (a crawl is safe to kill at any moment); kept
#: short because Airflow's supervisor escalates to SIGKILL 5 s after its own SIGTERM.
STOP_GRACE = 3.0
#: Seconds a child gets after Ctrl-C, as it had in the terminal's foreground group: time for a
#: crawl to close its run cleanly. A second Ctrl-C kills it at once.
INTERRUPT_GRACE = 30.0


def python_module(module: str, *args: str) -> list[str]:
    """`python -P -m MODULE ARGS` with this interpreter.

    `-P` keeps the working directory off the child's sys.path: run from a folder that holds a
    `pipeline/` or `crawlers/` of its own (another checkout), the child would import that code
    instead of the installed package its parent runs.
    """
    return [sys.executable, "-P", "-m", module, *args]


def start_group(command: list[str], **popen: Any) -> subprocess.Popen:
    """Start `command` as the leader of a new session (its process group is its pid)."""
    return subprocess.Popen(command, start_new_session=True, **popen)


def stop_group(process: subprocess.Popen, grace: float = STOP_GRACE,
               first: int = signal.SIGTERM) -> None:
    """Stop a `start_group` child and whatever it started: `first` (SIGTERM) to the group,
    SIGKILL to what is left after `grace` seconds, or at once if the wait is interrupted. Safe
    to call when it has already ended."""
    _signal_group(process, first)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    finally:
        _signal_group(process, signal.SIGKILL)  # the leader's own children may outlive it
        process.wait()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


class Terminated(SystemExit):
    """SIGTERM arrived while waiting for a child (raised like KeyboardInterrupt for Ctrl-C)."""


@contextlib.contextmanager
def stopped_on_exit(process: subprocess.Popen) -> Iterator[None]:
    """Wait for `process` inside this block: if anything ends it early (an exception, Ctrl-C,
    SIGTERM), the child's process group is stopped before it propagates."""
    previous = None
    if threading.current_thread() is threading.main_thread():  # only it may set handlers

        def on_sigterm(signum: int, frame: object) -> None:
            raise Terminated(f"stopped by signal {signal.Signals(signum).name}")

        previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    except KeyboardInterrupt:
        # Ctrl-C reaches only this parent (the child has a session of its own): pass it on.
        stop_group(process, INTERRUPT_GRACE, signal.SIGINT)
        raise
    except BaseException:
        stop_group(process)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)

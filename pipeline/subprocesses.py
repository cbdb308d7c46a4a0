"""Child Python processes: their command line (`python -m ...`), and stopping them for good.

A crawl or process child runs in a session of its own, so it and everything it starts (the
extraction pool, a browser) can be stopped as one process group; whatever ends its parent's wait
early (an exception such as Airflow's AirflowTaskTimeout, Ctrl-C, SIGTERM, SIGHUP) stops that
group, so a retried task never finds the last attempt's child still crawling. A session of its
own also takes the child out of its parent's process group, so a group kill of the parent (a
CI runner's) or the parent's death by SIGKILL no longer reaches it: the child stops itself when
its parent dies instead, as `stop_group` would stop it (`die_with_parent`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

#: Seconds a stopped child gets to finish cleanly (a crawl is safe to kill at any moment); kept
#: short because Airflow's supervisor escalates to SIGKILL 5 s after its own SIGTERM.
STOP_GRACE = 3.0
#: Seconds a child gets after Ctrl-C, as it had in the terminal's foreground group: time for a
#: crawl to close its run cleanly. A second Ctrl-C kills it at once.
INTERRUPT_GRACE = 30.0
#: Set by `start_group` to the parent's pid, for the child's `die_with_parent`.
PARENT_PID_ENV = "NEWSDESK_PARENT_PID"
#: prctl(2) option: the signal this process gets when the thread that started it ends.
_PR_SET_PDEATHSIG = 1


def python_module(module: str, *args: str) -> list[str]:
    """`python -P -m MODULE ARGS` with this interpreter.

    `-P` keeps the working directory off the child's sys.path: run from a folder that holds a
    `pipeline/` or `crawlers/` of its own (another checkout), the child would import that code
    instead of the installed package its parent runs.
    """
    return [sys.executable, "-P", "-m", module, *args]


def start_group(command: list[str], **popen: Any) -> subprocess.Popen:
    """Start `command` as the leader of a new session (its process group is its pid), told our
    pid for its `die_with_parent`. Wait for it in the thread that started it: the kernel's
    parent-death signal comes when that thread ends, not the whole parent."""
    env = {**(popen.pop("env", None) or os.environ), PARENT_PID_ENV: str(os.getpid())}
    return subprocess.Popen(command, start_new_session=True, env=env, **popen)


def die_with_parent(program: str) -> None:
    """In a `start_group` child, first thing: when its parent dies, however it dies (SIGKILL
    and the OOM killer run no handler of the parent's), be stopped as `stop_group` would stop
    it: the kernel sends SIGTERM at once, and SIGKILL goes to the group STOP_GRACE seconds
    later (a crawl's clean stop waits for its downloads in flight, up to half a minute). Exits
    at once if the parent is already gone (it died before the kernel was asked). A no-op
    outside Linux (prctl is Linux's) and when not started by `start_group`."""
    parent = os.environ.pop(PARENT_PID_ENV, None)  # ours alone, not our children's
    if parent is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != int(parent):  # orphaned already: adopted by init or a subreaper
        sys.exit(f"{program}: error: the process that started it ({parent}) has ended")
    threading.Thread(target=_kill_group_once_orphaned, args=(int(parent),), daemon=True).start()


def _kill_group_once_orphaned(parent: int) -> None:
    """The SIGKILL half of `die_with_parent`: the kernel's SIGTERM has no second step."""
    while os.getppid() == parent:
        time.sleep(0.5)
    time.sleep(STOP_GRACE)
    os.killpg(os.getpgrp(), signal.SIGKILL)  # our group: `start_group` made us its leader


def stop_group(process: subprocess.Popen, grace: float = STOP_GRACE,
               first: int = signal.SIGTERM) -> None:
    """Stop a `start_group` child and whatever it started: `first` (SIGTERM) to the group,
    SIGKILL to what is left after `grace` seconds, or at once if the wait is interrupted.

    The group is signalled only while its leader is not yet reaped (running, or a zombie that
    still holds its pid): once reaped, its pid, the group's id, may be another group's. Safe to
    call when it has already ended: does nothing then."""
    if process.returncode is not None:  # reaped already (wait, poll)
        return
    os.killpg(process.pid, first)
    try:
        _wait_unreaped(process, grace)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the leader's own children may outlive it
        process.wait()


def _wait_unreaped(process: subprocess.Popen, seconds: float) -> None:
    """Wait up to `seconds` for `process` to end, leaving it unreaped (a zombie keeps its pid)."""
    deadline = time.monotonic() + seconds
    while (os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
           and time.monotonic() < deadline):
        time.sleep(0.05)


class Terminated(SystemExit):
    """SIGTERM or SIGHUP arrived while waiting for a child (raised as KeyboardInterrupt is
    for Ctrl-C)."""


@contextlib.contextmanager
def stopped_on_exit(process: subprocess.Popen) -> Iterator[None]:
    """Wait for `process` inside this block: if anything ends it early (an exception, Ctrl-C,
    SIGTERM, SIGHUP), the child's process group is stopped before it propagates."""
    previous = {}
    if threading.current_thread() is threading.main_thread():  # only it may set handlers

        def on_signal(signum: int, frame: object) -> None:
            raise Terminated(f"stopped by signal {signal.Signals(signum).name}")

        # The child has a session of its own: a closed terminal's SIGHUP reaches us alone.
        previous = {signum: signal.signal(signum, on_signal)
                    for signum in (signal.SIGTERM, signal.SIGHUP)}
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
        for signum, handler in previous.items():
            signal.signal(signum, handler)

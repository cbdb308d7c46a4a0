"""A command and the processes around it (pipeline.subprocesses): its children die with it
however it dies, a child's group is signalled only while it is still ours, and a reader that
leaves early (`| head`) ends it quietly."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
import yaml

from pipeline.subprocesses import PARENT_PID_ENV, python_module, start_group, stop_group
from tests.airflow_support import broken_source
from tests.processes import ends_within
from tests.repo import REPO_ROOT

# The two parents of a crawler: `newsdesk run` (its processing phase), and an Airflow task's
# run_newsdesk, whose `newsdesk crawl` child starts the crawler in turn.
PARENTS = {
    "newsdesk run": python_module("pipeline.cli", "run", "-v", "--sources", "{sources}",
                                  "--no-delay"),
    "airflow task": [sys.executable, "-c",
                     "from pipeline.airflow.child_process import run_newsdesk; "
                     "run_newsdesk(['crawl', '--sources', '{sources}'], None)"],
}


@contextlib.contextmanager
def _crawling(parent: str, folder: Path) -> Iterator[tuple[subprocess.Popen, list, Callable]]:
    """`parent` crawling a site that accepts and does not answer: yields the parent process
    (stderr in `folder`/stderr), its descendants once the crawler is fetching, and a function
    that ends that fetch and refuses the next ones."""
    with socket.create_server(("127.0.0.1", 0)) as site:
        sources = folder / "sources.yaml"
        sources.write_text(yaml.safe_dump({"sources": [
            broken_source(f"http://127.0.0.1:{site.getsockname()[1]}", name="silentwire")]}))
        command = [arg.replace("{sources}", str(sources)) for arg in PARENTS[parent]]
        with (folder / "stderr").open("w") as stderr:
            process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                                       stderr=stderr, text=True)
        try:
            site.settimeout(60)
            connection, _ = site.accept()  # the crawler is fetching
            descendants = psutil.Process(process.pid).children(recursive=True)
            assert any("crawlers" in p.cmdline() for p in descendants), descendants
            with connection:
                yield process, descendants, lambda: (connection.close(), site.close())
        finally:
            process.kill()
            process.wait()


@pytest.mark.parametrize("parent", PARENTS)
def test_a_crawl_ends_when_its_parent_is_sigkilled(db_url, tmp_path, parent):
    """SIGKILL (or the OOM killer) runs no handler of the parent's, and the crawler's session
    of its own keeps a group kill from it: the kernel's parent-death signal ends it (and a
    SIGKILL once the stop grace is over: the fetch in flight never ends)."""
    with _crawling(parent, tmp_path) as (process, descendants, _):
        process.kill()
        left = [p for p in descendants if not ends_within(p, 10)]
    assert left == [], [p.cmdline() for p in left]


@pytest.mark.parametrize(("signum", "status", "last_line", "passed_on"), [
    (signal.SIGINT, 130, "newsdesk run: interrupted", "SIGINT"),  # Ctrl-C, as the crawl had it
    (signal.SIGTERM, 1, "stopped by signal SIGTERM", "SIGTERM"),  # `timeout`, `kill`
    (signal.SIGHUP, 1, "stopped by signal SIGHUP", "SIGTERM"),  # its terminal closed
])
def test_newsdesk_run_stops_its_crawl_when_stopped_while_processing(
        db_url, tmp_path, signum, status, last_line, passed_on):
    """Only `newsdesk run` gets the signal (its crawler has a session of its own): it passes
    Ctrl-C on as SIGINT, with the time to close the crawl's run, and stops the crawl with
    SIGTERM for the others."""
    with _crawling("newsdesk run", tmp_path) as (process, descendants, end_fetches):
        process.send_signal(signum)
        end_fetches()  # a crawl's clean stop waits for its fetches in flight
        assert process.wait(60) == status
        left = [p for p in descendants if not ends_within(p, 10)]
    err = (tmp_path / "stderr").read_text()
    assert left == [], [p.cmdline() for p in left]
    assert err.splitlines()[-1] == last_line, err[-2000:]
    assert f"Received {passed_on}, shutting down gracefully" in err, err[-2000:]


def test_a_child_whose_parent_died_before_it_asked_does_not_start(db_url):
    """The race die_with_parent closes: the parent was gone before the child's prctl, so no
    parent-death signal would ever come (here the pid named is not its parent's)."""
    result = subprocess.run(python_module("crawlers", "--source", "any"), cwd=REPO_ROOT,
                            env={**os.environ, PARENT_PID_ENV: "1"}, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr == ("python -m crawlers: error: the process that started it (1) has "
                             "ended\n")


def test_stop_group_ends_what_outlives_the_leader(tmp_path):
    """The leader ends at SIGTERM within the grace, its child ignores SIGTERM: the group still
    gets its SIGKILL, sent while the leader is an unreaped zombie (its pid still ours)."""
    pids = tmp_path / "pids"
    script = textwrap.dedent(f"""
        import os, subprocess, sys, time
        stubborn = subprocess.Popen([sys.executable, "-c", "import signal, time; "
                                     "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                                     "open({str(pids)!r}, 'w').write('ready'); time.sleep(60)"])
        while not os.path.exists({str(pids)!r}):
            time.sleep(0.05)
        open({str(pids)!r}, "w").write(str(stubborn.pid))
        time.sleep(60)
    """)
    process = start_group([sys.executable, "-c", script])
    deadline = time.monotonic() + 20
    while not (pids.exists() and pids.read_text().isdigit()) and time.monotonic() < deadline:
        time.sleep(0.05)
    stubborn = psutil.Process(int(pids.read_text()))
    stop_group(process, grace=10)
    assert process.returncode == -signal.SIGTERM  # it ended within the grace
    assert ends_within(stubborn, 5)


def test_stop_group_signals_nothing_once_the_child_is_reaped(monkeypatch):
    """Its pid may be another process group's by now."""
    process = start_group([sys.executable, "-c", "pass"])
    process.wait()
    signalled = []
    monkeypatch.setattr(os, "killpg", lambda *args: signalled.append(args))
    stop_group(process)
    assert signalled == []


def test_a_reader_that_leaves_early_ends_the_command_quietly(tmp_path):
    """`newsdesk extract < pages | head -1`, a real pipe: the lines written once `head` has
    gone are no error line (it was `unexpected BrokenPipeError`), and the status is 141
    (128 + SIGPIPE), as a Unix tool's."""
    pages = tmp_path / "pages.jsonl"
    pages.write_text("".join(json.dumps({"id": i, "url": f"https://news.example/{i}",
                                         "html": "<html><body><p>x</p></body></html>"}) + "\n"
                             for i in range(500)))
    newsdesk = " ".join(python_module("pipeline.cli"))
    result = subprocess.run(
        ["bash", "-c", f"{newsdesk} extract --workers 1 < {pages} | head -1; "
                       "echo status ${PIPESTATUS[0]} >&2"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert len(result.stdout.splitlines()) == 1
    assert result.stderr == "status 141\n"


"""Helpers for the Airflow tests: an isolated AIRFLOW_HOME, sources files, a site that fails,
a Redis broker."""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

import pytest
import yaml

from pipeline.airflow.local import dags_folder

VENV_BIN = Path(sys.executable).parent


def airflow_env(home: Path) -> dict[str, str]:
    """Environment for an Airflow living in `home` (SQLite metadata), loading the packaged DAGs."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder()),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        # Fast retries, so a failing source's retry is exercised without waiting minutes.
        "NEWSDESK_RETRY_DELAY": "1",
        "NEWSDESK_CRAWL_RETRIES": "1",
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def airflow_cli(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "airflow"), *args], env={**os.environ, **env}, capture_output=True,
        text=True, timeout=timeout,
    )


def fast_sources(sources_yaml: str, extra: list[dict] | None = None) -> str:
    """The demo site's sources with no politeness delay (a local site), plus `extra` entries."""
    document = yaml.safe_load(sources_yaml)
    for source in document["sources"]:
        source["politeness"] = {"delay": 0, "concurrency": 8}
    document["sources"] += extra or []
    return yaml.safe_dump(document, sort_keys=False)


class _Always500(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(500)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"internal server error\n")

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def failing_site() -> Iterator[str]:
    """A site on 127.0.0.1 that answers 500 to every request; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Always500)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def broken_source(base: str, name: str = "brokenwire") -> dict:
    return {
        "name": name,
        "homepage": f"{base}/",
        "feeds": [f"{base}/feed.xml"],
        "allow_private_addresses": True,
        "politeness": {"delay": 0, "concurrency": 2},
    }


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
@contextlib.contextmanager
def redis_server(workdir: Path, port: int) -> Iterator[str]:
    """A throwaway Redis (Debian's redis-server) on 127.0.0.1:`port`, nothing persisted; yields
    its broker URL. `make test` installs redis-server."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server not found: `make test` installs it (apt-get install redis-server)"
    workdir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir), "--logfile", str(workdir / "redis.log")],
        stdin=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
            assert process.poll() is None and time.monotonic() < deadline, (
                f"redis-server did not start on port {port}: see {workdir / 'redis.log'}")
            time.sleep(0.2)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def wait_for(what: str, check: Callable, timeout: float, stack, interval: float = 2.0,
             watched: Collection[str] | None = None):
    """Poll `check` until it returns something truthy (returned), failing at once, with the
    components' log tails, if a watched component of the local Airflow `stack` (every one by
    default) has exited, and after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = [name for name, alive in stack.alive().items()
                if not alive and (watched is None or name in watched)]  # fmt: skip
        assert not dead, f"{dead} exited while waiting for {what}\n{stack.tail()}"
        result = check()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{stack.tail(80)}")


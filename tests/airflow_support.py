"""Helpers for the Airflow tests: an isolated AIRFLOW_HOME, sources files, a site that fails."""

from __future__ import annotations

import contextlib
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

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

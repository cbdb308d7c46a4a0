"""Running `newsdesk` as a user does: a subprocess, its exit status, stdout and stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.repo import REPO_ROOT


def newsdesk(*args: str, env: dict | None = None, input: str | None = None, timeout: int = 300):
    """Run the CLI with the test's environment (NEWSDESK_DATABASE_URL and NEWSDESK_HOME set)."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_demo(site, folder) -> Path:
    """`newsdesk run` over a served demo site into the test database; returns its sources file."""
    path = Path(folder) / "demo-sources.yaml"
    path.write_text(site.sources_yaml())
    result = newsdesk("run", "--sources", str(path), "--no-delay")
    assert result.returncode == 0, result.stderr
    return path

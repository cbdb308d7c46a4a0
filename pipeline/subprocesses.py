"""The command line of a child Python process running one of our modules (`python -m ...`)."""

from __future__ import annotations

import sys


def python_module(module: str, *args: str) -> list[str]:
    """`python -P -m MODULE ARGS` with this interpreter.

    `-P` keeps the working directory off the child's sys.path: run from a folder that holds a
    `pipeline/` or `crawlers/` of its own (another checkout), the child would import that code
    instead of the installed package its parent runs.
    """
    return [sys.executable, "-P", "-m", module, *args]

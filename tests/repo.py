"""The repository checkout the tests run from: its docs/, deploy files, build/ folder and CLI.

The installed package knows nothing of a checkout (it reads its data with importlib.resources),
so the tests that do need one take it from here.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

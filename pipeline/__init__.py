"""newsdesk's processing side: config, database layer, extraction, loading and the CLI."""

from pathlib import Path

__version__ = "0.1.0"

#: The repository root (newsdesk is installed editable from its checkout: sql/ and the default
#: sources.yaml live beside the packages, not inside them).
REPO_ROOT = Path(__file__).resolve().parent.parent

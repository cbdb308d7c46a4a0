"""newsdesk's processing side: config, database layer, extraction, loading and the CLI."""

__version__ = "0.1.0"

"""Installed as the data-only package `pipeline.db.migrations` (pyproject.toml's package-dir)."""

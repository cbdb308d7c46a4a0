"""Sources: the YAML config and its validation, the `sources` table, source health."""

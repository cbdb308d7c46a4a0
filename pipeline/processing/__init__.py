"""The process stage: raw pages claimed in batches, extracted on every core, stored, deduped."""

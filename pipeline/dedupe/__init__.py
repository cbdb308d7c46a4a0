"""Deduplication: exact and near-duplicate articles grouped into stories, in the load transaction.

Levels (docs/dedupe.md has the reasoning and the measured figures):

1. URL: one article per canonical URL (the loader's upsert).
2. Exact: the same normalised body (`content_hash`) under another URL.
3. Near: MinHash over word shingles, LSH band keys in the indexed `article_bands` table; candidates
   come from one indexed query per batch and are confirmed on the exact shingle sets.

Confirmed pairs go to `duplicate_pairs`; connected articles share a story (`articles.story_id`).

Modules: `config` (settings), `minhash` (signatures, keys, similarity), `matching` (index keys,
candidate filter, confirmation), `stories` (grouping, originals), `batch` (dedupe a stored batch,
the lock), `backlog` (articles left without a story, rebuild).
"""

"""Dedupe settings: shingles, LSH bands and the thresholds that confirm a copy, from the
environment (NEWSDESK_DEDUPE_*)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from pipeline.dedupe import minhash
from pipeline.errors import NewsdeskError


@dataclass(frozen=True)
class DedupeConfig:
    """Dedupe settings; each can be set with NEWSDESK_DEDUPE_<NAME> (docs/dedupe.md: why these).

    Changing shingle_size, bands, rows or the lead settings changes the index keys: run
    `newsdesk dedupe --rebuild` afterwards.
    """

    shingle_size: int = 5  # words per shingle
    bands: int = 24  # LSH bands ...
    rows: int = 3  # ... of this many MinHash values: 72 permutations, candidates from J ~ 0.3
    jaccard: float = 0.5  # a near-duplicate shares at least half its shingles (Jaccard) ...
    containment: float = 0.8  # ... or 80% of the smaller body is in the larger (teasers, cuts)
    containment_min_jaccard: float = 0.1  # ... and the smaller is at least a tenth of the larger
    min_shingles: int = 60  # shorter bodies only match exactly, and then only with the same title
    min_spread: float = 0.5  # the overlap must reach at least half the smaller body's paragraphs
    lead_paragraphs: int = 3  # opening keys: the first words of the first paragraphs ...
    lead_words: int = 12  # ... this many of them
    max_per_key: int = 10  # candidates read per key; a key that reaches it is common

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> DedupeConfig:
        """The defaults, overridden by NEWSDESK_DEDUPE_* in `environ` (os.environ by default)."""
        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = env.get(f"NEWSDESK_DEDUPE_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            kind = int if f.type in ("int", int) else float
            try:
                values[f.name] = kind(raw)
            except ValueError:
                raise NewsdeskError(
                    f"NEWSDESK_DEDUPE_{f.name.upper()}: not a number: {raw!r}") from None
        config = cls(**values)
        if not (config.bands > 0 and config.rows > 0 and config.shingle_size > 0):
            raise NewsdeskError("NEWSDESK_DEDUPE_BANDS, _ROWS and _SHINGLE_SIZE must be positive")
        if config.lead_band > minhash.MAX_BANDS:
            raise NewsdeskError(f"NEWSDESK_DEDUPE_BANDS must be at most {minhash.MAX_BANDS}")
        return config

    @property
    def permutations(self) -> int:
        return self.bands * self.rows

    @property
    def lead_band(self) -> int:
        return self.bands

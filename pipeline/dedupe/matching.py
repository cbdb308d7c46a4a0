"""Telling copies apart: a body's index keys, which candidate pairs are worth confirming, and
the confirmation on the exact shingle sets. Pure functions: batch.py does the database work."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.dedupe import minhash
from pipeline.dedupe.config import DedupeConfig


@dataclass
class Doc:
    """A stored article as matching sees it (a row of batch.py's article query)."""

    id: int
    source: str
    body: str
    content_hash: str
    title: str
    story_id: int | None
    shingles: frozenset[str] | None = None  # computed only when the doc is in a candidate pair


def index_keys(body: str, config: DedupeConfig) -> list[int]:
    """The body's index keys (one per band, then the openings' keys); none for a short body."""
    # The set: counting needs it anyway, and each distinct shingle is then hashed once.
    shingles = minhash.shingles(body, config.shingle_size)
    if len(shingles) < config.min_shingles:
        return []
    sig = minhash.signature(shingles, config.permutations)
    keys = minhash.band_keys(sig, config.bands, config.rows)
    keys += minhash.lead_keys(body, config.lead_paragraphs, config.lead_words, config.lead_band)
    return keys


def confirm(a: Doc, b: Doc, config: DedupeConfig) -> tuple[str, float, float] | None:
    """('exact' | 'near', jaccard, containment) when a and b are the same article, else None."""
    short = min(len(a.shingles), len(b.shingles)) < config.min_shingles
    if a.content_hash == b.content_hash:
        # A short body is often a template ("Photos: ...", a paywall stub): the same short text
        # under two URLs is one article only when the headline is the same too.
        if short and a.title != b.title:
            return None
        return "exact", 1.0, 1.0
    if short:
        return None
    sim = minhash.similarity(a.shingles, b.shingles)
    if not (sim.jaccard >= config.jaccard or (
        sim.containment >= config.containment and sim.jaccard >= config.containment_min_jaccard
    )):
        return None
    small, large = (a, b) if len(a.shingles) <= len(b.shingles) else (b, a)
    if minhash.spread(minhash.paragraph_shingles(small.body, config.shingle_size),
                      large.shingles) < config.min_spread:
        return None  # the overlap is one block: boilerplate, not a copy
    return "near", sim.jaccard, sim.containment


def worth_confirming(
    rows: Iterable[tuple[int, int, int | None]], openings: set[int], max_per_key: int
) -> list[tuple[int, int]]:
    """The (probe, candidate) pairs to confirm, from the candidate lookup's (probe, candidate,
    key) rows; `openings` are the probes' opening keys (the others are MinHash band keys).

    Confirming costs a body fetch and a shingle set per candidate, so a pair is confirmed only
    when the keys it shares make a copy likely:
    - an exact copy (same content hash, no key), or two shared keys or more: a copy shares about
      3 of the 24 bands at Jaccard 0.5, and its openings;
    - one shared opening (a teaser, a cut copy), unless that opening is common (its lookup hit
      `max_per_key`: a stock sentence, a newsletter box).
    A single shared band is what unrelated bodies sharing a stock phrase (a quote, a sign-off)
    have in common; a copy shares just one band and no opening in 14% of pairs at Jaccard 0.5
    and 2% at 0.6, and then usually meets its story through another member. Skipping those
    keeps the cost per article flat as the corpus, and with it the number of chance
    collisions, grows (docs/dedupe.md).
    """
    rows = list(rows)
    per_lookup = Counter((probe, key) for probe, _, key in rows if key is not None)
    shared: Counter[tuple[int, int]] = Counter()
    kept: set[tuple[int, int]] = set()
    for probe, cand, key in rows:
        if key is None:
            kept.add((probe, cand))
            continue
        shared[probe, cand] += 1
        if key in openings and per_lookup[probe, key] < max_per_key:
            kept.add((probe, cand))
    kept.update(pair for pair, n in shared.items() if n >= 2)
    return sorted(kept)

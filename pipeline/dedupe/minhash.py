"""Word shingles, MinHash signatures and LSH band keys for near-duplicate detection.

Pure functions, no I/O. Everything is deterministic across processes and machines (no Python
`hash()`, which is salted per process): shingles are hashed with CRC-32, the permutations come
from a fixed seed, band keys are BLAKE2b digests. A signature computed by any worker on any day
gives the same band keys, so the index in Postgres stays valid across runs.

Why not datasketch: we need only the signature (the LSH index lives in Postgres, not in
datasketch's in-memory/Redis/Cassandra storage), and datasketch 2.0 imports scipy for its LSH
module. Here the whole shingle array goes through every permutation in one numpy operation:
about 0.7 ms for a 300-shingle body and 72 permutations, shingling included 1 ms (measured
on a loaded 4-core machine). The family is the classic (a*x + b) mod p with p = 2^32 - 5, so
a*x + b stays below 2^64 and numpy's uint64 arithmetic is exact (no silent wrap-around).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

_PRIME = np.uint64(4294967291)  # 2^32 - 5, the largest 32-bit prime
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Lower-cased words of NFKC-normalised text: case, punctuation and wrapping do not count."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def paragraph_shingles(text: str, size: int) -> list[set[str]]:
    """Shingle sets of each paragraph (line) long enough to have one."""
    return [sh for line in text.splitlines() if (sh := shingles(line, size))]


def spread(paragraphs: list[set[str]], other: set[str] | frozenset[str],
           share: float = 0.3) -> float:
    """Share of `paragraphs` having at least `share` of their shingles in `other`.

    A copy overlaps its original all through the text; two articles that only share a block
    (a newsletter box, a boilerplate "about us" paragraph) overlap in one paragraph or two."""
    if not paragraphs:
        return 0.0
    hits = sum(1 for p in paragraphs if len(p & other) >= share * len(p))
    return hits / len(paragraphs)


def shingles(text: str, size: int) -> set[str]:
    """The set of `size`-word shingles (consecutive word windows) of `text`."""
    w = words(text)
    if len(w) < size:
        return set()
    return {" ".join(w[i:i + size]) for i in range(len(w) - size + 1)}


@lru_cache(maxsize=8)
def _permutations(n: int, seed: int = 0x6E657773) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, int(_PRIME), size=n, dtype=np.uint64)
    b = rng.integers(0, int(_PRIME), size=n, dtype=np.uint64)
    return a, b


def signature(shingle_set: set[str] | frozenset[str], n: int) -> np.ndarray:
    """The MinHash signature (n uint32-ranged values) of a non-empty shingle set."""
    ids = np.fromiter((zlib.crc32(s.encode("utf-8")) for s in shingle_set), dtype=np.uint64,
                      count=len(shingle_set))
    a, b = _permutations(n)
    # (len, 1) * (n,) -> (len, n); the minimum over the shingles is the signature.
    return ((ids[:, None] * a + b) % _PRIME).min(axis=0)


def _key(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


MAX_BANDS = 127  # band numbers fit the top byte of a key, below the sign bit


def band_key(band: int, key: int) -> int:
    """`key` (signed 64-bit) marked with its band: the band number XORed into the top byte.

    One bigint per index row instead of (band, hash) keeps the index small; a key of band 3 never
    meets the same digest in band 4. XOR, not a new digest, so the 0008 migration converts stored
    (band, hash) rows in SQL (`hash # (band << 56)`) without recomputing anything."""
    return key ^ (band << 56)


def band_keys(sig: np.ndarray, bands: int, rows: int) -> list[int]:
    """One signed 64-bit key per band: BLAKE2b of the band's `rows` signature values, with the
    band number folded in (`band_key`)."""
    grid = sig[: bands * rows].astype("<u4").reshape(bands, rows)
    return [band_key(band, _key(row.tobytes())) for band, row in enumerate(grid)]


def lead_keys(text: str, count: int, length: int, band: int) -> list[int]:
    """Keys of the openings of the first `count` paragraphs that have at least `length` words,
    folded with `band` (`band_key`).

    A teaser, or a copy cut after a few paragraphs, shares too few shingles with the full text
    for MinHash to find it, but it starts the same way: these keys make it a candidate.
    """
    out: list[int] = []
    for paragraph in text.splitlines():
        w = words(paragraph)
        if len(w) >= length:
            out.append(band_key(band, _key(" ".join(w[:length]).encode("utf-8"))))
            if len(out) == count:
                break
    return sorted(set(out))


@dataclass(frozen=True)
class Similarity:
    jaccard: float
    containment: float  # of the smaller set in the larger
    smaller: int  # shingles in the smaller set


def similarity(a: set[str] | frozenset[str], b: set[str] | frozenset[str]) -> Similarity:
    """Exact Jaccard and containment of two shingle sets."""
    if not a or not b:
        return Similarity(0.0, 0.0, 0)
    common = len(a & b)
    smaller = min(len(a), len(b))
    return Similarity(common / (len(a) + len(b) - common), common / smaller, smaller)

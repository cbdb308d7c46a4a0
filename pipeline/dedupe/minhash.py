"""Word shingles, MinHash signatures and LSH band keys for near-duplicate detection.

Pure functions, no I/O. Everything is deterministic across processes and machines (no Python
`hash()`, which is salted per process): shingles are hashed with CRC-32, the permutations come
from a fixed seed, band keys are BLAKE2b digests. A signature computed by any worker on any day
gives the same band keys, so the index in Postgres stays valid across runs.

Why not datasketch: we need only the signature (the LSH index lives in Postgres, not in
datasketch's in-memory/Redis/Cassandra storage), and datasketch 2.0 imports scipy for its LSH
module. Here the whole shingle array goes through every permutation in one numpy operation.
The family is the classic (a*x + b) mod p with p = 2^32 - 5, so a*x + b stays below 2^64 and
numpy's uint64 arithmetic is exact (no silent wrap-around); the modulo is folded with shifts
(`mod_prime`) instead of numpy's uint64 division, which took two thirds of the signature's
time, and gives the same values: keys stored before it stay valid.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Iterable
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
    return set(windows(text, size))


@lru_cache(maxsize=8)
def _permutations(n: int, seed: int = 0x6E657773) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, int(_PRIME), size=n, dtype=np.uint64)
    b = rng.integers(0, int(_PRIME), size=n, dtype=np.uint64)
    return a, b


def windows(text: str, size: int) -> list[str]:
    """Every `size`-word shingle of `text` in order, repeats kept (`shingles` is their set;
    the minimum of a hash does not care about repeats, so either gives the same signature)."""
    w = words(text)
    # strict=False: the shorter slices end the windows (the last one starts size - 1 from the end)
    return list(map(" ".join, zip(*(w[k:] for k in range(size)), strict=False)))


_LOW = np.uint64(0xFFFFFFFF)
_HIGH = np.uint64(32)
_FOLD = np.uint64(5)  # 2^32 mod _PRIME
_BLOCK = 256  # shingles per block: 256 x 72 permutations x 8 bytes = 147 KB


def mod_prime(x: np.ndarray) -> np.ndarray:
    """x mod 2^32 - 5 for uint64 `x`, in place, without numpy's slow uint64 division.

    With 2^32 = 5 (mod p), x = hi*2^32 + lo = 5*hi + lo (< 6*2^32); folded once more it is
    below 2^32 + 25: the residue or the residue + p. Of y and y - p (wrapping below zero to
    near 2^64) the smaller is then the residue."""
    for _ in range(2):
        high = (x >> _HIGH) * _FOLD
        x &= _LOW
        x += high
    return np.minimum(x, x - _PRIME, out=x)


def signature(shingle_list: Iterable[str], n: int) -> np.ndarray:
    """The MinHash signature (n uint32-ranged values) of non-empty shingles (a set, or
    `windows` with repeats: the same signature)."""
    found = list(shingle_list)
    if not found:  # the blocks below would leave the placeholder _PRIME as a signature
        raise ValueError("a MinHash signature needs at least one shingle")
    ids = np.fromiter(map(zlib.crc32, map(str.encode, found)), dtype=np.uint64,
                      count=len(found))
    a, b = _permutations(n)
    # (rows, 1) * (n,) -> (rows, n); the minimum over the shingles is the signature. In blocks
    # of rows that stay in the CPU cache: one (len, n) array of a long body did not, and each
    # pass over it went to memory (twice the time from about 600 shingles).
    sig = np.full(n, _PRIME, dtype=np.uint64)
    for start in range(0, len(ids), _BLOCK):
        x = ids[start:start + _BLOCK, None] * a
        x += b
        np.minimum(sig, mod_prime(x).min(axis=0), out=sig)
    return sig


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

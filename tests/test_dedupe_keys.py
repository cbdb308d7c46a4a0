"""MinHash keys: the vectorised signature gives the keys stored before it (issue 22), so the
index in article_bands stays valid without a rebuild."""

from __future__ import annotations

import zlib

import numpy as np

from pipeline.dedupe import minhash
from pipeline.dedupe.config import DedupeConfig
from pipeline.dedupe.matching import index_keys

_SENTENCE = ("harbour council budget vote delayed after engineers warn the old sea wall could "
             "fail during the winter storms residents say repairs were promised years ago")
_WORDS = _SENTENCE.split()
# Three paragraphs of 100 words with repeats (145 distinct shingles, 356 windows: more than one
# block of the signature), and words that NFKC and case folding change.
TEXT = "\n".join(
    " ".join(_WORDS[(i * 7 + j) % len(_WORDS)] + ("" if j % 11 else " Ünïcode ﬁnance")
             for j in range(100))
    for i in range(3))

# index_keys(TEXT) as the code before issue 22 computed them (main at 691a3c7): one set of
# shingle strings, one (shingles x permutations) array, numpy's uint64 modulo.
STORED_KEYS = [
    -5430743122608205650, -2879801655169140114, 2922675599783576865, 6520695818526232983,
    6801813375728658193, -4977344016299694537, -6845416401696510240, -5569435603030137188,
    1604481595895396158, 8693038233696859743, -9203237382041567355, 7623825797118187393,
    -5572254423520161389, 2333262859473615152, 788535042302315770, 3832492089827710863,
    -2225924944016473793, 8607620709732945855, -7883004813640608291, 4074133732243125640,
    -2270402234570269477, 2738621956239581035, 3255233660979498538, 3394685234870726219,
    686059813760033226, 2568601647842578133, 4169421922813604275,
]


def test_index_keys_are_the_keys_stored_before():
    assert index_keys(TEXT, DedupeConfig()) == STORED_KEYS


def test_signature_is_the_textbook_minhash_of_the_shingle_set():
    config = DedupeConfig()
    windows = minhash.windows(TEXT, config.shingle_size)
    shingles = minhash.shingles(TEXT, config.shingle_size)
    assert len(windows) > 256 > len(shingles) == len(set(windows))
    a, b = minhash._permutations(config.permutations)
    prime = int(minhash._PRIME)
    expected = [min((int(ai) * zlib.crc32(s.encode()) + int(bi)) % prime for s in shingles)
                for ai, bi in zip(a, b, strict=True)]
    assert minhash.signature(windows, config.permutations).tolist() == expected
    assert minhash.signature(shingles, config.permutations).tolist() == expected


def test_mod_prime_is_the_modulo_at_its_edges():
    p = int(minhash._PRIME)
    values = [0, 1, 4, 5, p - 1, p, p + 1, p + 29, 2**32 - 1, 2**32, 2**32 + 4, 2 * p,
              2 * p - 1, 5 * p + 3, (2**32 - 1) * (2**32 - 6) + p - 1, 2**64 - 1, 2**64 - 6]
    x = np.array(values, dtype=np.uint64)
    assert minhash.mod_prime(x).tolist() == [v % p for v in values]


def test_short_bodies_get_no_keys():
    config = DedupeConfig()
    assert index_keys(" ".join(_WORDS), config) == []
    assert index_keys("", config) == []

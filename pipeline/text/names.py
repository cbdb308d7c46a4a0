"""Compare-keys for names: a person's, a site's, a section's."""

from __future__ import annotations

import re
import unicodedata


def name_key(text: str) -> str:
    """Compare-key for names: NFKC, case-folded, letters and digits only."""
    return re.sub(r"\W+", "", unicodedata.normalize("NFKC", text).casefold())


_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def key_variants(text: str) -> set[str]:
    """`name_key(text)` plus its accent-free and German-transliterated forms, so that a segment
    "Börsen-Zeitung" matches the domain boersen-zeitung.de."""
    key = name_key(text)
    plain = "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))
    return {key, plain, key.translate(_GERMAN)} - {""}


def site_name_keys(*names: str | None) -> set[str]:
    """Keys a site may be called by: each name, and for a domain its label without TLD."""
    keys: set[str] = set()
    for name in names:
        if not name:
            continue
        keys |= key_variants(name)
        if "." in name and " " not in name.strip():
            host = name.strip().lower().removeprefix("www.")
            keys.add(name_key(host.split(".")[0]))
            keys.add(name_key(host))
    keys.discard("")
    return keys

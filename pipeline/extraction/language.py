"""The article's language: the page's declaration, checked against a language detector.

The rule (also in docs/extraction.md, the "language" row):

1. The declaration is the page's own (`<html lang>`, JSON-LD `inLanguage`, `og:locale` or a
   language meta tag, in that order), else the source's configured `language:`. Only the base
   language (ISO 639-1) is kept: the `language` column, `--language` and the search
   configurations all key on it.
2. py3langid reads the body. Its answer replaces the declaration only when it is confident: a
   probability of at least `CONFIDENT` over a body of at least `MIN_WORDS_TO_OVERRIDE` words
   (a template's `lang="en"` on a Russian page, say). A shorter body never overrides. A
   detection of another standard of the declared language's macrolanguage (Bokmål and
   Norwegian, Croatian and Serbian, Indonesian and Malay) agrees with it.
3. With nothing declared, the detector's answer is taken when it is confident, at any length.
4. Otherwise the declaration, else no language (search then parses the article without
   stemming rather than with a wrong stemmer).
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import NamedTuple

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from pipeline.extraction.metadata import PageMetadata, ld_strings
from pipeline.sources.config import Source
from pipeline.text.cleaning import normalise_language

CONFIDENT = 0.95
MIN_WORDS_TO_OVERRIDE = 50
# The detector's cost grows with the text (a Python loop over its bytes), and its answer is
# settled well before this many characters: over the 2,050 bodies of the dev corpus and the demo
# site, 1,000 characters gave every page the same language and the same side of `CONFIDENT` as
# 4,000 (500 changed 7), so 1,500 keeps a margin at 2.7x less cost than 4,000.
DETECT_CHARS = 1500
# Standards of one ISO 639-3 macrolanguage (Norwegian, Serbo-Croatian, Malay), which the
# detector spells differently ("nb" is detected as "no") or cannot reliably tell apart (a
# Croatian paragraph scores bs 0.51, hr 0.48): a detection in the declared one's group agrees.
_MACROLANGUAGE_GROUP = {"nb": "no", "nn": "no", "bs": "sh", "hr": "sh", "sr": "sh", "id": "ms"}
# The detector's labels without a two-letter code that belong to an ISO 639-3 macrolanguage
# with one (Wu and Cantonese are Chinese): their probability counts for that language.
_DETECTOR_LABEL_CODE = {"wuu": "zh", "yue": "zh", "ary": "ar", "arz": "ar", "uzs": "uz",
                        "gug": "gn", "sdh": "ku", "ltg": "lv"}


class Detected(NamedTuple):
    language: str
    probability: float


def language(page: PageMetadata, source: Source | None, body: str, words: int) -> str | None:
    """The article's language by the rule in the module docstring (`words`: the body's count)."""
    declared = (normalise_language(page.html_lang)
                or normalise_language(next(iter(ld_strings(page.ld("inLanguage"))), None))
                or normalise_language(page.first("og:locale", "content-language",
                                                 "dc.language", "language"))
                or (source.language if source else None))
    if declared and words < MIN_WORDS_TO_OVERRIDE:
        return declared  # a short body never overrides a declaration: nothing to detect
    return reconcile(declared, detect(body), words)


def reconcile(declared: str | None, detected: Detected, words: int) -> str | None:
    """The declared language unless a confident detection over a long enough body disagrees."""
    confident = detected.probability >= CONFIDENT
    if not declared:
        return detected.language if confident else None
    if (confident and words >= MIN_WORDS_TO_OVERRIDE
            and _MACROLANGUAGE_GROUP.get(declared, declared)
            != _MACROLANGUAGE_GROUP.get(detected.language, detected.language)):
        return detected.language
    return declared


def detect(text: str) -> Detected:
    """py3langid's most probable ISO 639-1 language for `text` (the column stores ISO 639-1:
    labels without a two-letter code count only through their macrolanguage)."""
    probabilities: defaultdict[str, float] = defaultdict(float)
    codes = _label_codes()
    for label, probability in _identifier().rank(text[:DETECT_CHARS]):
        code = codes[label]
        if code:
            probabilities[code] += probability
    best = max(probabilities, key=probabilities.__getitem__)
    return Detected(best, probabilities[best])


def load_detector() -> None:
    """Load the detector now rather than on the first page (the process stage's workers share
    it this way: `pipeline.processing.worker_preload`)."""
    _label_codes()


@cache
def _identifier() -> LanguageIdentifier:
    """The detector with probabilities normalised, loaded once per process (about 0.6 s)."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@cache
def _label_codes() -> dict[str, str | None]:
    """Each detector label's ISO 639-1 code (None: it has none), worked out once: normalising
    the 140 labels on every page was a quarter of detection's CPU."""
    return {label: normalise_language(_DETECTOR_LABEL_CODE.get(label, label))
            for label in _identifier().labels}

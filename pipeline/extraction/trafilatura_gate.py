"""When trafilatura's second opinions run: readability and justext only where they could change
its body.

trafilatura's full mode extracts the body with its own rules, then always runs readability on a
copy of the raw page and, on an unclean or short body, justext (`compare_extraction`); its fast
mode skips both and loses body quality on some pages. Readability's text is never longer than
the text of the page it reads, and trafilatura keeps its own body unless readability's is more
than twice as long, or its own has no paragraph text or more tables than paragraphs; justext is
only consulted on an unclean or short body. So where its own body has paragraph text, no more
tables than paragraphs, is clean, not short, and at least half the page's text, the second
opinions cannot win: skipping them gives the full mode's body exactly, at the fast mode's cost.

Once the body is final (not short enough for trafilatura's baseline rescue), the same measure
of the page often shows that its next step, a recall escalation for bodies under a fifth of the
page, cannot run: its measure of the page (`html2txt`, a copy and cleaning of the whole page)
is then skipped too.

The decision sits at trafilatura's own seam, `trafilatura.core.compare_extraction`, so the first
pass is reused (no second extraction on the pages that need the fallback). It applies only
inside `recording()`: trafilatura called anywhere else (a bench's bare baseline) runs unchanged.
Inside it, too, trafilatura's costliest XPath expressions are evaluated in Python
(`trafilatura_xpaths`, installed here).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from importlib.metadata import version
from typing import NamedTuple

import trafilatura.core as trafilatura_core
from lxml import etree
from trafilatura.baseline import _BLOCK_ELEMS
from trafilatura.core import ESCALATION_MAX_LENGTH, ESCALATION_PAGE_SHARE
from trafilatura.external import SANITIZED_XPATH

from pipeline.extraction import trafilatura_xpaths

FAST = "fast"  # trafilatura's own body, its second opinions skipped
SECOND_OPINION = "second opinion"  # readability (and maybe justext) consulted, today's full mode

# The seam: `_extract_and_compare` calls this module global of trafilatura.core after its own
# extraction. Wrapping a pinned library's internal is the only way to reuse that first pass;
# if it disappears or its parameters change, nothing is wrapped and every page takes the full
# mode (recorded as a second opinion), today's behaviour.
SEAM = "compare_extraction"
SEAM_PARAMETERS = ("cleaned_tree", "raw_tree", "body", "text", "options")
# The rules in `own_body_can_stand` and `PageMeasure` are read off this release's code
# (`_prefer_readability`, `compare_extraction`, readability's `summary`/`sanitize`): another
# release may change them behind the same seam, so it runs the full mode everywhere until
# someone re-reads them and moves this (tests/test_trafilatura_gate.py fails first). The same
# pin holds for the XPath expressions `trafilatura_xpaths` restates.
TESTED_TRAFILATURA = "2.3.1"

_paths: ContextVar[list[str] | None] = ContextVar("trafilatura_paths", default=None)
# Set by each gated comparison: the escalation check that comes next cannot hold (reset by
# every comparison and by `recording`, so it never outlives the call it was set for).
_measure_not_needed: ContextVar[bool] = ContextVar("trafilatura_measure_not_needed",
                                                   default=False)


class PageMeasure(NamedTuple):
    """What bounds the texts trafilatura's second opinions and its escalation check can make of
    a page, measured once (XPath in C: a page holds 150,000 characters of text and scripts on
    average)."""

    tree: object
    folded: int  # the page's text with whitespace folded (`normalize-space`)
    scripts: int  # at least this much of it is scripts and styles
    iframes: int
    raw_text: int  # elements whose text the HTML parser keeps raw (`<xmp>`, `<noembed>`...)

    @classmethod
    def of(cls, tree) -> PageMeasure:
        scripts = sum(max(int(_FOLDED_LENGTH(el)) - 1, 0) for el in tree.iter("script", "style"))
        return cls(tree, int(_FOLDED_LENGTH(tree)), scripts, int(_IFRAMES(tree)),
                   int(_RAW_TEXT(tree)))

    def readability_bound(self) -> int | None:
        """An upper bound on the length of the text readability can make of the page, or None
        when there is none. Its text is some of the page's text nodes in page order with
        whitespace folded (trafilatura's `trim`), never longer than all of them folded
        (`normalize-space` folds no more than `trim`), less the scripts and styles readability
        drops first (taking out a run folded to n characters shortens the fold by at least
        n - 1). It adds "VIDEO" in each embedded video's `<iframe>` (`Document.sanitize`). And
        its output goes through XML and back into the HTML parser, which keeps the text of
        `<xmp>`, `<noembed>`, `<noframes>` and `<plaintext>` raw: `&` comes back as `&amp;`
        (found by review), and `<plaintext>` swallows the rest: no bound there."""
        if self.raw_text:
            return None
        return self.folded - self.scripts + _ADDED_PER_IFRAME * self.iframes

    def page_text_bound(self) -> int:
        """An upper bound on `len(html2txt(page))`, trafilatura's measure of the whole page: the
        body's text after a cleaning that only deletes (scripts and styles among what it
        deletes), folded, with a space put before the text and the tail of each block element
        (each adds at most one character to the fold)."""
        return self.folded - self.scripts + 2 * int(_BLOCKS(self.tree))


def own_body_can_stand(body, text: str, options) -> bool:
    """trafilatura's own body passes every test of the balanced mode's comparison but the
    length of readability's (read off `_prefer_readability` and `compare_extraction`): not
    short, paragraph text, no more tables than paragraphs, clean (justext is not consulted)."""
    if options.focus != "balanced" or len(text) < options.min_extracted_size:
        return False
    if not body.xpath(".//p//text()") or body.xpath(SANITIZED_XPATH):
        return False
    return len(body.findall(".//table")) <= len(body.findall(".//p"))


def readability_cannot_win(measure: PageMeasure, text: str) -> bool:
    """Readability's text cannot be more than twice trafilatura's own `text`."""
    bound = measure.readability_bound()
    return bound is not None and 2 * len(text) >= bound


def measure_cannot_matter(measure: PageMeasure, text: str) -> bool:
    """True when trafilatura's recall escalation check (`trafilatura_sequence`, step 4) will
    measure the page for a final body `text` (under `ESCALATION_MAX_LENGTH`) and the answer
    cannot matter: the escalation runs only for a body under a fifth of `html2txt(page)`."""
    return (len(text) < ESCALATION_MAX_LENGTH
            and len(text) >= ESCALATION_PAGE_SHARE * measure.page_text_bound())


_FOLDED_LENGTH = etree.XPath("string-length(normalize-space(.))")
_IFRAMES = etree.XPath("count(.//iframe)")
_ADDED_PER_IFRAME = len(" VIDEO")


def _count_of(tags) -> etree.XPath:
    """How many elements of `tags` a tree holds: one walk (a union of paths walks once each)."""
    return etree.XPath("count(.//*[" + " or ".join(f"self::{tag}" for tag in sorted(tags)) + "])")


_BLOCKS = _count_of(_BLOCK_ELEMS)
_RAW_TEXT = _count_of(("xmp", "noembed", "noframes", "plaintext"))


@contextmanager
def recording() -> Iterator[list[str]]:
    """Gate the trafilatura calls made inside; yields the list of paths they took (one per
    comparison trafilatura made: a recall retry or escalation adds one)."""
    paths: list[str] = []
    token, flag = _paths.set(paths), _measure_not_needed.set(False)
    try:
        yield paths
    finally:
        _paths.reset(token)
        _measure_not_needed.reset(flag)


def engaged() -> bool:
    """Whether the trafilatura call running now was made inside `recording()`."""
    return _paths.get() is not None


def body_path(paths: list[str]) -> str:
    """One label for an extraction: fast only if every comparison was skipped."""
    return FAST if paths and all(path == FAST for path in paths) else SECOND_OPINION


def _wrap(compare):
    def gated_compare_extraction(cleaned_tree, raw_tree, body, text, options):
        if not engaged():  # not ours: trafilatura as shipped
            return compare(cleaned_tree, raw_tree, body, text, options)
        paths = _paths.get()
        _measure_not_needed.set(False)
        stands = own_body_can_stand(body, text, options)
        # Measured before readability reads (and rewrites) this copy of the page; only where
        # it can serve: the fast path, or a body short enough for the escalation check.
        measure = (PageMeasure.of(raw_tree) if options.focus == "balanced"
                   and (stands or len(text) < ESCALATION_MAX_LENGTH) else None)
        if stands and readability_cannot_win(measure, text):
            paths.append(FAST)
        else:
            paths.append(SECOND_OPINION)
            body, text = compare(cleaned_tree, raw_tree, body, text, options)
        # Unless the baseline rescue of a short body comes next, the body is now final and the
        # next step is the escalation check: its measure of the page may be known not to matter.
        if measure is not None and len(text) >= options.min_extracted_size:
            _measure_not_needed.set(measure_cannot_matter(measure, text))
        return body, text

    gated_compare_extraction.wrapped = compare
    return gated_compare_extraction


def _wrap_page_measure(html2txt):
    def gated_html2txt(content, clean=True):
        # trafilatura.core calls it once, after the comparison, only as
        # `len(body) < ESCALATION_PAGE_SHARE * len(html2txt(tree))`: where that cannot hold,
        # "" gives the same answer without the copy and cleaning of the whole page (1.7 ms a
        # demo page, on two thirds of them).
        if engaged() and _measure_not_needed.get():
            _measure_not_needed.set(False)
            return ""
        return html2txt(content, clean)

    gated_html2txt.wrapped = html2txt
    return gated_html2txt


def seam_matches(function) -> bool:
    """Whether `function` is the comparison this gate was written against."""
    try:
        parameters = tuple(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return False
    return parameters == SEAM_PARAMETERS


def install() -> bool:
    """Wrap trafilatura's comparison once; False (nothing wrapped) if the seam is not there."""
    current = getattr(trafilatura_core, SEAM, None)
    if getattr(current, "wrapped", None) is not None:
        return True
    if version("trafilatura") != TESTED_TRAFILATURA or current is None or not seam_matches(current):
        return False
    setattr(trafilatura_core, SEAM, _wrap(current))
    if getattr(trafilatura_core.html2txt, "wrapped", None) is None:
        trafilatura_core.html2txt = _wrap_page_measure(trafilatura_core.html2txt)
    return True


def install_xpaths() -> list[str]:
    """trafilatura's costliest XPath expressions evaluated in Python inside `recording()`
    (`trafilatura_xpaths`), on the release they were read from; the names installed."""
    if version("trafilatura") != TESTED_TRAFILATURA:
        return []
    return trafilatura_xpaths.install(engaged)


INSTALLED = install()
XPATHS_INSTALLED = install_xpaths()

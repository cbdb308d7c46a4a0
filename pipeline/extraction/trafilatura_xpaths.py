"""trafilatura's costliest XPath expressions (five prunes, and its first look for the body's
container), evaluated in Python: the same elements, in the same order, at a quarter to a half
of the CPU on real pages (`bench/trafilatura_xpaths.py`).

trafilatura prunes every page, and finds its body, with XPath expressions whose `re:test(...)`
predicates (EXSLT regular expressions) call back from libxml2 into Python once per element and
attribute tested: on real pages these six cost about 7 ms a page, a sixth of extraction.
Written by hand, deliberately: a walk over the elements of the expression's tags, with the
very regular expressions of the XPath text (compiled as lxml's EXSLT does: `re.search`, `i`
for IGNORECASE), gives the same elements without the per-call machinery.

Each equivalent restates one expression of trafilatura 2.3.1, whose text (its regular
expressions left out, they are read from it) must match `skeleton`, else that expression is left
as shipped. `trafilatura_gate` installs them (on the release its rules and these were read
from): they replace the entries of trafilatura's own lists (trafilatura calls each entry with
the tree: `prune_unwanted_nodes`, `_extract`) but answer with the Python walk only inside
`trafilatura_gate.recording()`: trafilatura called anywhere else (a bench's bare baseline) runs
as shipped. `tests/test_trafilatura_xpaths.py` compares both on real and generated pages.

XPath semantics kept: `@id` of an element without one is ""; `@id|@class` as a string is the
first of the two in the element's attribute order (document order); `.//*` is every descendant
element, not the element itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

import trafilatura.xpaths as trafilatura_xpaths
from lxml import etree

_RE_TEST = re.compile(r"re:test\((@[\w|@-]+), '([^']*)'(?:, '([^']*)')?\)")


def skeleton_and_patterns(xpath: etree.XPath) -> tuple[str, list[re.Pattern]]:
    """The expression's text with whitespace folded and each `re:test` pattern replaced by P,
    and those patterns compiled as lxml's EXSLT `re:test` compiles them."""
    path = " ".join(xpath.path.split())
    patterns = [re.compile(pattern, re.IGNORECASE if "i" in flags else 0)
                for _, pattern, flags in _RE_TEST.findall(path)]
    return _RE_TEST.sub(lambda m: f"re:test({m[1]}, P)", path), patterns


def _first(element: etree._Element, names: tuple[str, str]) -> str:
    """`@a|@b` as an XPath string: the value of whichever comes first on the element."""
    for name, value in element.items():
        if name in names:
            return value
    return ""


def _infinite_scroll(tree, in_id, in_class, named_id, named_class) -> list:
    found = []
    for el in tree.iterdescendants("div", "section", "aside"):
        id_, class_ = el.get("id", ""), el.get("class", "")
        if ((in_id.search(id_) or in_class.search(class_))
                and (next(el.iterdescendants("h1"), None) is None
                     or named_id.search(id_) or named_class.search(class_))):
            found.append(el)
    return found


def _share_buttons(tree) -> list:
    return [el for el in tree.iterdescendants("div", "section", "aside")
            if "elementor-share-buttons" in el.get("class", "")]


def _comments_and_lists(tree, in_id, in_class, list_id, list_class) -> list:
    found = []
    for el in tree.iterdescendants("div", "list", "section", "details", "ol", "ul"):
        id_, class_ = el.get("id", ""), el.get("class", "")
        if ((in_id.search(id_) or in_class.search(class_))
                and (el.tag not in ("ol", "ul") or list_id.search(id_)
                     or list_class.search(class_))):
            found.append(el)
    return found


def _boilerplate_blocks(tree, id_or_class, in_id, in_class) -> list:
    found = []
    for el in tree.iterdescendants("div", "item", "list", "p", "section", "span"):
        if not len(el.attrib):
            continue
        if (el.get("data-lp-replacement-content") is not None
                or "nav" in el.get("role", "").replace("N", "n")
                or "MostPopularStories" in el.get("data-component", "")
                or id_or_class.search(_first(el, ("id", "class")))
                or in_id.search(el.get("id", "")) or in_class.search(el.get("class", ""))):
            found.append(el)
    return found


def _hidden_and_replies(tree, id_or_style, in_id, in_class) -> list:
    found = []
    for el in tree.iterdescendants(etree.Element):
        if not len(el.attrib):
            continue
        class_, style = el.get("class"), el.get("style", "")
        if (class_ == "comments-title"
                or _first(el, ("id", "class")).startswith("reply-")
                or id_or_style.search(_first(el, ("id", "style")))
                or "display:none" in style or "display: none" in style
                or in_id.search(el.get("id", "")) or in_class.search(class_ or "")
                or el.get("aria-hidden") == "true"):
            found.append(el)
    return found


def _content_containers(tree, in_id, in_class) -> list:
    # `.//*[...][1]` counts position among each parent's children: every matching element that
    # no earlier sibling of its matches (trafilatura takes the first of them).
    found, parents = [], set()
    for el in tree.iterdescendants("article", "div", "main", "section"):
        id_, class_ = el.get("id", ""), el.get("class", "")
        if ((class_ in ("post", "entry") or el.get("itemprop") == "articleBody"
                or id_ == "articleContent" or in_id.search(id_) or in_class.search(class_))
                and (parent := el.getparent()) not in parents):
            parents.add(parent)
            found.append(el)
    return found


class Equivalent(NamedTuple):
    """One restated expression: where trafilatura keeps it, its text, and the walk."""

    list_name: str  # in trafilatura.xpaths
    index: int
    skeleton: str
    evaluate: Callable[..., list]


EQUIVALENTS = (
    Equivalent("RAW_TREE_PRUNE_XPATH", 0,
               ".//*[self::div or self::section or self::aside][ re:test(@id, P) or "
               "re:test(@class, P)][ not(.//h1) or re:test(@id, P) or re:test(@class, P)]",
               _infinite_scroll),
    Equivalent("RAW_TREE_PRUNE_XPATH", 1,
               ".//*[self::div or self::section or self::aside][contains(@class, "
               "'elementor-share-buttons')]",
               _share_buttons),
    Equivalent("REMOVE_COMMENTS_AND_LISTS_XPATH", 0,
               ".//*[self::div or self::list or self::section or self::details or self::ol or "
               "self::ul][ re:test(@id, P) or re:test(@class, P)][ not(self::ol or self::ul) or "
               "re:test(@id, P) or re:test(@class, P)]",
               _comments_and_lists),
    Equivalent("OVERALL_DISCARD_XPATH", 0,
               ".//*[self::div or self::item or self::list or self::p or self::section or "
               "self::span][ @data-lp-replacement-content or contains(translate(@role, 'N', "
               "'n'), 'nav') or contains(@data-component, 'MostPopularStories') or "
               "re:test(@id|@class, P) or re:test(@id, P) or re:test(@class, P)]",
               _boilerplate_blocks),
    Equivalent("OVERALL_DISCARD_XPATH", 1,
               ".//*[@class='comments-title' or starts-with(@id|@class, 'reply-') or "
               "re:test(@id|@style, P) or contains(@style, 'display:none') or contains(@style, "
               "'display: none') or re:test(@id, P) or re:test(@class, P) or "
               "@aria-hidden='true']",
               _hidden_and_replies),
    Equivalent("BODY_XPATH", 0,
               ".//*[self::article or self::div or self::main or self::section][ @class='post' "
               "or @class='entry' or @itemprop='articleBody' or @id='articleContent' or "
               "re:test(@id, P) or re:test(@class, P) ][1]",
               _content_containers),
)


class XPathInPython:
    """Stands in for one of trafilatura's XPath expressions: the Python walk while `engaged()`
    (inside `trafilatura_gate.recording()`), the XPath as shipped anywhere else."""

    def __init__(self, original: etree.XPath, evaluate: Callable[..., list],
                 patterns: list[re.Pattern], engaged: Callable[[], bool]) -> None:
        self.original = original
        self.evaluate = evaluate
        self.patterns = patterns
        self.engaged = engaged

    def __call__(self, tree) -> list:
        if self.engaged():
            return self.evaluate(tree, *self.patterns)
        return self.original(tree)


def install(engaged: Callable[[], bool]) -> list[str]:
    """Put each equivalent in its list where trafilatura's expression is the one restated, to
    answer while `engaged()`; the names of those installed."""
    installed = []
    for equivalent in EQUIVALENTS:
        entries = getattr(trafilatura_xpaths, equivalent.list_name, None)
        current = entries[equivalent.index] if entries and len(entries) > equivalent.index \
            else None
        if isinstance(current, XPathInPython):
            installed.append(f"{equivalent.list_name}[{equivalent.index}]")
            continue
        if not isinstance(current, etree.XPath):
            continue
        skeleton, patterns = skeleton_and_patterns(current)
        # The walks skip elements without attributes, where every test reads "".
        if skeleton != equivalent.skeleton or any(p.search("") for p in patterns):
            continue
        entries[equivalent.index] = XPathInPython(current, equivalent.evaluate, patterns, engaged)
        installed.append(f"{equivalent.list_name}[{equivalent.index}]")
    return installed


"""Applying a source's selector overrides (`sources.overrides`, from its YAML) to a parsed page.

The selectors were checked when the YAML was loaded; here one that matches nothing, or fails to
evaluate on this page, gives nothing, so the generic path decides as if there were no override.
"""

from __future__ import annotations

from lxml import etree

from pipeline.sources.overrides import ExtractionOverrides, compiled


def select(tree: etree._Element, selector: str | None) -> list[etree._Element]:
    """Elements (never text nodes or strings) the selector matches, in document order."""
    if not selector:
        return []
    try:
        found = compiled(selector)(tree)
    except etree.XPathEvalError:
        return []
    return [el for el in found if isinstance(el, etree._Element)] if isinstance(found, list) else []


def text_of(el: etree._Element) -> str:
    return " ".join(" ".join(el.itertext()).split())


def drop(tree: etree._Element, overrides: ExtractionOverrides | None) -> int:
    """Remove the `drop` selectors' elements; returns how many were removed."""
    removed = 0
    for selector in overrides.drop if overrides else ():
        for el in select(tree, selector):
            parent = el.getparent()
            if parent is not None:
                parent.remove(el)
                removed += 1
    return removed


_BLOCKS = ("p", "h2", "h3", "h4", "li", "blockquote", "pre")


def body_text(tree: etree._Element, selector: str | None) -> str | None:
    """The text of the selected container(s), one block element per line; None if no match."""
    lines: list[str] = []
    for container in select(tree, selector):
        blocks = [el for el in container.iter(*_BLOCKS)
                  if not any(a.tag in _BLOCKS for a in el.iterancestors() if a is not container)]
        for el in blocks or [container]:
            text = text_of(el)
            if text:
                lines.append(text)
    return "\n".join(lines) or None


def first_text(tree: etree._Element, selector: str | None, *attributes: str) -> str | None:
    """The first match's attribute (the first of `attributes` it has) or its text."""
    for el in select(tree, selector):
        for name in attributes:
            if el.get(name):
                return el.get(name).strip()
        text = text_of(el)
        if text:
            return text
    return None


def all_texts(tree: etree._Element, selector: str | None) -> list[str]:
    return [t for t in (text_of(el) for el in select(tree, selector)) if t]


def hints(tree: etree._Element, rules: ExtractionOverrides) -> dict:
    """What the source's selectors find, read before trafilatura (which prunes its copy)."""
    found: dict = {}
    if rules.title:
        found["override_title"] = first_text(tree, rules.title, "content")
    if rules.date:
        found["override_date"] = first_text(tree, rules.date, "datetime", "content")
    if rules.author:
        found["override_authors"] = all_texts(tree, rules.author)
    if rules.body:
        found["override_body"] = body_text(tree, rules.body)
    return {k: v for k, v in found.items() if v}

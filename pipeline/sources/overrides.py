"""Per-source extraction overrides: CSS or XPath selectors in the sources YAML, no Python per site.

    sources:
      - name: example
        ...
        extraction:
          title: "h1.headline"                 # CSS, or XPath when it starts with / or (
          date: "//span[@class='dateline']"    # the element's datetime/content attribute or text
          author: ".byline a[rel=author]"      # every match is one author (cleaned as usual)
          body: "div.story-body"               # paragraphs from here instead of trafilatura's pick
          drop: [".newsletter-box", "aside.related"]   # removed before anything is extracted

A selector that matches nothing falls back to the generic path, so an override never makes a page
worse than having none. Selectors are checked when the YAML is loaded: a bad one is an error
naming the file, the source and the field (`extraction.title: not a valid CSS selector ...`).
This module is the YAML's model; `pipeline.extraction.overrides` applies it to a page.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from cssselect import GenericTranslator, SelectorError
from lxml import etree
from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _compile(selector: str) -> etree.XPath:
    """An XPath for a CSS selector, or for an XPath expression (starts with '/' or '(')."""
    text = selector.strip()
    if text.startswith(("/", "(", "./")):
        return etree.XPath(text)
    return etree.XPath(GenericTranslator().css_to_xpath(text))


def _valid_selector(value: str) -> str:
    if not value or not value.strip():
        raise ValueError("empty selector")
    try:
        _compile(value)
    except SelectorError as exc:
        raise ValueError(f"not a valid CSS selector ({exc})") from None
    except etree.XPathSyntaxError as exc:
        raise ValueError(f"not a valid XPath expression ({exc})") from None
    return value


Selector = Annotated[str, AfterValidator(_valid_selector)]


class ExtractionOverrides(BaseModel):
    """Selectors that take precedence over the generic extraction for one source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Selector | None = Field(default=None, description="Element holding the headline.")
    date: Selector | None = Field(
        default=None, description="Element holding the publication date (attribute or text)."
    )
    author: Selector | None = Field(default=None, description="Elements holding author names.")
    body: Selector | None = Field(
        default=None, description="Container of the article text (its paragraphs are the body)."
    )
    drop: list[Selector] = Field(
        default=[], description="Elements removed from the page before extraction."
    )

    @property
    def empty(self) -> bool:
        return not (self.title or self.date or self.author or self.body or self.drop)


@lru_cache(maxsize=512)
def compiled(selector: str) -> etree.XPath:
    return _compile(selector)

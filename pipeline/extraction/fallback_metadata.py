"""trafilatura's own metadata guesses, each worked out only when a step asks for it.

`bare_extraction(with_metadata=True)` reads every field up front: the `<meta>` tags and JSON-LD
that `metadata` has already harvested, htmldate's date search, and categories, tags,
licence and site name that we never use. On real news pages that was a quarter of trafilatura's
time, spent mostly on fields our own steps had already settled. Here each field runs only
trafilatura's own step for it (the same functions and order as its `extract_metadata`), the
first time the extractor falls back to it.
"""

from __future__ import annotations

from contextlib import suppress
from functools import cached_property
from html import unescape

from htmldate import find_date
from lxml import etree
from trafilatura.metadata import examine_meta, extract_author, extract_meta_json, extract_title
from trafilatura.settings import Document
from trafilatura.utils import line_processing


class TrafilaturaMetadata:
    """title, author, date, description and image as trafilatura would guess them for `tree`
    (which must be the unpruned page: trafilatura copies what it prunes)."""

    def __init__(self, tree: etree._Element, url: str, date_params: dict) -> None:
        self._tree = tree
        self._url = url
        self._date_params = date_params

    @cached_property
    def _declared(self) -> Document:
        """What the page's meta tags and JSON-LD say, read trafilatura's way."""
        found = examine_meta(self._tree)
        if found.author and " " not in found.author:  # a handle, as trafilatura judges it
            found.author = None
        # trafilatura guards its own JSON-LD reader the same way (it keeps what the tags said)
        with suppress(Exception):
            found = extract_meta_json(self._tree, found)
        return found

    @cached_property
    def title(self) -> str | None:
        return _trimmed(self._declared.title or extract_title(self._tree))

    @cached_property
    def author(self) -> str | None:
        return _trimmed(self._declared.author or extract_author(self._tree))

    @cached_property
    def date(self) -> str | None:
        return find_date(self._tree, url=self._declared.url or self._url, **self._date_params)

    @property
    def description(self) -> str | None:
        return _trimmed(self._declared.description)

    @property
    def image(self) -> str | None:
        return _trimmed(self._declared.image)


def _trimmed(value: str | None) -> str | None:
    """What trafilatura's `Document.clean_and_trim` makes of a field."""
    if not value:
        return value
    return line_processing(unescape(value[:9999] + "…" if len(value) > 10000 else value))

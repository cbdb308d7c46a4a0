"""The article record every stage agrees on: the fields of DESIGN.md's contract."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime


@dataclass(slots=True)
class Article:
    """One extracted article. Dates are timezone-aware; lists are never None."""

    url: str
    canonical_url: str
    source: str | None
    title: str | None
    description: str | None
    authors: list[str]
    published_at: datetime | None
    modified_at: datetime | None
    date_source: str | None
    language: str | None
    section: str | None
    tags: list[str]
    image_url: str | None
    body: str
    word_count: int
    is_paywalled: bool
    content_hash: str
    fetched_at: datetime | None
    extractor_version: str
    extras: dict = field(default_factory=dict)  # stage-private hints, never stored or printed

    def to_json(self) -> dict:
        """The JSON form of the contract: ISO 8601 dates with offset, no private extras."""
        data = asdict(self)
        data.pop("extras")
        for key in ("published_at", "modified_at", "fetched_at"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data

"""The article record every stage agrees on: the fields of DESIGN.md's contract, and how its
dates keep what the publisher wrote (their offset, their precision)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo

PRECISIONS = ("day", "minute", "second")


class _NoZone(tzinfo):
    """The zone of a time written without one: the publisher's wall clock, read as UTC so that
    it is an instant, with no offset to claim (stored as a null offset, printed without one)."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "no zone"

    def __repr__(self) -> str:
        return "NO_ZONE"

    def __reduce__(self) -> str:  # one instance, also across worker processes
        return "NO_ZONE"


NO_ZONE = _NoZone()


def offset_minutes(value: datetime | None) -> int | None:
    """The publisher's UTC offset of an aware date in minutes; None when it was written without
    a zone."""
    if value is None or value.tzinfo is NO_ZONE:
        return None
    return int(value.utcoffset().total_seconds()) // 60


def precision(value: datetime | None) -> str | None:
    """How precisely the page gave a date: "day" without a time of day (00:00:00 included, which
    CMSs write for a day alone), "second" when its seconds are set, else "minute"."""
    if value is None:
        return None
    if value.timetz().replace(tzinfo=None) == time(0):
        return "day"
    return "second" if value.second or value.microsecond else "minute"


def as_written(instant: datetime | None, offset: int | None, precision: str | None) -> str | None:
    """ISO 8601 as the publisher wrote the date: a day alone ("2020-06-03"), a wall clock without
    an offset when the page gave no zone, else with its offset ("2020-06-03T01:01:00+02:00").
    A stored date without a precision (extracted before the offset was kept) stays in UTC."""
    if instant is None:
        return None
    if precision is None:
        return instant.astimezone(UTC).isoformat()
    local = instant.astimezone(UTC if offset is None else timezone(timedelta(minutes=offset)))
    if precision == "day":
        return local.date().isoformat()
    return local.replace(tzinfo=None).isoformat() if offset is None else local.isoformat()


@dataclass(slots=True)
class Article:
    """One extracted article. Dates are timezone-aware, each in the publisher's own offset
    (`NO_ZONE` when the page and the source gave none); lists are never None."""

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

    @property
    def published_offset_minutes(self) -> int | None:
        return offset_minutes(self.published_at)

    @property
    def published_precision(self) -> str | None:
        return precision(self.published_at)

    @property
    def modified_offset_minutes(self) -> int | None:
        return offset_minutes(self.modified_at)

    @property
    def modified_precision(self) -> str | None:
        return precision(self.modified_at)

    def to_json(self) -> dict:
        """The JSON form of the contract: dates as the publisher wrote them (`as_written`) with
        their precision, the fetch time in UTC, no private extras."""
        data = asdict(self)
        data.pop("extras")
        for key in ("published", "modified"):
            value = data[f"{key}_at"]
            data[f"{key}_at"] = as_written(value, offset_minutes(value), precision(value))
            data[f"{key}_precision"] = precision(value)
        if self.fetched_at is not None:
            data["fetched_at"] = self.fetched_at.isoformat()
        return data

"""The news spider's discovery documents: conditional requests, their state, what each one gave.

Each feed, sitemap and listing page is asked for conditionally when the last crawl left its
validators, and its state (validators, entries, complete) is kept for `crawlers.incremental` to
save. Two signals tell a listener what the spider saw without it reaching into the spider: the
dry run of `newsdesk sources check` (`crawlers.probe`) builds its report from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from scrapy.http import Response

from crawlers import discovery, incremental

#: Signal, sent with `document=DocumentRead` for every discovery document read.
document_read = object()
#: Signal, sent with `url`, `why` and `article` (False: a discovery document) for every fetch that
#: gave nothing: an HTTP error, a network error, a refusal (robots.txt, private address, bot wall).
fetch_failed = object()

#: The kind of a robots.txt listed as a source's sitemap (it only leads to sitemaps).
ROBOTS = "robots"


@dataclass
class DocumentRead:
    """What the spider made of one discovery document."""

    url: str  # as requested
    kind: str  # discovery.FEED, SITEMAP, LISTING or ROBOTS
    links: list[discovery.Discovered] = field(default_factory=list)  # its article links
    wanted: list[str] = field(default_factory=list)  # those the source wants (normalised)
    children: list[str] = field(default_factory=list)  # sitemaps followed from an index/robots
    next_url: str | None = None  # a listing's next page, when followed
    index: bool = False  # a sitemap index
    readable: bool = True


def requested_url(response: Response) -> str:
    """The URL the spider asked for (a redirect's target is `response.url`)."""
    return response.request.url if response.request else response.url


class DocumentLog:
    """Validators from the last crawl, and this crawl's state of every document fetched."""

    def __init__(self) -> None:
        self.validators: dict[str, tuple[str | None, str | None]] = {}
        self.states: dict[str, incremental.DocumentState] = {}

    def headers(self, url: str) -> dict[str, str]:
        """Conditional headers for the document; none for robots.txt, which is small and always
        fetched in full (it leads to the sitemaps, which are themselves asked for conditionally).
        """
        if discovery.is_robots_url(url):
            return {}
        return incremental.conditional_headers(self.validators.get(url))

    def fetched(self, response: Response, kind: str) -> bool:
        """Note the document's state; False when it was a 304 (unchanged)."""
        url = requested_url(response)
        if discovery.is_robots_url(url):
            return response.status != 304
        header = response.headers.get
        self.states[url] = incremental.DocumentState(
            url=url,
            kind=kind,
            status=response.status,
            etag=(header(b"ETag") or b"").decode("latin-1") or None,
            last_modified=(header(b"Last-Modified") or b"").decode("latin-1") or None,
            fetched_at=datetime.now(UTC),
        )
        return response.status != 304

    def read(self, response: Response, entries: int, complete: bool) -> None:
        """Note how many entries the document listed, and whether a limit cut its reading."""
        state = self.states.get(requested_url(response))
        if state is not None:
            state.entries = entries
            state.complete = complete

"""The news spider's discovery documents: conditional requests, their state, what each one gave.

Each feed, sitemap and listing page is asked for conditionally when the last crawl left its
validators, and its state (validators, entries, complete) is kept for `crawlers.incremental` to
save. New validators are kept only for a document whose every article request ended safe (stored,
or refused for good) and whose every child document did too: a crawl stopped, or an article that
failed, must not turn into a 304 that hides the missed articles next run. Two signals tell a
listener what the spider saw without it reaching into the spider: the dry run of
`newsdesk sources check` (`crawlers.probe`) builds its report from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from scrapy.http import Request, Response

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
    wanted: list[str] = field(default_factory=list)  # the URL keys of those the source wants
    children: list[str] = field(default_factory=list)  # sitemaps followed from an index/robots
    next_url: str | None = None  # a listing's next page, when followed
    index: bool = False  # a sitemap index
    readable: bool = True


def requested_url(response: Response) -> str:
    """The URL of the request that got the response (after a redirect, its target's; see
    `first_url` for the one first asked for)."""
    return response.request.url if response.request else response.url


def first_url(request: Request) -> str:
    """The URL first asked for, before any redirect (Scrapy keeps the chain in redirect_urls)."""
    return (request.meta.get("redirect_urls") or [request.url])[0]


class DocumentLog:
    """Validators from the last crawl, this crawl's state of every document fetched, and what
    each one led to: the article URLs requested from it and the documents it followed."""

    def __init__(self) -> None:
        self.validators: dict[str, tuple[str | None, str | None]] = {}
        self.states: dict[str, incremental.DocumentState] = {}
        self.articles: dict[str, list[str]] = {}  # document -> keys of the articles it led to
        self.children: dict[str, list[str]] = {}  # document -> documents it led to
        self.settled: dict[str, bool] = {}  # article URL key or failed document URL -> safe?
        self.moved: dict[str, str] = {}  # document URL asked for -> its state's (a redirect's)

    def requested(self, url: str, articles: list[str]) -> None:
        """Note the article URL keys the document at `url` led to (requested for it or earlier)."""
        self.articles.setdefault(url, []).extend(articles)

    def followed(self, url: str, child: str) -> None:
        """Note a document (a child sitemap, a listing's next page) the one at `url` led to."""
        self.children.setdefault(url, []).append(child)

    def settle(self, urls: list[str], *, safe: bool) -> None:
        """Requests that ended: stored or refused for good (safe), or failed."""
        for url in urls:
            self.settled[url] = safe

    def final_states(self) -> list[incremental.DocumentState]:
        """Every document's state at close: complete only when everything it led to is safe.

        An article still pending (the crawl was stopped) or failed, or a child document not
        fetched (a 4xx that would recur aside), makes it incomplete: it keeps no validators and
        is read in full next run.
        """
        verdicts: dict[str, bool] = {}
        for url in self.states:
            self._safe(url, verdicts)
        for url, state in self.states.items():
            state.complete = verdicts[url]
        return list(self.states.values())

    def _safe(self, url: str, verdicts: dict[str, bool]) -> bool:
        url = self.moved.get(url, url)
        if url in verdicts:
            return verdicts[url]
        state = self.states.get(url)
        if state is None:  # its fetch failed (for good, or not), or it never happened
            return self.settled.get(url, False)
        verdicts[url] = True  # a document reached again through its own children (a loop)
        verdicts[url] = state.status == 304 or (
            state.complete
            and all(self.settled.get(a, False) for a in self.articles.get(url, ()))
            and all(self._safe(child, verdicts) for child in self.children.get(url, ()))
        )
        return verdicts[url]

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
        if response.request is not None and (asked := first_url(response.request)) != url:
            self.moved[asked] = url
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

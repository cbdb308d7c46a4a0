"""Serving a site over HTTP on 127.0.0.1: one origin (server, port) per publisher.

`serve_origins` serves anything with a `respond(publisher, target, bases)` method (the generated
`DemoSite`, and the real-page replay site of pipeline.demo_site.replay) through one machinery;
`serve_demo_site` is it for a DemoSite.

Plain `http.server` (stdlib) is enough: threaded, HTTP/1.1 keep-alive, Content-Length, gzip when
the client asks (Scrapy does), ETag/If-None-Match and If-Modified-Since, so crawler behaviour
around conditional requests can be tested too.

Every request is recorded in an access log (`RunningSite.requests()`), so tests can assert on
what a crawler actually asked for. `Quirks` adds, on request, what a polite crawler must cope
with and the normal site never does: robots.txt extra lines (Crawl-delay, Disallow), 429 with
Retry-After, bot-wall challenge pages and redirects to arbitrary places. `RunningSite.faults`
(pipeline.demo_site.faults) injects what the open web does wrong: server errors, resets, stalls,
trickles, short bodies, bombs, redirect loops, broken or hostile documents. With no quirks or
faults set the site serves exactly what it always has.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol, TypeVar

from pipeline.demo_site.faults import Faults, serve_fault
from pipeline.demo_site.model import ArticleTruth, Publisher
from pipeline.demo_site.site import DemoSite, Response
from pipeline.errors import NewsdeskError

_COMPRESSIBLE = ("text/", "application/")

#: Request headers the access log keeps (lowercase).
LOGGED_HEADERS = (
    "user-agent", "if-none-match", "if-modified-since", "accept-encoding", "referer", "cookie"
)

#: What a Cloudflare-style bot wall answers: 403, "Just a moment...", a JavaScript challenge.
CHALLENGE_PAGE = (
    b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head><body>'
    b"<noscript>Enable JavaScript and cookies to continue</noscript>"
    b'<div id="challenge-running">Checking if the site connection is secure</div>'
    b'<script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1"></script>'
    b"</body></html>"
)


class Responder(Protocol):
    """What a served site answers: the response of `publisher` for a request target."""

    def respond(self, name: str, target: str, bases: dict[str, str]) -> Response: ...


@dataclass(frozen=True)
class Hit:
    """One request as the server saw it."""

    publisher: str
    method: str
    path: str
    status: int
    headers: dict[str, str]  # the LOGGED_HEADERS the client sent
    at: float  # time.monotonic() when the request arrived


@dataclass
class Quirks:
    """Opt-in misbehaviour, keyed by (publisher, path); change it while the site is served.

    - robots_extra: publisher -> lines appended to its robots.txt (Crawl-delay, Disallow, ...)
    - rate_limited: (publisher, path) -> [times, seconds]: the first `times` requests get 429
      with `Retry-After: seconds` (the count goes down as they are served)
    - challenge: (publisher, path) answered 403 with a JavaScript challenge page
    - redirects: (publisher, path) -> absolute URL, answered 302
    """

    robots_extra: dict[str, str] = field(default_factory=dict)
    rate_limited: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    challenge: set[tuple[str, str]] = field(default_factory=set)
    redirects: dict[tuple[str, str], str] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "newsdesk-demo/1.0"
    timeout = 30  # an idle keep-alive connection frees its thread after this
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms ACK stall
    server: PublisherServer

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, send_body: bool) -> None:
        srv = self.server
        arrived = time.monotonic()
        fault = srv.faults.take(srv.publisher, self.path)
        if fault is not None:  # the fault-injecting mode (pipeline.demo_site.faults)
            status = serve_fault(self, fault)
            srv.log.record(Hit(srv.publisher, self.command, self.path, status, {}, arrived))
            return
        resp = srv.site.respond(srv.publisher, self.path, srv.bases)
        body = resp.body
        headers = dict(resp.headers)
        status = resp.status
        content_type = resp.content_type
        quirk = self._quirk(srv)
        if quirk is not None:
            status, content_type, body, headers = quirk
        elif self.path.split("?", 1)[0] == "/robots.txt" and srv.quirks.robots_extra.get(
            srv.publisher
        ):
            body = body + b"\n" + srv.quirks.robots_extra[srv.publisher].encode() + b"\n"
        if status == 200:
            etag = '"' + hashlib.blake2b(body, digest_size=10).hexdigest() + '"'
            headers["ETag"] = etag
            if self._not_modified(etag, headers.get("Last-Modified")):
                status, body = 304, b""
        if (
            body
            and "gzip" in self.headers.get("Accept-Encoding", "")
            and content_type.startswith(_COMPRESSIBLE)
        ):
            body = gzip.compress(body, compresslevel=5, mtime=0)
            headers["Content-Encoding"] = "gzip"
        srv.log.record(
            Hit(
                srv.publisher,
                self.command,
                self.path,
                status,
                {k: v for k in LOGGED_HEADERS if (v := self.headers.get(k)) is not None},
                arrived,
            )
        )
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)

    def _quirk(self, srv: PublisherServer) -> tuple[int, str, bytes, dict[str, str]] | None:
        quirks, key = srv.quirks, (srv.publisher, self.path)
        with srv.log.lock:
            left = quirks.rate_limited.get(key)
            if left and left[0] > 0:
                left[0] -= 1
                return 429, "text/plain", b"slow down", {"Retry-After": str(left[1])}
        if key in quirks.challenge:
            return 403, "text/html; charset=UTF-8", CHALLENGE_PAGE, {"cf-mitigated": "challenge"}
        if key in quirks.redirects:
            return 302, "text/html", b"", {"Location": quirks.redirects[key]}
        return None

    def _not_modified(self, etag: str, last_modified: str | None) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match == "*"
        since = self.headers.get("If-Modified-Since")
        if since and last_modified:
            try:
                return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
        return False

    def log_message(self, format: str, *args: object) -> None:
        pass  # tests and benchmarks make thousands of requests; the crawler logs its own


class AccessLog:
    """Every request the site's servers answered, in arrival order (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._hits: list[Hit] = []

    def record(self, hit: Hit) -> None:
        with self.lock:
            self._hits.append(hit)

    def hits(self) -> list[Hit]:
        with self.lock:
            return list(self._hits)

    def clear(self) -> None:
        with self.lock:
            self._hits.clear()


class PublisherServer(ThreadingHTTPServer):
    """One publisher's origin. `bases` is filled in once every publisher has its port."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, site: Responder, publisher: str, host: str = "127.0.0.1", port: int = 0):
        super().__init__((host, port), _Handler)
        self.site = site
        self.publisher = publisher
        self.bases: dict[str, str] = {}
        self.log = AccessLog()  # replaced by the site-wide log in serve_demo_site
        self.quirks = Quirks()
        self.faults = Faults()

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up (a killed crawler, a cancelled download) is not an error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class ServedOrigins:
    """Publishers being served: their base URLs, the shared access log, quirks and faults."""

    def __init__(self, servers: list[PublisherServer]) -> None:
        self.servers = servers
        self.log = AccessLog()
        self.quirks = Quirks()
        self.faults = Faults()  # opt-in fault injection, see pipeline.demo_site.faults
        self.bases = {srv.publisher: srv.base_url for srv in servers}

    def requests(self, publisher: str | None = None) -> list[Hit]:
        """The access log: every request answered so far (of one publisher, if named)."""
        return [h for h in self.log.hits() if publisher is None or h.publisher == publisher]

    def clear_requests(self) -> None:
        self.log.clear()


class RunningSite(ServedOrigins):
    """A DemoSite being served: addresses, the sources YAML, and ground truth as absolute URLs."""

    def __init__(self, site: DemoSite, servers: list[PublisherServer]) -> None:
        super().__init__(servers)
        self.site = site
        self.publishers: list[Publisher] = [
            replace(pub, base_url=self.bases[pub.name]) for pub in site.publishers
        ]

    def publisher(self, name: str) -> Publisher:
        return next(p for p in self.publishers if p.name == name)

    def sources_yaml(self) -> str:
        return self.site.sources_yaml(self.bases)

    def truth(self) -> Iterator[ArticleTruth]:
        return self.site.truth(self.bases)

    def listed_in(self, publisher_name: str, kind: str) -> set[str]:
        return self.site.listed_in(publisher_name, kind, self.bases)

    def special_urls(self) -> dict[str, str]:
        return self.site.special_urls(self.bases)

    def syndicated_pairs(self) -> list[tuple[str, str]]:
        return self.site.syndicated_pairs(self.bases)


Served = TypeVar("Served", bound=ServedOrigins)


def _allow_open_files(origins: int) -> None:
    """Raise the soft open-files limit to what `origins` listening sockets and their clients need
    (a replay site has hundreds; macOS's default soft limit is 256), or say why it cannot be."""
    needed = 3 * origins + 256  # a socket each, connections in flight, the crawler's own
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard == resource.RLIM_INFINITY or hard >= needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
        return
    raise NewsdeskError(f"demo site: serving {origins} origins needs about {needed} open files; "
                        f"the limit is {hard} (raise it with `ulimit -n`)")


@contextlib.contextmanager
def serve_origins(
    site: Responder,
    names: Sequence[str],
    running: Callable[[list[PublisherServer]], Served],
    host: str = "127.0.0.1",
    base_port: int = 0,
) -> Iterator[Served]:
    """Serve each of `names` on its own port of `site`, in daemon threads, until exit.

    `running` wraps the servers into what the caller yields (a RunningSite, a replay site).
    Ports are free ones by default; with `base_port`, publisher i gets `base_port + i`, so the
    URLs (which include the port) stay the same from one run to the next.
    """
    _allow_open_files(len(names))
    servers: list[PublisherServer] = []
    started: list[PublisherServer] = []  # shutdown() would wait forever on a server never started
    try:
        for index, name in enumerate(names):
            port = base_port + index if base_port else 0
            try:
                servers.append(PublisherServer(site, name, host, port))
            except OSError as exc:
                raise NewsdeskError(
                    f"demo site: cannot listen on {host}:{port} for {name}: {exc.strerror}"
                ) from None
        served = running(servers)
        for srv in servers:
            srv.bases = served.bases
            srv.log = served.log
            srv.quirks = served.quirks
            srv.faults = served.faults
            thread = threading.Thread(
                target=srv.serve_forever,
                kwargs={"poll_interval": 0.5},  # hundreds idle: keep their polling cheap
                name=f"demo-site-{srv.publisher}",
                daemon=True,
            )
            thread.start()
            started.append(srv)
        yield served
    finally:
        _shut_down(started)
        for srv in servers:
            srv.server_close()


def _shut_down(servers: list[PublisherServer]) -> None:
    """Stop every server at once: one by one, each waits for its poll interval (a replay site
    has hundreds of publishers)."""
    stoppers = [threading.Thread(target=srv.shutdown, daemon=True) for srv in servers]
    for stopper in stoppers:
        stopper.start()
    for stopper in stoppers:
        stopper.join()


@contextlib.contextmanager
def serve_demo_site(
    site: DemoSite, host: str = "127.0.0.1", base_port: int = 0
) -> Iterator[RunningSite]:
    """Serve every publisher of `site` on its own port (see `serve_origins`)."""
    names = [pub.name for pub in site.publishers]
    with serve_origins(site, names, lambda servers: RunningSite(site, servers), host,
                       base_port) as running:
        yield running

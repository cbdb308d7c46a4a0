"""The crawl requests each article URL as discovered and stores one row per URL key (issue 18,
error 4): `story.php?1` and `story.php?2` are two pages, fetched and stored apart.

Real `python -m crawlers` in a child process, a real HTTP server on 127.0.0.1 whose access log
shows the request targets, real Postgres.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import psycopg
import pytest
import yaml

from tests.test_crawl import crawl

pytestmark = pytest.mark.slow

#: The feed's links, in its order; the last two repeat the first two's keys (a fragment, a
#: tracking parameter), so they are neither requested again nor stored again.
LINKS = [
    "/story.php?1",
    "/story.php?2",
    "/index.php?/archives/123",
    "/a;jsessionid=X",
    "/story.php?1#comments",
    "/story.php?2&utm_source=rss",
]
PAGES = LINKS[:4]


class _Site(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.targets: list[str] = []  # every request target, as the server received it

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: _Site

    def do_GET(self) -> None:
        self.server.targets.append(self.path)
        if self.path == "/feed.xml":
            items = "".join(f"<item><title>{i}</title><link>{escape(self.server.base + link)}"
                            f"</link></item>" for i, link in enumerate(LINKS))
            body = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
                    f"<link>{self.server.base}/</link>{items}</channel></rss>")
            self._send(body, "application/rss+xml")
        elif self.path in PAGES:
            words = " ".join(["The page at", escape(self.path), "says something."] * 40)
            self._send(f"<html><head><title>{escape(self.path)}</title></head>"
                       f"<body><article><h1>{escape(self.path)}</h1><p>{words}</p></article>"
                       f"</body></html>", "text/html; charset=utf-8")
        else:
            self._send("not found", "text/plain", status=404)

    def _send(self, body: str, content_type: str, status: int = 200) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass  # the test reads `targets`


@pytest.fixture
def site() -> Iterator[_Site]:
    server = _Site()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_urls_that_differ_only_in_a_valueless_query_are_fetched_and_stored_apart(
    site: _Site, db_url: str, tmp_path: Path
) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [{
        "name": "loopback", "homepage": f"{site.base}/", "feeds": [f"{site.base}/feed.xml"],
        "allow_private_addresses": True,
    }]}))
    result = crawl("--source", "loopback", "--sources", str(sources), "--no-delay")
    assert result.returncode == 0, result.stderr
    articles = [t for t in site.targets
                if t not in ("/feed.xml", "/robots.txt", "/.well-known/tdmrep.json")]
    assert sorted(articles) == sorted(PAGES)  # as discovered, each once
    with psycopg.connect(db_url) as conn:
        rows = dict(conn.execute("SELECT url, url_key FROM raw_pages").fetchall())
    assert rows == {site.base + page: site.base + page for page in PAGES}

    site.targets.clear()
    again = crawl("--source", "loopback", "--sources", str(sources), "--no-delay")
    assert again.returncode == 0, again.stderr
    assert set(site.targets) <= {"/feed.xml", "/robots.txt"}  # every page known by its key

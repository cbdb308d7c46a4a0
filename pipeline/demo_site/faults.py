"""The demo site's fault-injecting mode: what the open web does to a crawler, on request.

`Faults` maps (publisher, path) to a `Fault`; the handler serves a fault instead of the page the
site would normally serve there (or at a path the site does not have). With no faults set the
site serves exactly what it always has. Each fault is served `times` times (None: for ever) and
the real page afterwards, so "intermittent" faults are a count.

Kinds:
- status: answer `status` (500/502/503...) with a short body
- reset: send the headers and half the page, then reset the connection (RST)
- slow: wait `seconds` before answering at all
- trickle: send the headers, then one byte every `seconds` (a download that never ends)
- short: a body shorter than its Content-Length, then close
- huge: a `size`-byte HTML page (streamed), with its Content-Length, or without it when
  `announced` is False (the body then ends when the connection closes)
- gzip_bomb / brotli_bomb: a small body that decompresses to `size` bytes of zeros
- redirect: 302 to `location` (a loop when it points back)
- content: `body` with `content_type`, `status` and `headers` as given (PDF, empty page, bad
  feeds, hostile text, wrong charsets...)
"""

from __future__ import annotations

import functools
import gzip
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

KINDS = frozenset(
    {"status", "reset", "slow", "trickle", "short", "huge", "gzip_bomb", "brotli_bomb",
     "redirect", "content"}
)  # fmt: skip


@dataclass
class Fault:
    kind: str
    times: int | None = None  # how many requests get the fault; None: every one
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    size: int = 0
    location: str = ""
    announced: bool = True  # huge: send a Content-Length

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")


class Faults:
    """(publisher, path) -> Fault, thread-safe; set or change it while the site is served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[tuple[str, str], Fault] = {}

    def set(self, publisher: str, path: str, fault: Fault) -> None:
        with self._lock:
            self._faults[(publisher, path)] = fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, publisher: str, path: str) -> Fault | None:
        """The fault to serve for this request now (counting it down), or None."""
        with self._lock:
            fault = self._faults.get((publisher, path))
            if fault is None:
                return None
            if fault.times is not None:
                if fault.times <= 0:
                    return None
                fault.times -= 1
            return fault


@functools.lru_cache(maxsize=4)
def _bomb(kind: str, size: int) -> bytes:
    zeros = b"\0" * size
    if kind == "gzip_bomb":
        return gzip.compress(zeros, compresslevel=9, mtime=0)
    import brotli

    return brotli.compress(zeros, quality=1)


def serve_fault(handler: BaseHTTPRequestHandler, fault: Fault) -> int:
    """Write the fault's response on the handler's connection; returns the status logged."""
    kind = fault.kind
    try:
        if kind == "slow":
            time.sleep(fault.seconds)
            return _send(handler, 200, fault.content_type, fault.body or b"<html>late</html>")
        if kind == "status":
            return _send(handler, fault.status or 503, "text/plain", b"server trouble")
        if kind == "redirect":
            return _send(handler, 302, "text/html", b"", {"Location": fault.location})
        if kind == "content":
            return _send(handler, fault.status, fault.content_type, fault.body, fault.headers)
        if kind in ("gzip_bomb", "brotli_bomb"):
            encoding = "gzip" if kind == "gzip_bomb" else "br"
            body = _bomb(kind, fault.size)
            return _send(handler, 200, fault.content_type, body, {"Content-Encoding": encoding})
        if kind == "huge":
            _head(handler, 200, fault.content_type, fault.size if fault.announced else None)
            handler.close_connection = not fault.announced
            chunk = b"<p>" + b"x" * 1020 + b"</p>\n"
            sent = 0
            while sent < fault.size:
                part = chunk[: fault.size - sent]
                handler.wfile.write(part)
                sent += len(part)
            return 200
        page = fault.body or b"<html><body>" + b"<p>text</p>" * 500 + b"</body></html>"
        if kind == "reset":
            _head(handler, 200, fault.content_type, len(page))
            handler.wfile.write(page[: len(page) // 2])
            handler.wfile.flush()
            _reset(handler)
            return 200
        if kind == "short":
            _head(handler, 200, fault.content_type, len(page) * 2)
            handler.wfile.write(page)
            handler.wfile.flush()
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_WR)
            return 200
        if kind == "trickle":
            _head(handler, 200, fault.content_type, 1_000_000)
            end = time.monotonic() + 60  # the demo site gives up after a minute
            while time.monotonic() < end:
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(fault.seconds or 0.1)
            handler.close_connection = True
            return 200
    except OSError:  # the client hung up: that is what the crawler should do
        handler.close_connection = True
    return 200


def _head(
    handler: BaseHTTPRequestHandler,
    status: int,
    content_type: str,
    length: int | None,
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    if length is not None:
        handler.send_header("Content-Length", str(length))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.flush()


def _send(
    handler: BaseHTTPRequestHandler,
    status: int,
    content_type: str,
    body: bytes,
    headers: dict[str, Any] | None = None,
) -> int:
    _head(handler, status, content_type, len(body), headers)
    if handler.command != "HEAD" and body:
        handler.wfile.write(body)
    return status


def _reset(handler: BaseHTTPRequestHandler) -> None:
    """Close with RST, not FIN: SO_LINGER with a zero timeout."""
    handler.close_connection = True
    sock = handler.connection
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()

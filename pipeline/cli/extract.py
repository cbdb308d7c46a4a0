"""`newsdesk extract`: the extraction stage on its own, for checking a page or benchmarking.

`newsdesk extract FILE --url URL` prints one JSON object. Without FILE, JSON Lines on stdin
(`{"id", "url", "html_path" | "html"}`) become JSON Lines on stdout, one per input line and in
order, each carrying its `id` and the article fields, or `"error"` where that line failed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from itertools import chain, islice
from pathlib import Path

from pipeline.cli.options import add_sources_option, http_url, worker_count
from pipeline.errors import NewsdeskError
from pipeline.extraction.extract import extract_article
from pipeline.sources.config import Source, get_sources

CHUNK = 16  # lines per worker task: amortises pickling without hurting the streaming latency
SERIAL_BELOW = 2 * CHUNK  # a batch this small runs in-process: starting workers costs more


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "extract",
        help="extract one saved page, or JSON Lines of pages from stdin",
        description="Extract article fields from a saved HTML page (.html or .html.gz) and "
        "print them as JSON. Without FILE, read JSON Lines {id, url, html_path|html} from stdin "
        "and write one JSON line per input line, in order.",
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="saved page (.html or .html.gz)")
    parser.add_argument("--url", type=http_url, help="the page's URL (required with FILE)")
    parser.add_argument("--source", metavar="NAME", help="read language/time zone from source")
    add_sources_option(parser)
    parser.add_argument("--workers", type=worker_count, metavar="N",
                        help="worker processes for stdin batches (default: all cores)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    source = get_sources([args.source], args.sources)[0] if args.source else None
    if args.file is not None:
        if not args.url:
            raise NewsdeskError("--url URL is required with FILE (the page's address)")
        article = extract_article(read_html(args.file), args.url, source=source)
        print(json.dumps(article.to_json(), ensure_ascii=False, indent=2))
        return 0
    workers = args.workers or os.cpu_count() or 1
    for record in extract_lines(sys.stdin, source, workers):
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


def read_html(path: str | Path) -> bytes:
    """The bytes of a saved page, gunzipped when the name ends in .gz."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NewsdeskError(f"{path}: file not found") from None
    except OSError as exc:
        raise NewsdeskError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if path.suffix == ".gz" or data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise NewsdeskError(f"{path}: not a valid gzip file ({exc})") from None
    return data


def extract_line(line: str, line_no: int, source: Source | None) -> dict:
    """One JSON Lines record in, one out: the article fields or an `error` naming the problem."""
    try:
        item = json.loads(line)
    except ValueError as exc:
        return {"id": None, "error": f"line {line_no}: not valid JSON ({exc.msg})"}
    if not isinstance(item, dict):
        return {"id": None, "error": f"line {line_no}: expected a JSON object"}
    record_id = item.get("id")
    try:
        url = item.get("url")
        if not isinstance(url, str) or not url:
            raise NewsdeskError(f"line {line_no}: missing \"url\"")
        if isinstance(item.get("html"), str):
            html: str | bytes = item["html"]
        elif item.get("html_path"):
            html = read_html(item["html_path"])
        else:
            raise NewsdeskError(f"line {line_no}: needs \"html_path\" or \"html\"")
        fetched_at = item.get("fetched_at")
        article = extract_article(
            html, url, source=source,
            fetched_at=datetime.fromisoformat(fetched_at) if fetched_at else None,
            hints=item.get("hints") if isinstance(item.get("hints"), dict) else None,
        )
    except NewsdeskError as exc:
        return {"id": record_id, "error": str(exc)}
    except Exception as exc:  # one bad page must never end the batch
        return {"id": record_id, "error": f"{type(exc).__name__}: {exc}"}
    return {"id": record_id, **article.to_json()}


def _extract_chunk(chunk: list[tuple[int, str]], source: Source | None) -> list[dict]:
    return [extract_line(line, line_no, source) for line_no, line in chunk]


def extract_lines(lines: Iterable[str], source: Source | None, workers: int) -> Iterator[dict]:
    """Extract JSON Lines in order, streaming: a small input runs in-process; a larger one on
    `workers` processes with a bounded window of chunks in flight, so memory stays flat however
    long stdin is. (`Executor.map` would submit the whole input up front.)"""
    numbered = ((no, line) for no, line in enumerate(lines, 1) if line.strip())
    head = list(islice(numbered, SERIAL_BELOW))
    if workers <= 1 or len(head) < SERIAL_BELOW:
        for line_no, line in head:
            yield extract_line(line, line_no, source)
        for line_no, line in numbered:
            yield extract_line(line, line_no, source)
        return
    chunks = _chunks(chain(head, numbered))
    window: deque[Future] = deque()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for chunk in chunks:
            window.append(pool.submit(_extract_chunk, chunk, source))
            if len(window) >= 3 * workers:
                yield from window.popleft().result()
        while window:
            yield from window.popleft().result()


def _chunks(items: Iterator[tuple[int, str]]) -> Iterator[list[tuple[int, str]]]:
    while chunk := list(islice(items, CHUNK)):
        yield chunk

"""Options and argparse types several commands share: `--sources PATH`, the source selection of
crawl and run, `--since`, whole numbers in the bounds Postgres and the machine accept, an http(s)
URL, the demo sites' `--articles`, a politeness delay. A value out of bounds is a one-line usage
error before the command starts anything."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import psycopg
from pydantic import TypeAdapter, ValidationError

from pipeline.demo_site.model import MIN_ARTICLES
from pipeline.errors import NewsdeskError
from pipeline.sources.config import HttpUrl, Politeness, Source, get_sources, load_sources

#: The largest Postgres `integer`: a count past it reaches a query as a `bigint` no function
#: signature takes ("function ... does not exist"), so no whole-number option goes beyond it.
PG_INT_MAX = 2**31 - 1
#: Worker processes: more than any machine has cores only costs memory (and a typo of 10**6
#: would try to start that many).
MAX_WORKERS = 1024
#: Scrapy's default URLLENGTH_LIMIT: the crawl drops a longer URL, and a command line holding
#: one could not even be passed on to a subprocess.
MAX_URL_LENGTH = 2083
_HTTP_URL = TypeAdapter(HttpUrl)


def add_sources_option(
    parser: argparse.ArgumentParser,
    default: str = "$NEWSDESK_SOURCES, else the packaged one",
) -> None:
    """The `--sources PATH` option every command that reads sources takes; `default` says what
    the command reads without it."""
    parser.add_argument(
        "--sources", metavar="PATH", help=f"sources YAML file or folder (default: {default})"
    )


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        action="append",
        metavar="NAME",
        help="only this source (repeatable; default: every active source)",
    )
    parser.add_argument("--run-key", help="identifies the run in crawl_runs (default: a timestamp)")
    parser.add_argument("--limit", type=whole_number(0), metavar="N",
                        help="at most N article pages per source")
    parser.add_argument(
        "--no-delay", action="store_true", help="no politeness delay (local demo site, benchmarks)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show Scrapy's own log")


def selected_sources(args: argparse.Namespace) -> list[Source]:
    """The sources named with --source, else every active one; an empty selection is an error."""
    if args.source:
        return get_sources(args.source, args.sources)
    sources = [s for s in load_sources(args.sources) if s.active]
    if not sources:
        raise NewsdeskError("no active sources to crawl (check --sources)")
    return sources


def processed_sources(args: argparse.Namespace) -> list[Source]:
    """Every source of --sources, for process and reprocess, once each name given with
    `--source` is known to be one of them (a typo would otherwise match no page, silently)."""
    if args.source:
        get_sources(args.source, args.sources)
    return load_sources(args.sources)


def check_stored_source(conn: psycopg.Connection, name: str | None) -> None:
    """A `--source NAME` filter over stored rows must name a source that has run: a typo would
    otherwise match nothing and look like an empty database."""
    if name and not conn.execute("SELECT 1 FROM sources WHERE name = %s", [name]).fetchone():
        raise NewsdeskError(f"unknown source {name!r}")


def parse_since(value: str) -> datetime:
    """A date (midnight UTC) or an ISO timestamp; anything else is a one-line argparse error."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def whole_number(minimum: int, maximum: int = PG_INT_MAX) -> Callable[[str], int]:
    """The argparse type of a whole-number option from `minimum` to `maximum`: anything else
    ("1e309", "NaN", 2**31) is a one-line usage error naming the option."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum} (got {number})")
        if number > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum} (got {number})")
        return number

    return parse


#: --workers of every command that extracts: how many processes.
worker_count = whole_number(1, MAX_WORKERS)
#: A TCP port to listen on; 0 lets the system choose a free one.
port_number = whole_number(0, 65535)
#: --articles here and in `newsdesk demo`: below the smallest site that still shows every trap,
#: a usage error instead of the generator's traceback.
article_count = whole_number(MIN_ARTICLES)


def http_url(value: str) -> str:
    """The argparse type of a URL argument: an absolute http(s) URL, by the sources file's own
    rule, with a valid port, no control characters and no longer than the crawl accepts."""
    if len(value) > MAX_URL_LENGTH:
        raise argparse.ArgumentTypeError(
            f"URL longer than {MAX_URL_LENGTH} characters: {value[:60]!r}...")
    if not value.isprintable():  # urlsplit silently drops tab and newline: say so instead
        raise argparse.ArgumentTypeError(f"URL with a control character: {value!r}")
    try:
        _HTTP_URL.validate_python(value)
        _ = urlsplit(value).port  # raises for a port that is not a number from 0 to 65535
    except ValidationError as exc:  # urlsplit's "Invalid IPv6 URL", or "not an http(s) URL"
        reason = str(exc.errors()[0].get("ctx", {}).get("error") or exc.errors()[0]["msg"])
        raise argparse.ArgumentTypeError(f"{reason}: {value!r}") from None
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}: {value!r}") from None
    return value


def politeness_delay(value: str) -> float:
    """argparse type of a delay between requests, in the bounds of a source's `politeness.delay`."""
    try:
        return Politeness(delay=value).delay
    except ValidationError as exc:  # "Input should be less than or equal to 120"
        raise argparse.ArgumentTypeError(f"{value!r}: {exc.errors()[0]['msg']}") from None

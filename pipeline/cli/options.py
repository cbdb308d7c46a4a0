"""Options and argparse types several commands share: `--sources PATH`, the source selection of
crawl and run, `--since`, the demo sites' `--articles`, a politeness delay."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime

from pydantic import ValidationError

from pipeline.demo_site.model import MIN_ARTICLES
from pipeline.errors import NewsdeskError
from pipeline.sources.config import Politeness, Source, get_sources, load_sources


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
    parser.add_argument("--limit", type=int, metavar="N", help="at most N article pages per source")
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


def parse_since(value: str) -> datetime:
    """A date (midnight UTC) or an ISO timestamp; anything else is a one-line argparse error."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def article_count(value: str) -> int:
    """argparse type of --articles (here and in `newsdesk demo`): a one-line usage error below
    the smallest site that still shows every trap, instead of the generator's traceback."""
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if count < MIN_ARTICLES:
        raise argparse.ArgumentTypeError(f"must be at least {MIN_ARTICLES} (got {count})")
    return count


def politeness_delay(value: str) -> float:
    """argparse type of a delay between requests, in the bounds of a source's `politeness.delay`."""
    try:
        return Politeness(delay=value).delay
    except ValidationError as exc:  # "Input should be less than or equal to 120"
        raise argparse.ArgumentTypeError(f"{value!r}: {exc.errors()[0]['msg']}") from None

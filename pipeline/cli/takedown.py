"""`newsdesk takedown`: delete a URL's or a source's rows everywhere; refuse them from then on."""

from __future__ import annotations

import argparse

from pipeline.cli.options import add_sources_option, http_url
from pipeline.db import connect_migrated
from pipeline.errors import NewsdeskError
from pipeline.processing.takedown import Removed, take_down_source, take_down_urls
from pipeline.sources.config import load_sources

_HELP = """\
Deletes, in one transaction, every row the URLs or sources have: raw pages, articles, their
versions, duplicate pairs and dedupe keys, search vectors, skipped pages; stories left empty are
deleted and the others recomputed. A source also loses its crawl runs, discovery documents and
learned boilerplate, and stays inactive whatever the sources file says. Each is recorded in the
takedowns table, a URL with its article's canonical address and the other addresses it was
stored from: the crawl and import-warc refuse them from then on. Rerunning is harmless."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "takedown", help="delete a URL's or a source's rows and refuse them from now on",
        description=_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("urls", nargs="*", type=http_url, metavar="URL",
                        help="an article page's URL")
    parser.add_argument("--source", action="append", default=[], metavar="NAME",
                        help="a whole source (repeatable)")
    parser.add_argument("--reason", help="why (a request reference), kept with the takedown")
    add_sources_option(parser)
    parser.set_defaults(handler=_takedown)


def _takedown(args: argparse.Namespace) -> int:
    if not args.urls and not args.source:
        raise NewsdeskError("name at least one URL or --source")
    if args.sources:  # a bad file given is an error even when every name is already synced
        load_sources(args.sources)
    with connect_migrated() as conn:
        unknown = _unknown_sources(conn, args.source, args.sources)
        if unknown:
            raise NewsdeskError(f"unknown source {unknown[0]!r} (not in the database nor in "
                                "the sources file)")
        if args.urls:
            removed = take_down_urls(conn, args.urls, args.reason)
            _print(f"{len(args.urls)} URL(s)", removed)
            print(f"refused from now on: {len(removed.keys)} URL key(s)"
                  f" ({removed.recorded} new)")
        for name in dict.fromkeys(args.source):
            removed = take_down_source(conn, name, args.reason)
            _print(f"source {name}", removed)
            state = "recorded" if removed.recorded else "already recorded"
            print(f"source {name}: {state}, inactive, not crawled from now on")
    return 0


def _unknown_sources(conn, names: list[str], sources_path: str | None) -> list[str]:
    """The names neither synced to `sources` nor in the sources file."""
    if not names:
        return []
    synced = {n for (n,) in conn.execute(
        "SELECT name FROM sources WHERE name = ANY(%s)", [names]).fetchall()}
    missing = [n for n in names if n not in synced]
    if missing:
        configured = {s.name for s in load_sources(sources_path)}
        missing = [n for n in missing if n not in configured]
    return missing


def _print(what: str, removed: Removed) -> None:
    print(f"took down {what}: rows deleted per table")
    for table, count in removed.rows.items():
        print(f"  {table:<22} {count:>8}")
    print(f"  {'stories recomputed':<22} {removed.stories_recomputed:>8}")

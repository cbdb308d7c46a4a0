"""`newsdesk search "QUERY"`: ranked full-text hits over the stored articles."""

from __future__ import annotations

import argparse
from datetime import UTC

import psycopg
from rich.table import Table

from pipeline.cli.console import stderr, stdout
from pipeline.cli.options import check_stored_source, parse_since, whole_number
from pipeline.db import connect, connect_migrated
from pipeline.errors import NewsdeskError
from pipeline.outputs.search import count_unindexed, index_pending, search


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "search",
        help="full-text search over articles, best hits first",
        description='Web-search syntax: words, "a phrase", or, -excluded. Each article is matched '
                    "in its own language. One hit per story, with its number of copies, unless "
                    "--every-copy.",
    )
    parser.add_argument("query", nargs="?", help='what to look for, e.g. \'"central bank" -rates\'')
    parser.add_argument("--source", metavar="NAME", help="only this source's articles")
    parser.add_argument("--since", type=parse_since, metavar="DATE",
                        help="only articles published on or after DATE (YYYY-MM-DD, UTC)")
    parser.add_argument("--language", metavar="CODE", help="only articles in this language")
    parser.add_argument("--limit", type=whole_number(1), default=20, metavar="N",
                        help="hits (default 20)")
    parser.add_argument("--every-copy", action="store_true",
                        help="a hit per article, not one per story (copies of a story share it)")
    parser.add_argument(
        "--index", action="store_true",
        help="first index articles pending for search, on every core (needs write access)",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if not args.query and not args.index:
        raise NewsdeskError("give a query, or --index to index pending articles")
    if args.index:
        with connect_migrated():
            pass
        indexed = index_pending()
        print(f"indexed {indexed} article(s) for search", flush=True)
        if not args.query:
            return 0
    with connect() as conn:
        check_stored_source(conn, args.source)
        try:
            hits = search(conn, args.query, source=args.source, since=args.since,
                          limit=args.limit, language=args.language,
                          every_copy=args.every_copy)
        except psycopg.errors.UndefinedFunction:
            raise NewsdeskError(
                "the database has no search yet: run `newsdesk db migrate`"
            ) from None
        pending = count_unindexed(conn)
    table = Table(title=f"search: {args.query}", show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("rank", justify="right")
    table.add_column("published (UTC)", no_wrap=True)
    table.add_column("source", no_wrap=True)
    table.add_column("copies", justify="right")
    table.add_column("title")
    table.add_column("url", overflow="fold")
    for n, hit in enumerate(hits, 1):
        when = hit.published_at
        published = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if when else "-"
        # Plain str: the console (LiteralConsole) prints a headline as the literal text it is.
        table.add_row(str(n), f"{hit.rank:.3f}", published, hit.source, str(hit.copies),
                      hit.title or "-", hit.canonical_url)
    if not hits:
        table.caption = "no hits"
    stdout.print(table)
    if pending:
        stderr.print(f"note: {pending} article(s) not yet indexed were searched the slow way; "
                     "`newsdesk search --index` indexes them")
    return 0

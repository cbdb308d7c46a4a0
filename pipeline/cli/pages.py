"""`newsdesk pages merged`: stored pages that were fetched under another page's address."""

from __future__ import annotations

import argparse

from pipeline.cli.console import stderr
from pipeline.cli.options import check_stored_source
from pipeline.db import connect_migrated
from pipeline.outputs.merged_pages import merged_pages

_MERGED_HELP = """\
Before migration 0012 a link was fetched under its lossy key: story.php?12345 as story.php,
/a;jsessionid=X as /a%3Bjsessionid=X. Listed, among pages fetched before 0012: 'canonical', the
page's own address (rel=canonical, og:url, JSON-LD url, same site) keys apart from the stored
URL and the old key of that address is the stored URL; 'semicolon', the stored path holds %3B,
the old key's spelling of ';'. The next crawl fetches the true address while discovery lists it;
the listed rows (and their articles) can then be deleted."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("pages", help="inspect stored raw pages")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    merged = actions.add_parser(
        "merged", help="pages fetched under a merged address, to refetch",
        description=_MERGED_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    merged.add_argument("--source", metavar="NAME", help="only this source's pages")
    merged.set_defaults(handler=_merged)


def _merged(args: argparse.Namespace) -> int:
    """One page a line, tab-separated (whole URLs, for scripts): source, rule, the URL fetched
    and stored, the page's own address ('-' when unknown); the count goes to stderr."""
    with connect_migrated() as conn:
        check_stored_source(conn, args.source)
        pages = list(merged_pages(conn, args.source))
    print("source\trule\tfetched as\tits own address")
    for page in pages:
        print(f"{page.source}\t{page.rule}\t{page.url}\t{page.address or '-'}")
    stderr.print(f"{len(pages)} pages fetched under a merged address")
    return 0

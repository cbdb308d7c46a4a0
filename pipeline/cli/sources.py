"""`newsdesk sources`: list, validate, check and discover sources.

`check` and `discover` fetch pages, which is the crawl side's job: they run
`python -m crawlers.probe` as a subprocess (as `newsdesk crawl` runs `python -m crawlers`), so
the pipeline never imports the crawler. Neither writes to the database.
"""

from __future__ import annotations

import argparse
import subprocess

import psycopg
from rich.table import Table

from pipeline.cli.console import stderr, stdout
from pipeline.cli.options import add_sources_option, http_url, politeness_delay, whole_number
from pipeline.errors import NewsdeskError, ReportedError
from pipeline.sources.config import default_sources_path, get_sources, load_sources
from pipeline.subprocesses import python_module


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sources", help="list, validate, check or discover news sources")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every source with its last run and health")
    add_sources_option(listing)
    listing.set_defaults(handler=_list)
    validate = actions.add_parser("validate", help="check the sources file offline")
    add_sources_option(validate)
    validate.set_defaults(handler=_validate)
    check = actions.add_parser(
        "check", help="dry run of one source: what it yields (writes nothing)"
    )
    check.add_argument("name", metavar="NAME")
    check.add_argument("--articles", type=whole_number(1), default=3, metavar="N",
                       help="articles to extract")
    add_sources_option(check)
    check.set_defaults(handler=_check)
    discover = actions.add_parser(
        "discover", help="find a site's feeds and sitemaps; print a YAML entry"
    )
    discover.add_argument("url", type=http_url, metavar="URL")
    discover.add_argument(
        "--allow-private-addresses",
        action="store_true",
        help="allow loopback/private hosts (the local demo site)",
    )
    discover.add_argument(
        "--delay", type=politeness_delay, default=1.0, metavar="SECONDS",
        help="between requests (0-120)",
    )
    discover.set_defaults(handler=_discover)
    learned = actions.add_parser(
        "boilerplate", help="the lines learned as a source's furniture and removed from its bodies"
    )
    learned.add_argument("name", metavar="NAME")
    learned.set_defaults(handler=_boilerplate)


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _list(args: argparse.Namespace) -> int:
    sources = load_sources(args.sources)
    health = None
    trends: dict[str, list[str]] = {}
    try:
        from pipeline.db import connect
        from pipeline.sources.alerts import check_all
        from pipeline.sources.health import fetch_health

        with connect() as conn:
            health = fetch_health(conn, [s.name for s in sources])
            for alert in check_all(conn):
                trends.setdefault(alert.source, []).append(alert.message)
    except (NewsdeskError, psycopg.Error) as exc:  # no database: the YAML columns only
        line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        stderr.print(f"warning: no run history (database unavailable: {line})")
    from pipeline.sources.health import verdict

    table = Table(title=str(args.sources or default_sources_path()))
    columns = ["name", "active", "feeds", "sitemaps", "listings", "language"]
    if health is not None:
        columns += ["last run", "last success", "articles 7d", "health"]
    else:
        columns += ["homepage"]
    for column in columns:
        table.add_column(column, overflow="fold")
    for s in sources:
        row = [
            s.name, "yes" if s.active else "no", str(len(s.feeds)), str(len(s.sitemaps)),
            str(len(s.listings)), s.language or "-",
        ]  # fmt: skip
        if health is not None:
            h = health.get(s.name)
            row += [
                f"{_when(h.last_run)} {h.last_status}" if h and h.last_run else "-",
                _when(h.last_success if h else None),
                str(h.articles_7d if h else 0),
                verdict(h, s.active, trends=trends.get(s.name, ())),
            ]
        else:
            row.append(s.homepage)
        table.add_row(*row)
    stdout.print(table)
    return 0


def _validate(args: argparse.Namespace) -> int:
    sources = load_sources(args.sources)
    active = sum(s.active for s in sources)
    path = args.sources or default_sources_path()
    print(f"{path}: {len(sources)} sources valid ({active} active)")
    return 0


def _probe(*argv: str) -> int:
    completed = subprocess.run(python_module("crawlers.probe", *argv))
    if completed.returncode == 2:  # its usage error, already printed in one line
        raise ReportedError(f"python -m crawlers.probe {argv[0]} failed")
    return completed.returncode


def _check(args: argparse.Namespace) -> int:
    # A bad file or an unknown name is reported here, in the CLI's own words, before the probe.
    get_sources([args.name], args.sources)
    argv = ["check", args.name, "--articles", str(args.articles)]
    if args.sources:
        argv += ["--sources", str(args.sources)]
    return _probe(*argv)


def _discover(args: argparse.Namespace) -> int:
    argv = ["discover", args.url, "--delay", str(args.delay)]
    if args.allow_private_addresses:
        argv.append("--allow-private-addresses")
    return _probe(*argv)


def _boilerplate(args: argparse.Namespace) -> int:
    from pipeline.db import connect

    with connect() as conn:
        rows = conn.execute(
            "SELECT line, pages, sample, learned_at, last_seen_at FROM source_boilerplate"
            " WHERE source = %s ORDER BY pages DESC, line",
            (args.name,),
        ).fetchall()
        known = conn.execute("SELECT 1 FROM sources WHERE name = %s", (args.name,)).fetchone()
    if not known:
        raise NewsdeskError(f"source {args.name!r} has never been run (not in the sources table)")
    table = Table(title=f"{args.name}: {len(rows)} learned boilerplate lines")
    for column in ("line", "pages", "learned", "last seen"):
        table.add_column(column, overflow="fold")
    for line, pages, sample, learned_at, last_seen_at in rows:
        table.add_row(line, f"{pages}/{sample}", _when(learned_at), _when(last_seen_at))
    stdout.print(table)
    stdout.print("Delete a row of source_boilerplate to stop removing its line; "
                 f"then `newsdesk reprocess --source {args.name}` restores it in stored bodies.")
    return 0

"""`newsdesk demo-site serve`: serve the deterministic demo news site on 127.0.0.1."""

from __future__ import annotations

import argparse
import threading
from datetime import datetime
from pathlib import Path

from pipeline.atomic import atomic_write
from pipeline.cli.options import article_count, port_number, whole_number
from pipeline.demo_site import DEFAULT_ANCHOR, DemoSite, serve_demo_site
from pipeline.errors import NewsdeskError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo-site", help="serve the demo news site (three fake publishers on 127.0.0.1)"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    serve = actions.add_parser(
        "serve", help="serve the site until Ctrl-C and print the sources YAML that crawls it"
    )
    serve.add_argument("--seed", type=whole_number(0), default=7,
                       help="generator seed (default: 7)")
    serve.add_argument(
        "--articles", type=article_count, default=300, metavar="N",
        help="articles over all publishers (default: 300)",
    )
    serve.add_argument(
        "--anchor", metavar="ISO_DATETIME", default=DEFAULT_ANCHOR.isoformat(),
        help=f"newest possible publication time (default: {DEFAULT_ANCHOR.isoformat()})",
    )
    serve.add_argument(
        "--port", type=port_number, default=0, metavar="PORT",
        help="first publisher's port, the others follow (default: free ports)",
    )
    serve.add_argument(
        "--sources-out", metavar="FILE", type=Path,
        help="write the sources YAML to FILE instead of printing it",
    )
    serve.set_defaults(handler=_serve)


def _site(args: argparse.Namespace) -> DemoSite:
    try:
        anchor = datetime.fromisoformat(args.anchor)
    except ValueError:
        raise NewsdeskError(f"--anchor: not an ISO 8601 date-time: {args.anchor!r}") from None
    if anchor.tzinfo is None:
        raise NewsdeskError(f"--anchor: needs a UTC offset, e.g. {DEFAULT_ANCHOR.isoformat()}")
    return DemoSite(seed=args.seed, n_articles=args.articles, anchor=anchor)


def _serve(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    """Serve until Ctrl-C (or until `stop` is set, which tests use)."""
    site = _site(args)
    with serve_demo_site(site, base_port=args.port) as running:
        print(f"demo site: seed {site.seed}, {site.n_articles} articles up to "
              f"{site.anchor.isoformat()}")
        for pub in running.publishers:
            count = site.article_count(pub.name)
            print(f"  {pub.name:<12} {pub.base_url}/  ({pub.language}, {pub.timezone}, "
                  f"{count} articles)")
        yaml_text = running.sources_yaml()
        if args.sources_out:
            # Whole or not at all: a bench or test polls for this file and must never read
            # half of it (a fresh-clone run read an empty mapping once).
            with atomic_write(args.sources_out) as tmp:
                tmp.write_text(yaml_text, encoding="utf-8")
            print(f"sources YAML written to {args.sources_out}")
        else:
            print("\n" + yaml_text)
        print("serving; press Ctrl-C to stop", flush=True)
        try:
            (stop or threading.Event()).wait()
        except KeyboardInterrupt:
            print("\nstopped")
    return 0

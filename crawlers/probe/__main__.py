"""The probe's command line (see `crawlers.probe`): parse, run `check` or `discover`, exit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

from pipeline.errors import NewsdeskError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers.probe")
    sub = parser.add_subparsers(dest="action", required=True)
    c = sub.add_parser("check")
    c.add_argument("name")
    c.add_argument("--sources")
    c.add_argument("--articles", type=int, default=3)
    d = sub.add_parser("discover")
    d.add_argument("url")
    d.add_argument("--allow-private-addresses", action="store_true")
    d.add_argument("--delay", type=float, default=1.0)
    args = parser.parse_args(argv)
    try:
        if args.action == "check":
            from crawlers.probe.check import check
            from pipeline.sources.config import get_sources

            (source,) = get_sources([args.name], args.sources)
            return check(source, articles=args.articles)
        if urlsplit(args.url).scheme not in ("http", "https"):
            raise NewsdeskError(f"not an http(s) URL: {args.url}")
        from crawlers.probe.discover import discover

        return discover(args.url, allow_private=args.allow_private_addresses, delay=args.delay)
    except NewsdeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""`newsdesk export`, `export-warc` and `import-warc`: articles and raw pages in and out."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from pipeline.cli.console import print_process_stats, stderr, stdout
from pipeline.cli.jobs import process_stage
from pipeline.cli.options import add_sources_option, parse_since, worker_count
from pipeline.db import connect, connect_migrated
from pipeline.errors import NewsdeskError
from pipeline.outputs.exports import FORMATS, export_articles
from pipeline.sources.config import get_sources, load_sources


def register(subparsers: argparse._SubParsersAction) -> None:
    export = subparsers.add_parser("export", help="write articles as JSON Lines, CSV or Parquet")
    _selection(export, "articles published (or, undated, fetched) on or after DATE")
    export.add_argument("--format", choices=FORMATS, default="jsonl", help="default jsonl")
    export.add_argument("--out", required=True, metavar="PATH", help="file to write")
    export.set_defaults(handler=_export)

    warc_out = subparsers.add_parser("export-warc", help="write stored raw pages as a WARC file")
    _selection(warc_out, "pages fetched on or after DATE")
    warc_out.add_argument("--out", required=True, metavar="PATH", help="file to write (.warc.gz)")
    warc_out.set_defaults(handler=_export_warc)

    warc_in = subparsers.add_parser(
        "import-warc", help="store WARC HTML responses as raw pages and process them"
    )
    warc_in.add_argument("files", nargs="+", metavar="FILE", help="WARC files (.warc or .warc.gz)")
    warc_in.add_argument("--source", metavar="NAME",
                         help="the source every record belongs to (default: matched by host)")
    add_sources_option(warc_in)
    warc_in.add_argument("--workers", type=worker_count, metavar="N", help="extraction processes")
    warc_in.set_defaults(handler=_import_warc)


def _selection(parser: argparse.ArgumentParser, since_help: str) -> None:
    parser.add_argument("--since", type=parse_since, metavar="DATE", help=since_help)
    parser.add_argument("--source", metavar="NAME", help="only this source")


def _check_source(conn, name: str | None) -> None:
    if name and not conn.execute("SELECT 1 FROM sources WHERE name = %s", [name]).fetchone():
        raise NewsdeskError(f"unknown source {name!r}")


def _export(args: argparse.Namespace) -> int:
    with connect() as conn:
        _check_source(conn, args.source)
        n = export_articles(conn, Path(args.out), args.format, since=args.since, source=args.source)
    print(f"wrote {n} article(s) to {args.out} ({args.format})")
    return 0


def _export_warc(args: argparse.Namespace) -> int:
    from pipeline.outputs.warc import export_warc

    with connect() as conn:
        _check_source(conn, args.source)
        n = export_warc(conn, Path(args.out), since=args.since, source=args.source)
    print(f"wrote {n} raw page(s) to {args.out} (WARC)")
    return 0


def _import_warc(args: argparse.Namespace) -> int:
    from pipeline.outputs.warc import import_warc
    from pipeline.sources.sync import upsert_sources

    sources = load_sources(args.sources)
    forced = get_sources([args.source], args.sources)[0] if args.source else None
    with connect_migrated() as conn:
        with conn.transaction():
            upsert_sources(conn, sources)
        stats = import_warc(conn, [Path(f) for f in args.files], sources, source=forced)
        table = Table(title="import-warc: raw pages stored")
        table.add_column("source")
        table.add_column("pages", justify="right")
        for name, n in sorted(stats.imported.items()):
            table.add_row(name, str(n))
        table.caption = ", ".join(
            [f"{stats.unchanged} unchanged"]
            + [f"{n} skipped ({why})" for why, n in sorted(stats.skipped.items())]
        )
        stdout.print(table)
        for line in stats.refused:
            stderr.print(f"refused {line}")
        if stats.refused_total > len(stats.refused):
            stderr.print(f"refused {stats.refused_total - len(stats.refused)} more records")
        touched = sorted(stats.imported)
        if touched:
            process_stats = process_stage(conn, sources, only=touched, workers=args.workers)
            print_process_stats(process_stats)
    return 0

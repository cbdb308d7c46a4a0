"""Article exports to JSON Lines, CSV or Parquet, streamed so memory stays flat.

Rows come from a server-side cursor in chunks and are written as they arrive (Parquet in row
groups of one chunk), so exporting a million articles needs no more memory than one chunk.
JSON Lines and CSV print the publication and modification dates as the publisher wrote them
(`as_written`: "2020-06-03T01:01:00+02:00", a day alone as "2020-06-03"); Parquet keeps the
UTC instant beside the offset and precision columns.
"""

from __future__ import annotations

import csv
import importlib.util
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TextIO

import psycopg

from pipeline.article import as_written
from pipeline.atomic import atomic_write
from pipeline.errors import NewsdeskError

FORMATS = ("jsonl", "csv", "parquet")
CHUNK = 2000

#: The article contract's fields (DESIGN.md), plus the row id, in export order.
COLUMNS = [
    "id", "url", "canonical_url", "source", "title", "description", "authors", "published_at",
    "published_offset_minutes", "published_precision", "modified_at", "modified_offset_minutes",
    "modified_precision", "date_source", "language", "section", "tags", "image_url", "body",
    "word_count", "is_paywalled", "content_hash", "fetched_at", "extractor_version",
]
LIST_COLUMNS = {"authors", "tags"}
#: What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DATE_COLUMNS = {"published_at", "modified_at", "fetched_at"}

_QUERY = f"""
SELECT {", ".join(COLUMNS)}
  FROM articles
 WHERE (%(since)s::timestamptz IS NULL OR coalesce(published_at, fetched_at) >= %(since)s)
   AND (%(source)s::text IS NULL OR source = %(source)s)
 ORDER BY id
"""


def iter_rows(
    conn: psycopg.Connection, *, since: datetime | None = None, source: str | None = None
) -> Iterator[tuple]:
    """Article rows (COLUMNS order) from a server-side cursor, CHUNK at a time."""
    with conn.transaction(), conn.cursor(name="newsdesk_export") as cur:
        cur.itersize = CHUNK
        cur.execute(_QUERY, {"since": since, "source": source})
        yield from cur


def _text_record(row: tuple) -> dict:
    """One row for JSON Lines or CSV: the publisher's dates as written, the fetch time in UTC."""
    record = dict(zip(COLUMNS, row, strict=True))
    for key in ("published", "modified"):
        record[f"{key}_at"] = as_written(record[f"{key}_at"], record[f"{key}_offset_minutes"],
                                         record[f"{key}_precision"])
    if record["fetched_at"] is not None:
        record["fetched_at"] = record["fetched_at"].isoformat()
    return record


def export_articles(
    conn: psycopg.Connection,
    out: Path,
    fmt: str,
    *,
    since: datetime | None = None,
    source: str | None = None,
) -> int:
    """Write the selected articles to `out` in `fmt`, whole or not at all (`atomic_write`);
    returns how many rows were written."""
    if fmt not in FORMATS:
        raise NewsdeskError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    if fmt == "parquet" and importlib.util.find_spec("pyarrow") is None:
        # pyarrow is an extra: a large wheel that only this format needs.
        raise NewsdeskError("Parquet export needs pyarrow: pip install 'newsdesk[parquet]'")
    with atomic_write(out) as tmp:
        rows = iter_rows(conn, since=since, source=source)
        if fmt == "parquet":
            return _write_parquet(rows, tmp)
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            return (_write_jsonl if fmt == "jsonl" else _write_csv)(rows, fh)


def _write_jsonl(rows: Iterator[tuple], fh: TextIO) -> int:
    count = 0
    for row in rows:
        fh.write(json.dumps(_text_record(row), ensure_ascii=False) + "\n")
        count += 1
    return count


def _write_csv(rows: Iterator[tuple], fh: TextIO) -> int:
    """Every cell quoted, and text that a spreadsheet would run as a formula made inert with a
    leading ' (OWASP's CSV-injection advice); lists as JSON arrays."""
    writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow([
            inert_cell(json.dumps(v, ensure_ascii=False) if c in LIST_COLUMNS else v)
            for c, v in _text_record(row).items()
        ])
        count += 1
    return count


def inert_cell(value):
    """`value`, with a ' before text starting with = + - @ tab or CR, which spreadsheets read as a
    formula (OWASP CSV injection). Numbers stay numbers: a negative offset is no formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _write_parquet(rows: Iterator[tuple], out: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ts = pa.timestamp("us", tz="UTC")
    types = {
        "id": pa.int64(), "word_count": pa.int32(), "is_paywalled": pa.bool_(),
        "authors": pa.list_(pa.string()), "tags": pa.list_(pa.string()),
        **dict.fromkeys(DATE_COLUMNS, ts),
        "published_offset_minutes": pa.int16(), "modified_offset_minutes": pa.int16(),
    }
    schema = pa.schema([(c, types.get(c, pa.string())) for c in COLUMNS])
    count = 0
    with pq.ParquetWriter(out, schema) as writer:
        chunk: list[tuple] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == CHUNK:
                writer.write_table(_table(chunk, schema))
                count += len(chunk)
                chunk = []
        if chunk or count == 0:
            writer.write_table(_table(chunk, schema))
            count += len(chunk)
    return count


def _table(chunk: list[tuple], schema):
    import pyarrow as pa

    columns = list(zip(*chunk, strict=True)) if chunk else [[] for _ in COLUMNS]
    return pa.table([pa.array(list(col), type=schema.field(i).type)
                     for i, col in enumerate(columns)], schema=schema)

"""Article exports to JSON Lines, CSV or Parquet, streamed so memory stays flat.

Rows come from a server-side cursor in chunks and are written as they arrive (Parquet in row
groups of one chunk), so exporting a million articles needs no more memory than one chunk.
"""

from __future__ import annotations

import csv
import importlib.util
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg

from pipeline.errors import NewsdeskError

FORMATS = ("jsonl", "csv", "parquet")
CHUNK = 2000

#: The article contract's fields (DESIGN.md), plus the row id, in export order.
COLUMNS = [
    "id", "url", "canonical_url", "source", "title", "description", "authors", "published_at",
    "modified_at", "date_source", "language", "section", "tags", "image_url", "body",
    "word_count", "is_paywalled", "content_hash", "fetched_at", "extractor_version",
]
LIST_COLUMNS = {"authors", "tags"}
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


def _json_value(column: str, value):
    if column in DATE_COLUMNS and value is not None:
        return value.isoformat()
    return value


def export_articles(
    conn: psycopg.Connection,
    out: Path,
    fmt: str,
    *,
    since: datetime | None = None,
    source: str | None = None,
) -> int:
    """Write the selected articles to `out` in `fmt`; returns how many rows were written."""
    if fmt not in FORMATS:
        raise NewsdeskError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    if fmt == "parquet" and importlib.util.find_spec("pyarrow") is None:
        # pyarrow is an extra: a large wheel that only this format needs.
        raise NewsdeskError("Parquet export needs pyarrow: pip install 'newsdesk[parquet]'")
    rows = iter_rows(conn, since=since, source=source)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        return _write_parquet(rows, out)
    count = 0
    with out.open("w", encoding="utf-8", newline="") as fh:
        if fmt == "jsonl":
            for row in rows:
                record = {c: _json_value(c, v) for c, v in zip(COLUMNS, row, strict=True)}
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        else:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for row in rows:
                writer.writerow([
                    json.dumps(v, ensure_ascii=False) if c in LIST_COLUMNS
                    else _json_value(c, v) for c, v in zip(COLUMNS, row, strict=True)
                ])
                count += 1
    return count


def _write_parquet(rows: Iterator[tuple], out: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ts = pa.timestamp("us", tz="UTC")
    types = {
        "id": pa.int64(), "word_count": pa.int32(), "is_paywalled": pa.bool_(),
        "authors": pa.list_(pa.string()), "tags": pa.list_(pa.string()),
        "published_at": ts, "modified_at": ts, "fetched_at": ts,
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

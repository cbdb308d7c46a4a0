"""Exports after a demo run: every format round-trips rows and fields; filters; streaming."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

import psycopg
import pytest

from pipeline.article import as_written
from pipeline.outputs.exports import COLUMNS, FORMULA_STARTS, LIST_COLUMNS, iter_rows
from tests.cli import newsdesk
from tests.test_views import demo_run

__all__ = ["demo_run"]


def _stored(url, where: str = "true", params=()) -> list[dict]:
    with psycopg.connect(url) as conn:
        conn.row_factory = psycopg.rows.dict_row
        return conn.execute(
            f"SELECT {', '.join(COLUMNS)} FROM articles WHERE {where} ORDER BY id", params
        ).fetchall()


def _read(path, fmt) -> list[dict]:
    if fmt == "jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    elif fmt == "csv":
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        for row in rows:
            for column, value in row.items():  # a text that reads as a formula got a ' (OWASP)
                if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
                    row[column] = value[1:]
            for column in LIST_COLUMNS:
                row[column] = json.loads(row[column])
            for column, value in row.items():
                if value == "" and column not in ("body",):
                    row[column] = None
            for column in ("id", "word_count", "published_offset_minutes",
                           "modified_offset_minutes"):
                row[column] = None if row[column] is None else int(row[column])
            row["is_paywalled"] = row["is_paywalled"] == "True"
    else:
        import pyarrow.parquet as pq

        rows = pq.read_table(path).to_pylist()
    for row in rows:
        if isinstance(row["fetched_at"], str):
            row["fetched_at"] = datetime.fromisoformat(row["fetched_at"])
    return rows


def _expected(column: str, stored: dict, fmt: str):
    """A stored value as the format writes it: JSON Lines and CSV print the publisher's dates
    as written (their offset, a day alone for a day), Parquet keeps the instant."""
    key = column.removesuffix("_at")
    if fmt != "parquet" and column in ("published_at", "modified_at"):
        return as_written(stored[column], stored[f"{key}_offset_minutes"],
                          stored[f"{key}_precision"])
    return stored[column]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_export_round_trips_every_row_and_field(demo_run, tmp_path, fmt):
    url, _, _ = demo_run
    out = tmp_path / f"articles.{fmt}"
    result = newsdesk("export", "--format", fmt, "--out", str(out),
                      env={"NEWSDESK_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    stored = _stored(url)
    assert f"wrote {len(stored)} article(s)" in result.stdout
    exported = _read(out, fmt)
    assert len(exported) == len(stored) > 0
    for got, want in zip(exported, stored, strict=True):
        assert set(got) == set(COLUMNS)
        for column in COLUMNS:
            value, expected = got[column], _expected(column, want, fmt)
            if isinstance(value, datetime):
                assert value.astimezone(UTC) == expected.astimezone(UTC), column
            else:
                assert value == expected, (column, value, expected)
        if fmt != "parquet" and want["published_offset_minutes"] is not None:
            assert got["published_at"].endswith(  # the publisher's offset, not UTC's
                f"{want['published_offset_minutes'] // 60:+03d}:00")


@pytest.mark.slow
def test_export_filters_by_source_and_since(demo_run, tmp_path):
    url, site, _ = demo_run
    source = site.publishers[1].name
    since = datetime(2026, 3, 14, tzinfo=UTC)
    out = tmp_path / "some.jsonl"
    result = newsdesk("export", "--source", source, "--since", "2026-03-14", "--out", str(out),
                      env={"NEWSDESK_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    want = _stored(url, "source = %s AND coalesce(published_at, fetched_at) >= %s",
                   [source, since])
    got = _read(out, "jsonl")
    assert 0 < len(got) == len(want) < len(_stored(url))
    assert [r["id"] for r in got] == [r["id"] for r in want]


@pytest.mark.slow
def test_export_streams_from_a_server_side_cursor(demo_run):
    url, _, _ = demo_run
    with psycopg.connect(url) as conn:
        rows = iter_rows(conn)
        next(rows)
        cursors = [r[0] for r in conn.execute("SELECT name FROM pg_cursors")]
        rows.close()
    assert cursors == ["newsdesk_export"]


def test_export_unknown_source_is_one_line(db_url, tmp_path):
    result = newsdesk("export", "--source", "nosuch", "--out", str(tmp_path / "x.jsonl"))
    assert result.returncode == 1
    assert result.stderr.strip() == "newsdesk export: error: unknown source 'nosuch'"

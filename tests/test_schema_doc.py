"""docs/schema.md is generated from the database's comments and must be current.

Regenerate it with `newsdesk db schema-doc --out docs/schema.md`, or run this test with
NEWSDESK_UPDATE_SCHEMA_DOC=1 to rewrite it from a freshly migrated database.
"""

from __future__ import annotations

import os

import psycopg

from pipeline.outputs.schema_doc import generate
from tests.cli import newsdesk
from tests.repo import REPO_ROOT

SCHEMA_DOC = REPO_ROOT / "docs" / "schema.md"


def test_schema_doc_is_current(db_url):
    with psycopg.connect(db_url) as conn:
        text = generate(conn)
    if os.environ.get("NEWSDESK_UPDATE_SCHEMA_DOC"):
        SCHEMA_DOC.write_text(text, encoding="utf-8")
    committed = SCHEMA_DOC.read_text(encoding="utf-8") if SCHEMA_DOC.exists() else ""
    assert committed == text, (
        "docs/schema.md is stale: run `newsdesk db schema-doc --out docs/schema.md` "
        "(or this test with NEWSDESK_UPDATE_SCHEMA_DOC=1)"
    )


def test_schema_doc_lists_every_relation_and_column_with_its_comment(db_url):
    with psycopg.connect(db_url) as conn:
        text = generate(conn)
        comment = conn.execute(
            "SELECT col_description('v_source_health'::regclass, 1)").fetchone()[0]
    for name in ("articles", "sources", "v_articles", "v_daily_counts", "v_source_health"):
        assert f"### {name}\n" in text
    assert f"| `source` | text | yes | {comment} |" in text
    assert "`search_articles(" in text


def test_cli_writes_the_file(db_url, tmp_path):
    out = tmp_path / "schema.md"
    result = newsdesk("db", "schema-doc", "--out", str(out))
    assert result.returncode == 0, result.stderr
    with psycopg.connect(db_url) as conn:
        assert out.read_text() == generate(conn)

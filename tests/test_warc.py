"""WARC out and back in: a demo run's raw pages, re-imported into an empty database, give the
same articles."""

from __future__ import annotations

import psycopg
import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.cli import newsdesk
from tests.test_views import demo_run

__all__ = ["demo_run"]

pytestmark = pytest.mark.slow  # both tests read a crawl of the demo site (demo_run)

_ARTICLE_FIELDS = """SELECT canonical_url, url, source, title, description, authors, published_at,
                            modified_at, language, section, tags, body, content_hash, is_paywalled
                       FROM articles ORDER BY canonical_url"""


def test_export_warc_then_import_yields_the_same_articles(demo_run, db_url, tmp_path):
    source_url, _, sources = demo_run
    warc = tmp_path / "pages.warc.gz"
    out = newsdesk("export-warc", "--out", str(warc), env={"NEWSDESK_DATABASE_URL": source_url})
    assert out.returncode == 0, out.stderr
    with psycopg.connect(source_url) as conn:
        pages = conn.execute("SELECT count(*) FROM raw_pages").fetchone()[0]
        want = conn.execute(_ARTICLE_FIELDS).fetchall()
    assert f"wrote {pages} raw page(s)" in out.stdout
    with warc.open("rb") as fh:
        records = [r for r in ArchiveIterator(fh) if r.rec_type == "response"]
    assert len(records) == pages

    result = newsdesk("import-warc", str(warc), "--sources", str(sources), "--workers", "2")
    assert result.returncode == 0, result.stderr
    with psycopg.connect(db_url) as conn:
        got = conn.execute(_ARTICLE_FIELDS).fetchall()
        via = conn.execute("SELECT DISTINCT discovered_via FROM raw_pages").fetchall()
    assert via == [("import",)]
    assert len(got) == len(want) > 0
    assert got == want

    again = newsdesk("import-warc", str(warc), "--sources", str(sources))
    assert again.returncode == 0, again.stderr
    assert f"{pages} unchanged" in again.stdout


def test_import_warc_with_a_forced_source_and_a_bad_file(demo_run, db_url, tmp_path):
    source_url, site, sources = demo_run
    name = site.publishers[2].name
    warc = tmp_path / "one.warc.gz"
    out = newsdesk("export-warc", "--source", name, "--out", str(warc),
                   env={"NEWSDESK_DATABASE_URL": source_url})
    assert out.returncode == 0, out.stderr
    result = newsdesk("import-warc", str(warc), "--sources", str(sources), "--source", name)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(db_url) as conn:
        assert {r[0] for r in conn.execute("SELECT source FROM articles")} == {name}
    bad = tmp_path / "bad.warc"
    bad.write_bytes(b"this is not a warc\r\n\r\n")
    failed = newsdesk("import-warc", str(bad), "--sources", str(sources))
    assert failed.returncode == 1
    assert failed.stderr.startswith(f"newsdesk import-warc: error: {bad}: not a readable WARC")
    assert len(failed.stderr.strip().splitlines()) == 1

"""`newsdesk pages merged`: the raw pages fetched under a merged address before migration 0012
(issue 18, error 4), found from what each row stores. Real Postgres, the CLI in-process."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from datetime import UTC, datetime

import psycopg
import pytest

from pipeline.cli.main import main
from pipeline.outputs.merged_pages import merged_pages
from tests.test_migration_url_keys import _folder_up_to, _migrate_from

BASE = "http://example.com"


def _page(conn: psycopg.Connection, url: str, canonical: str | None,
          fetched: datetime = datetime(2026, 1, 1, tzinfo=UTC), **key: str) -> None:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    html = f"<html><head>{link}<title>t</title></head><body><p>{url}</p></body></html>".encode()
    columns = ", url_key" if key else ""
    conn.execute(
        f"""INSERT INTO raw_pages (source, url, final_url, status, html_gz, content_sha256,
                                   discovered_via, fetched_at{columns})
            VALUES ('s', %s, %s, 200, %s, %s, 'feed', %s{", %s" if key else ""})""",
        [url, url, gzip.compress(html), hashlib.sha256(html).digest(),
         fetched, *key.values()])


@pytest.fixture
def stored(empty_db_url: str, tmp_path, monkeypatch) -> str:
    """Rows the pre-0012 crawler stored (the URL fetched was the old key), then 0012 applied."""
    with psycopg.connect(empty_db_url) as conn:
        _migrate_from(_folder_up_to(tmp_path, 11), conn, monkeypatch)
        conn.execute("INSERT INTO sources (name, homepage, config) VALUES ('s', 'h', '{}')")
        _page(conn, f"{BASE}/story.php", f"{BASE}/story.php?12345")  # the valueless query lost
        _page(conn, f"{BASE}/index.php", "/index.php?/archives/123")  # relative canonical
        _page(conn, f"{BASE}/a%3Bjsessionid=X", None)  # `;` escaped
        _page(conn, f"{BASE}/fine?id=1", f"{BASE}/fine?id=1&utm_source=x")  # same key
        _page(conn, f"{BASE}/moved", f"{BASE}/elsewhere")  # a page's own rename, not the key's
        _page(conn, f"{BASE}/syndicated", "https://other.example/story.php?9")  # off site
        conn.commit()
        shutil.rmtree(tmp_path / "migrations")
        _migrate_from(_folder_up_to(tmp_path, 12), conn, monkeypatch)
        # Fetched after 0012: requested as discovered, never listed.
        _page(conn, f"{BASE}/b%3Bc", None, datetime.now(UTC), url_key=f"{BASE}/b%3Bc")
        conn.commit()
    return empty_db_url


def test_pages_fetched_under_the_old_lossy_key_are_listed_with_their_own_address(stored):
    with psycopg.connect(stored) as conn:
        found = {(p.url, p.address, p.rule) for p in merged_pages(conn)}
        assert not list(merged_pages(conn, "no_such_source"))
    assert found == {
        (f"{BASE}/story.php", f"{BASE}/story.php?12345", "canonical"),
        (f"{BASE}/index.php", f"{BASE}/index.php?/archives/123", "canonical"),
        (f"{BASE}/a%3Bjsessionid=X", None, "semicolon"),
    }


def test_the_command_prints_them(stored, capsys):
    assert main(["pages", "merged", "--source", "s"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[1:] == [
        f"s\tsemicolon\t{BASE}/a%3Bjsessionid=X\t-",
        f"s\tcanonical\t{BASE}/index.php\t{BASE}/index.php?/archives/123",
        f"s\tcanonical\t{BASE}/story.php\t{BASE}/story.php?12345",
    ]
    assert "3 pages fetched under a merged address" in err

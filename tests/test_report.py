"""The daily report after a demo run: one self-contained HTML file, charts present, escaped."""

from __future__ import annotations

from html.parser import HTMLParser

import psycopg

from tests.cli import newsdesk
from tests.test_views import demo_run

__all__ = ["demo_run"]


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_report_is_self_contained_with_charts(demo_run, tmp_path):
    url, site, _ = demo_run
    out = tmp_path / "report.html"
    result = newsdesk("report", "--date", "2026-03-15", "--out", str(out),
                      env={"NEWSDESK_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out.resolve())
    html = out.read_text(encoding="utf-8")
    parser = _Collect()
    parser.feed(html)
    tags = parser.tags
    # nothing fetched when it is opened: no scripts, stylesheets, images or frames from anywhere
    assert not [t for t, a in tags if t in ("script", "link", "img", "iframe")]
    assert "http" not in " ".join(a.get("src", "") + a.get("href", "") for _, a in tags)
    assert any(t == "svg" and a.get("id") == "chart-articles" for t, a in tags)
    assert sum(t == "rect" for t, _ in tags) > 3 * 3  # bars for three sources over some days
    for publisher in site.publishers:
        assert publisher.name in html
    assert 'id="table-completeness"' in html and 'id="table-fetches"' in html


def test_report_escapes_hostile_values(db_url, tmp_path):
    hostile = '<script>alert("x")</script>&<b>'
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO sources (name, homepage, config) VALUES ('evil', 'https://e/', '{}')")
        conn.execute(
            """INSERT INTO articles (canonical_url, url, source, title, body, word_count,
                                     content_hash, fetched_at, extractor_version, published_at)
               VALUES ('https://e/a', 'https://e/a', 'evil', %s, 'x', 1, 'h', now(), 't',
                       now())""",
            [hostile])
        conn.execute(
            """INSERT INTO crawl_runs (source, run_key, status, error)
               VALUES ('evil', 'k', 'failed', %s)""",
            [hostile])
    out = tmp_path / "r.html"
    result = newsdesk("report", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "<script" not in out.read_text(encoding="utf-8")


def test_report_bad_date_is_one_line(db_url, tmp_path):
    result = newsdesk("report", "--date", "yesterday", "--out", str(tmp_path / "r.html"))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "newsdesk report: error: --date: not a date (YYYY-MM-DD): 'yesterday'")

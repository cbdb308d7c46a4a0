"""The daily report after a demo run: one self-contained HTML file, charts present, escaped,
and rendered by a real browser (headless Chromium) without a console error."""

from __future__ import annotations

import struct
from collections import Counter
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import psycopg
import pytest

from pipeline.demo_site import DemoSite
from pipeline.outputs.report import DAYS
from tests.browser import open_page
from tests.cli import newsdesk
from tests.repo import REPO_ROOT
from tests.test_views import demo_database, truth_by_key

# The screenshot the browser test leaves for people to look at (build/ is git-ignored).
SCREENSHOT = REPO_ROOT / "build" / "test-artifacts" / "report.png"

# What the browser rendered: the title, scripts, each chart's box and its visible bars, tables.
PROBE = """({
  title: document.title,
  scripts: document.scripts.length,
  text: document.body.innerText,
  charts: [...document.querySelectorAll('svg[id^="chart-"]')].map(svg => {
    const box = svg.getBoundingClientRect();
    return {id: svg.id, width: box.width, height: box.height,
            bars: [...svg.querySelectorAll('rect')]
                    .filter(r => r.getBoundingClientRect().height > 0).length};
  }),
  tables: Object.fromEntries([...document.querySelectorAll('table[id]')]
                               .map(t => [t.id, t.rows.length])),
})"""


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def demo_report(pg_server_url, template_db, tmp_path_factory):
    """(report file, its day, the running demo site): `newsdesk report` after a demo run.

    The demo site is anchored at now, not at its default day in the past, so that the day's
    report has everything: articles published in its 14 days, and rows stored and crawled today.
    """
    site = DemoSite(seed=5, n_articles=90, anchor=datetime.now(UTC))
    home = tmp_path_factory.mktemp("home")
    with demo_database(pg_server_url, template_db, home, site) as (url, running, _):
        day = datetime.now(UTC).date()  # after the run: the day its rows were stored
        out = tmp_path_factory.mktemp("report") / "report.html"
        result = newsdesk("report", "--date", str(day), "--out", str(out),
                          env={"NEWSDESK_DATABASE_URL": url})
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == str(out.resolve())
        yield out, day, running


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.mark.slow
def test_report_is_self_contained_with_charts(demo_report):
    report, _, site = demo_report
    html = report.read_text(encoding="utf-8")
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


@pytest.mark.slow
def test_report_renders_in_chromium_with_its_charts(demo_report):
    report, report_day, site = demo_report
    first_day = report_day - timedelta(days=DAYS - 1)
    days_with_articles = Counter(
        (t.publisher, day) for t in truth_by_key(site).values()
        if first_day <= (day := t.published_at.date()) <= report_day)  # publisher's day
    page = open_page(report, PROBE)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.write_bytes(page.screenshot)
    assert page.errors == []
    assert page.probe["title"] == f"newsdesk report {report_day}"
    [chart] = page.probe["charts"]
    assert chart["id"] == "chart-articles" and chart["width"] > 500 and chart["height"] > 100
    assert chart["bars"] == len(days_with_articles)  # one visible bar per source and day
    assert page.probe["tables"]["table-completeness"] == 1 + len(site.publishers)
    assert page.probe["tables"]["table-fetches"] == 1 + len(site.publishers)
    width, height = _png_size(SCREENSHOT.read_bytes())
    assert width >= 1000 and height > 900  # the whole page, taller than the window


@pytest.mark.slow
def test_browser_check_sees_errors_and_scripts(demo_report, tmp_path):
    """The check above can fail: a broken script in a copy of the report is seen, and runs."""
    broken = tmp_path / "broken.html"
    broken.write_text(demo_report[0].read_text(encoding="utf-8").replace(
        "</body>", '<script>document.title = "pwned"; no_such_function();</script></body>'))
    page = open_page(broken, PROBE)
    assert page.probe["title"] == "pwned" and page.probe["scripts"] == 1
    assert any("no_such_function is not defined" in error for error in page.errors), page.errors


@pytest.mark.slow
def test_report_escapes_hostile_values(db_url, tmp_path):
    hostile = '<script>document.title = "pwned"</script>&<b>'
    with psycopg.connect(db_url) as conn:
        conn.execute("""INSERT INTO sources (name, homepage, config)
                        VALUES ('evil', 'https://e/', '{}'), ('evil2', 'https://e2/', '{}')""")
        story = conn.execute("INSERT INTO stories DEFAULT VALUES RETURNING id").fetchone()[0]
        # two copies of one story: the report lists the story under its first headline
        for source, url in (("evil", "https://e/a"), ("evil2", "https://e2/a")):
            conn.execute(
                """INSERT INTO articles (canonical_url, url, source, title, body, word_count,
                                         content_hash, fetched_at, extractor_version,
                                         published_at, story_id)
                   VALUES (%s, %s, %s, %s, 'x', 1, 'h', now(), 't', now(), %s)""",
                [url, url, source, hostile, story])
        conn.execute(
            """INSERT INTO crawl_runs (source, run_key, status, error)
               VALUES ('evil', 'k', 'failed', %s)""",
            [hostile])
    out = tmp_path / "r.html"
    result = newsdesk("report", "--out", str(out))
    assert result.returncode == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html and "&lt;script&gt;document.title" in html
    page = open_page(out, PROBE)
    assert page.errors == [] and page.probe["scripts"] == 0
    assert page.probe["title"].startswith("newsdesk report ")
    assert hostile in page.probe["text"]  # shown as text, not run


def test_report_bad_date_is_one_line(db_url, tmp_path):
    result = newsdesk("report", "--date", "yesterday", "--out", str(tmp_path / "r.html"))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "newsdesk report: error: --date: not a date (YYYY-MM-DD): 'yesterday'")

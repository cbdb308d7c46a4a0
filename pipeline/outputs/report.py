"""The daily report: one self-contained HTML file (inline CSS and SVG, no scripts, no network).

Charts are drawn here as SVG rather than with a charting library: a few bars need no
dependency, and the file must open offline. Every value from the database is HTML-escaped.
"""

from __future__ import annotations

from datetime import date, timedelta
from html import escape
from pathlib import Path

import psycopg

from pipeline.atomic import atomic_write
from pipeline.sources.alerts import COMPLETENESS_FIELDS, Alert, check_all

DAYS = 14
_PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
            "#ff9da7", "#9c755f", "#bab0ac"]

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:3px 8px;border-bottom:1px solid #eee;
text-align:right}td:first-child,th:first-child{text-align:left}.alert{color:#b00}
.ok{color:#080}.bar{display:inline-block;height:10px;background:#4e79a7;vertical-align:middle}
svg text{font:11px system-ui,sans-serif}.legend span{display:inline-block;margin-right:1em}
"""


def _e(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def _articles_chart(rows: list[tuple], days: list[date]) -> str:
    """Grouped bars: articles published per source per day."""
    sources = sorted({r[0] for r in rows})
    counts = {(s, d): n for s, d, n in rows}
    top = max([n for _, _, n in rows] + [1])
    width, height, left, bottom = 1000, 240, 40, 40
    slot = (width - left) / len(days)
    bar = max(1.0, (slot - 6) / max(1, len(sources)))
    parts = [f'<svg id="chart-articles" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height}" role="img" aria-label="articles per source per day">']
    for tick in (0, top // 2, top):
        y = height - bottom - tick / top * (height - bottom - 10)
        parts.append(f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    for i, day in enumerate(days):
        x0 = left + i * slot + 3
        for j, source in enumerate(sources):
            n = counts.get((source, day), 0)
            h = n / top * (height - bottom - 10)
            parts.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{height - bottom - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{_PALETTE[j % len(_PALETTE)]}">'
                f"<title>{_e(source)} {day}: {n}</title></rect>")
        parts.append(f'<text x="{x0 + slot / 2 - 3:.1f}" y="{height - bottom + 14}" '
                     f'text-anchor="middle">{day:%m-%d}</text>')
    parts.append("</svg>")
    legend = "".join(
        f'<span><svg width="10" height="10"><rect width="10" height="10" '
        f'fill="{_PALETTE[j % len(_PALETTE)]}"/></svg> {_e(s)}</span>'
        for j, s in enumerate(sources))
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def _pct_bar(part: int, whole: int) -> str:
    share = part / whole if whole else 0
    return (f'<span class="bar" style="width:{share * 80:.0f}px"></span> {share:.0%}')


def build_report(conn: psycopg.Connection, day: date, alerts: list[Alert] | None = None) -> str:
    """The report for `day` as one HTML document; `alerts` are the day's health alerts when the
    caller has already checked them (`check_all`). Articles count on their publisher's calendar
    day (`articles.published_date`), crawl figures on UTC days."""
    start = day - timedelta(days=DAYS - 1)
    days = [start + timedelta(days=i) for i in range(DAYS)]
    counts = conn.execute(
        """SELECT source, day, sum(articles)::int FROM v_daily_counts
            WHERE day BETWEEN %s AND %s GROUP BY 1, 2""", [start, day]).fetchall()
    completeness = conn.execute(
        f"""SELECT source, sum(articles)::int,
                   {", ".join(f"sum(with_{f})::int" for f in COMPLETENESS_FIELDS)},
                   sum(with_section)::int, sum(with_image)::int
              FROM v_field_completeness WHERE day BETWEEN %s AND %s
             GROUP BY 1 ORDER BY 1""", [start, day]).fetchall()
    fetches = conn.execute(
        """SELECT source, sum(runs)::int, sum(runs_failed)::int, sum(requests)::int,
                  sum(pages_fetched)::int, sum(pages_failed)::int, sum(blocked)::int,
                  sum(extract_errors)::int
             FROM v_source_daily WHERE day BETWEEN %s AND %s GROUP BY 1 ORDER BY 1""",
        [start, day]).fetchall()
    if alerts is None:
        alerts = check_all(conn, today=day)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>newsdesk report {day}</title><style>{_CSS}</style></head><body>",
        f"<h1>newsdesk daily report, {day}</h1>",
        f"<p>The {DAYS} days from {start} to {day}: articles on the day their publisher dated "
        "them, crawl figures on UTC days.</p>",
        '<h2 id="health">Source health</h2>',
    ]
    if alerts:
        out.append("<table><tr><th>source</th><th>rule</th><th>what</th></tr>")
        out += [f'<tr class="alert"><td>{_e(a.source)}</td><td>{_e(a.rule)}</td>'
                f"<td>{_e(a.message)}</td></tr>" for a in alerts]
        out.append("</table>")
    else:
        out.append('<p class="ok">No alerts: every source is normal for itself.</p>')
    out += ['<h2 id="articles">Articles per source per day (publication date)</h2>',
            _articles_chart(counts, days)]
    out.append('<h2 id="completeness">Field completeness per source</h2>'
               '<table id="table-completeness"><tr><th>source</th><th>articles</th>'
               + "".join(f"<th>{_e(f)}</th>" for f in (*COMPLETENESS_FIELDS, "section", "image"))
               + "</tr>")
    for source, total, *present in completeness:
        out.append(f"<tr><td>{_e(source)}</td><td>{total}</td>"
                   + "".join(f"<td>{_pct_bar(p, total)}</td>" for p in present) + "</tr>")
    out.append("</table>")
    out.append('<h2 id="fetches">Fetch errors and blocked pages</h2><table id="table-fetches"><tr>'
               "<th>source</th><th>runs</th><th>failed runs</th><th>requests</th>"
               "<th>pages</th><th>failed</th><th>blocked</th><th>no article</th></tr>")
    for source, *figures in fetches:
        out.append(f"<tr><td>{_e(source)}</td>"
                   + "".join(f"<td>{_e(f)}</td>" for f in figures) + "</tr>")
    out.append("</table>")
    out += _stories_section(conn, start, day)
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_report(conn: psycopg.Connection, day: date, out: Path,
                 alerts: list[Alert] | None = None) -> None:
    """Build the report for `day` and write it to `out` whole or not at all: a reader (a web
    folder, the next run) never sees half a report, and a failure keeps the previous one."""
    html = build_report(conn, day, alerts)
    with atomic_write(out) as tmp:
        tmp.write_text(html, encoding="utf-8")


def _stories_section(conn: psycopg.Connection, start: date, day: date) -> list[str]:
    """Duplicates and the most widely spread stories, when the dedupe schema is present."""
    has_stories = conn.execute(
        """SELECT 1 FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name = 'articles'
              AND column_name = 'story_id'""").fetchone()
    if not has_stories:
        return []
    rows = conn.execute(
        """SELECT a.story_id, count(*)::int, count(DISTINCT a.source)::int,
                  (array_agg(a.title ORDER BY a.published_at NULLS LAST, a.id))[1]
             FROM articles a
            WHERE a.story_id IS NOT NULL
              AND a.published_date BETWEEN %s AND %s
            GROUP BY a.story_id HAVING count(*) > 1
            ORDER BY 3 DESC, 2 DESC, 1 LIMIT 10""", [start, day]).fetchall()
    out = ['<h2 id="stories">Duplicates and stories</h2>']
    if not rows:
        return [*out, "<p>No story with more than one article in these days.</p>"]
    out.append("<table><tr><th>first headline</th><th>articles</th><th>sources</th></tr>")
    out += [f"<tr><td>{_e(title)}</td><td>{n}</td><td>{s}</td></tr>" for _, n, s, title in rows]
    out.append("</table>")
    return out

"""Source-health rules: notice a source breaking before the analysts do.

Each rule compares a source's latest day with its own recent history (v_source_daily and
v_field_completeness), never with other sources: a small weekly and a big daily publisher
are both normal for themselves.

- yield collapse: the latest day's new articles fell far below the source's usual day;
- completeness drop: a field (date, authors, title, ...) that was almost always there vanished,
  which usually means the site changed its layout;
- rising errors: the share of failed or blocked requests jumped;
- stale: no new article for N days.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import psycopg

COMPLETENESS_FIELDS = ("title", "published_at", "authors", "language")


@dataclass
class Day:
    """One source's figures for one UTC day."""

    day: date
    articles_new: int = 0
    requests: int = 0
    pages_fetched: int = 0
    pages_failed: int = 0
    blocked: int = 0
    extract_errors: int = 0
    articles: int = 0  # first stored that day: the completeness denominator
    present: dict[str, int] = field(default_factory=dict)  # field -> articles that have it


@dataclass(frozen=True)
class Rules:
    history_days: int = 7  # how far back "usual" looks
    collapse_ratio: float = 0.25  # latest < 25% of the usual day is a collapse...
    collapse_min_usual: float = 5  # ...when the usual day has at least this many articles
    completeness_min_before: float = 0.8  # a field present in >= 80% of articles before...
    completeness_drop: float = 0.5  # ...and in 50 points fewer now has vanished
    completeness_min_articles: int = 5
    error_rate_floor: float = 0.2  # failed+blocked share must exceed this...
    error_rate_factor: float = 3.0  # ...and this multiple of the usual share
    error_min_requests: int = 10
    stale_days: int = 3


@dataclass(frozen=True)
class Alert:
    source: str
    rule: str  # yield_collapse, completeness_drop, error_rate, stale
    message: str


def check_source(
    source: str,
    history: list[Day],
    *,
    last_new_article_at: datetime | None,
    now: datetime,
    rules: Rules = Rules(),
) -> list[Alert]:
    """The alerts for one source; `history` is its days in order, the latest last."""
    alerts: list[Alert] = []
    if history:
        latest, before = history[-1], history[-1 - rules.history_days : -1]
        alerts += _collapse(source, latest, before, rules)
        alerts += _completeness(source, latest, before, rules)
        alerts += _errors(source, latest, before, rules)
    if last_new_article_at is not None:
        idle = (now - last_new_article_at).total_seconds() / 86400
        if idle >= rules.stale_days:
            alerts.append(Alert(source, "stale", f"no new article for {int(idle)} days"))
    return alerts


def _collapse(source: str, latest: Day, before: list[Day], rules: Rules) -> list[Alert]:
    if len(before) < 3:
        return []
    usual = statistics.median(d.articles_new for d in before)
    if usual >= rules.collapse_min_usual and latest.articles_new < rules.collapse_ratio * usual:
        return [Alert(source, "yield_collapse",
                      f"{latest.articles_new} new articles on {latest.day}, usually {usual:g}")]
    return []


def _completeness(source: str, latest: Day, before: list[Day], rules: Rules) -> list[Alert]:
    total_before = sum(d.articles for d in before)
    if latest.articles < rules.completeness_min_articles or total_before == 0:
        return []
    alerts = []
    for name in COMPLETENESS_FIELDS:
        share_before = sum(d.present.get(name, 0) for d in before) / total_before
        share_now = latest.present.get(name, 0) / latest.articles
        if (share_before >= rules.completeness_min_before
                and share_now <= share_before - rules.completeness_drop):
            alerts.append(Alert(
                source, "completeness_drop",
                f"{name} in {share_now:.0%} of articles on {latest.day}, "
                f"usually {share_before:.0%}: a layout change?"))
    return alerts


def _bad_share(days: list[Day]) -> tuple[float, int]:
    requests = sum(d.requests for d in days)
    bad = sum(d.pages_failed + d.blocked for d in days)
    return (bad / requests if requests else 0.0), requests


def _errors(source: str, latest: Day, before: list[Day], rules: Rules) -> list[Alert]:
    now_share, requests = _bad_share([latest])
    usual, _ = _bad_share(before)
    if (requests >= rules.error_min_requests and now_share > rules.error_rate_floor
            and now_share > rules.error_rate_factor * usual):
        return [Alert(source, "error_rate",
                      f"{now_share:.0%} of requests failed or blocked on {latest.day}, "
                      f"usually {usual:.0%}")]
    return []


# --- from the database ----------------------------------------------------------------------

_DAILY = """
SELECT source, day, articles_new, requests, pages_fetched, pages_failed, blocked, extract_errors
  FROM v_source_daily WHERE day BETWEEN %(start)s AND %(end)s
"""
_COMPLETENESS = """
SELECT source, day, articles, with_title, with_published_at, with_authors, with_language
  FROM v_field_completeness WHERE day BETWEEN %(start)s AND %(end)s
"""
_LAST_NEW = "SELECT source, last_new_article_at FROM v_source_health WHERE active"


def load_histories(conn: psycopg.Connection, end: date, days: int) -> dict[str, list[Day]]:
    """Each source's Day records from `days` days before `end` up to `end`, oldest first."""
    params = {"start": end - timedelta(days=days), "end": end}
    by_key: dict[tuple[str, date], Day] = {}
    for source, day, *figures in conn.execute(_DAILY, params):
        by_key[(source, day)] = Day(day, *(int(f or 0) for f in figures))
    for source, day, articles, *present in conn.execute(_COMPLETENESS, params):
        d = by_key.setdefault((source, day), Day(day))
        d.articles = articles
        d.present = dict(zip(COMPLETENESS_FIELDS, present, strict=True))
    histories: dict[str, list[Day]] = {}
    for (source, _), d in sorted(by_key.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        histories.setdefault(source, []).append(d)
    return histories


def check_all(
    conn: psycopg.Connection, *, today: date | None = None, rules: Rules = Rules()
) -> list[Alert]:
    """Every active source's alerts, as of `today` (UTC; default: now)."""
    now = datetime.now(UTC)
    today = today or now.date()
    as_of = min(now, datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC))
    histories = load_histories(conn, today, rules.history_days)
    alerts: list[Alert] = []
    for source, last_new in conn.execute(_LAST_NEW).fetchall():
        alerts += check_source(source, histories.get(source, []),
                               last_new_article_at=last_new, now=as_of, rules=rules)
    return alerts

"""Source health for `newsdesk sources list`: last run, last success, recent articles, verdict.

One query over crawl_runs and articles per listing; the verdict is a pure function of its row,
so the rules are tested without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

_HEALTH = """
SELECT s.name,
       last.started_at, last.status, last.error, last.stats,
       (SELECT max(finished_at) FROM crawl_runs r
         WHERE r.source = s.name AND r.status = 'success') AS last_success,
       (SELECT count(*) FROM articles a
         WHERE a.source = s.name AND a.created_at > now() - interval '7 days') AS articles_7d
  FROM sources s
  LEFT JOIN LATERAL (
       SELECT started_at, status, error, stats FROM crawl_runs r
        WHERE r.source = s.name ORDER BY started_at DESC LIMIT 1) last ON true
 WHERE s.name = ANY(%s)
"""


@dataclass(frozen=True)
class Health:
    name: str
    last_run: datetime | None
    last_status: str | None
    last_error: str | None
    last_stats: dict
    last_success: datetime | None
    articles_7d: int


def fetch_health(conn: psycopg.Connection, names: list[str]) -> dict[str, Health]:
    rows = conn.execute(_HEALTH, (names,)).fetchall()
    return {r[0]: Health(r[0], r[1], r[2], r[3], r[4] or {}, r[5], int(r[6] or 0)) for r in rows}


def verdict(
    health: Health | None,
    active: bool,
    now: datetime | None = None,
    trends: Sequence[str] = (),
) -> str:
    """A one-phrase health verdict an ops engineer can act on.

    The last run's state comes first (failing, stuck, blocked, stale); then `trends`, the
    messages of `pipeline.sources.alerts`'s rules that compare the source with its own history.
    """
    now = now or datetime.now(UTC)
    if not active:
        return "inactive"
    if health is None or health.last_run is None:
        return "never crawled"
    stats = health.last_stats
    if health.last_status == "failed":
        since = "never succeeded" if health.last_success is None else "failing"
        return f"{since}: {health.last_error or 'unknown error'}"
    if health.last_status == "running" and health.last_run < now - timedelta(hours=6):
        return "stuck: a run started over 6 hours ago never finished"
    requests = stats.get("article_requests", 0)
    blocked = stats.get("blocked", 0) + stats.get("robots_denied", 0)
    if blocked and blocked >= max(requests, 1) // 2:
        return f"blocked: {blocked} pages refused by a bot wall or robots.txt in the last run"
    if health.last_success and health.last_success < now - timedelta(days=2):
        return "stale: no successful run in 2 days"
    if trends:
        return "; ".join(trends)
    if health.articles_7d == 0:
        return "no new articles in 7 days"
    return "ok"

"""Source-health rules on constructed histories: each fires on its failure, none when normal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg

from pipeline.sources.alerts import COMPLETENESS_FIELDS, Day, check_all, check_source

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)


def normal_week(n: int = 8) -> list[Day]:
    days = []
    for i in range(n):
        articles = 20 + (i % 3)  # a little day-to-day noise
        days.append(Day(
            day=date(2026, 3, 15) - timedelta(days=n - 1 - i), articles_new=articles,
            requests=100, pages_fetched=articles, pages_failed=2, blocked=0, extract_errors=1,
            articles=articles, present=dict.fromkeys(COMPLETENESS_FIELDS, articles),
        ))
    return days


def rules_fired(history, last_new=NOW - timedelta(hours=2)) -> set[str]:
    return {a.rule for a in check_source("s", history, last_new_article_at=last_new, now=NOW)}


def test_a_normal_week_raises_nothing():
    assert rules_fired(normal_week()) == set()


def test_a_slow_but_steady_source_is_normal_for_itself():
    week = normal_week()
    for d in week:
        d.articles_new = d.articles = d.pages_fetched = 2
        d.present = dict.fromkeys(COMPLETENESS_FIELDS, 2)
    week[-1].articles_new = 0  # a quiet day at a tiny source is no collapse
    assert rules_fired(week) == set()


def test_yield_collapse_fires():
    week = normal_week()
    week[-1].articles_new = 3
    alerts = check_source("s", week, last_new_article_at=NOW, now=NOW)
    assert [a.rule for a in alerts] == ["yield_collapse"]
    assert "3 new articles" in alerts[0].message


def test_completeness_drop_fires_when_dates_vanish():
    week = normal_week()
    week[-1].present["published_at"] = 1
    alerts = check_source("s", week, last_new_article_at=NOW, now=NOW)
    assert [a.rule for a in alerts] == ["completeness_drop"]
    assert "published_at" in alerts[0].message


def test_rising_error_rate_fires():
    week = normal_week()
    week[-1].blocked = 40  # 403s and 429s: the site started blocking us
    assert rules_fired(week) == {"error_rate"}


def test_stale_source_fires():
    assert rules_fired(normal_week(), last_new=NOW - timedelta(days=4)) == {"stale"}
    assert rules_fired(normal_week(), last_new=NOW - timedelta(days=2)) == set()


def test_check_all_on_a_database_history(db_url):
    """Constructed crawl_runs and articles: a broken source alerts, a healthy one does not."""
    today = date.today()
    with psycopg.connect(db_url) as conn:
        for name in ("good", "broken"):
            conn.execute("INSERT INTO sources (name, homepage, config) VALUES (%s, %s, '{}')",
                         [name, f"https://{name}.example/"])
        for back in range(8):
            day = datetime.combine(today - timedelta(days=back), datetime.min.time(), UTC)
            for name in ("good", "broken"):
                new = 2 if (name == "broken" and back == 0) else 20
                blocked = 50 if (name == "broken" and back == 0) else 0
                conn.execute(
                    """INSERT INTO crawl_runs (source, run_key, status, started_at, finished_at,
                                               pages_fetched, articles_new, stats)
                       VALUES (%s, %s, 'success', %s, %s, %s, %s, %s)""",
                    [name, f"k{back}", day + timedelta(hours=1), day + timedelta(hours=2), new,
                     new, psycopg.types.json.Jsonb(
                         {"requests": 100, "responses_by_status": {"403": blocked}})])
        conn.execute(
            """INSERT INTO articles (canonical_url, url, source, body, word_count, content_hash,
                                     fetched_at, extractor_version)
               VALUES ('https://good.example/a', 'https://good.example/a', 'good', 'x', 1, 'h',
                       now(), 't'),
                      ('https://broken.example/a', 'https://broken.example/a', 'broken', 'x', 1,
                       'h2', now() - interval '5 days', 't')""")
        conn.execute("UPDATE articles SET created_at = fetched_at")
        conn.commit()
        alerts = check_all(conn, today=today)
    assert {(a.source, a.rule) for a in alerts} == {
        ("broken", "yield_collapse"), ("broken", "error_rate"), ("broken", "stale")
    }

"""
### news_maintenance: keep the corpus current and the database healthy

Weekly (Sunday 03:00 in `NEWSDESK_TIMEZONE`; cron in `NEWSDESK_MAINTENANCE_SCHEDULE`):

1. **reprocess**: when the extractor version changed, re-extract the pages an older version
   processed (no refetch; skipped when every page is current).
2. **refresh_views**: refresh every materialised view (concurrently where a unique index allows).
3. **prune_raw_pages**: delete processed raw pages fetched more than `retention_days` before the
   run's data interval end (pages still pending or waiting for reprocessing are kept).
4. **analyze**: ANALYZE, so the planner's statistics follow the corpus.

Same database and sources file settings as `news_daily`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from airflow.sdk import (
    CronDataIntervalTimetable,
    Param,
    TriggerRule,
    dag,
    get_current_context,
    task,
)

from pipeline.airflow.notifier import NewsdeskAlertNotifier

SCHEDULE = os.environ.get("NEWSDESK_MAINTENANCE_SCHEDULE", "0 3 * * 0")
TIMEZONE = os.environ.get("NEWSDESK_TIMEZONE", "UTC")
RETRY_DELAY = timedelta(seconds=float(os.environ.get("NEWSDESK_RETRY_DELAY", "300")))


@dag(
    dag_id="news_maintenance",
    schedule=CronDataIntervalTimetable(SCHEDULE, timezone=TIMEZONE),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["newsdesk"],
    default_args={
        "owner": "newsdesk",
        "retries": 1,
        "retry_delay": RETRY_DELAY,
        "execution_timeout": timedelta(hours=6),
    },
    params={
        "retention_days": Param(
            90, type="integer", minimum=1, title="Raw page retention (days)",
            description="Processed raw pages older than this are deleted.",
        ),
        "sources_file": Param(None, type=["null", "string"], minLength=1, title="Sources file"),
    },
    on_failure_callback=NewsdeskAlertNotifier(),
)
def news_maintenance():
    @task
    def reprocess(params: dict | None = None) -> int:
        from airflow.sdk.exceptions import AirflowSkipException

        from pipeline.airflow import settings
        from pipeline.airflow.maintenance import outdated_pages, reprocess_outdated

        url = settings.database_url()
        if not outdated_pages(database_url=url):
            raise AirflowSkipException("every page was processed by the current extractor")
        return reprocess_outdated(
            sources_path=settings.sources_path(params["sources_file"]), database_url=url
        )

    @task(trigger_rule=TriggerRule.NONE_FAILED)
    def refresh_views() -> list[str]:
        from pipeline.airflow import settings
        from pipeline.airflow.maintenance import refresh_materialized_views

        return refresh_materialized_views(database_url=settings.database_url())

    @task(trigger_rule=TriggerRule.NONE_FAILED)
    def prune_raw_pages(params: dict | None = None) -> int:
        from pipeline.airflow import settings
        from pipeline.airflow.maintenance import prune_raw_pages

        context = get_current_context()
        reference = context.get("data_interval_end") or context["dag_run"].run_after
        return prune_raw_pages(
            params["retention_days"], reference, database_url=settings.database_url()
        )

    @task(trigger_rule=TriggerRule.NONE_FAILED)
    def analyze() -> None:
        from pipeline.airflow import settings
        from pipeline.airflow.maintenance import analyze

        analyze(database_url=settings.database_url())

    reprocess() >> refresh_views() >> prune_raw_pages() >> analyze()


news_maintenance()
